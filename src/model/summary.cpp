#include "model/summary.hpp"

#include <algorithm>
#include <cmath>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <fmt/format.h>

#include "model/forecast.hpp"
#include "model/alert_log_json.hpp"
#include "model/json.hpp"
#include "model/metrics_json.hpp"
#include "model/series.hpp"

namespace medianest {

namespace {

/// Distance past `from` toward `to`, as a share of the way (0 at from, 1 at to).
double progress(double v, double from, double to) {
  return to == from ? (v >= to ? 1.0 : 0.0) : (v - from) / (to - from);
}

double threshold_of(std::string_view metric, bool critical) {
  for (const auto& m : builtin_metrics())
    if (m.name == metric)
      return critical ? *m.critical : *m.warning;
  return 0;
}

std::string percent(double fraction) {
  return fmt::format("{:.1f}%", fraction * 100);
}

} // namespace

double indicator_score(const indicator& x) noexcept {
  // Mirror lower-is-worse indicators so that "higher is worse" holds below.
  auto v = x.lower_is_worse ? -x.value : x.value;
  auto o = x.lower_is_worse ? -x.optimal : x.optimal;
  auto w = x.lower_is_worse ? -x.warning : x.warning;
  auto c = x.lower_is_worse ? -x.critical : x.critical;
  if (v <= o)
    return 100;
  if (v <= w)
    return 100 - 25 * progress(v, o, w);
  if (v <= c)
    return 75 - 50 * progress(v, w, c);
  auto beyond = c + (c - o);
  return std::max(0.0, 25 - 25 * progress(v, c, beyond));
}

std::string indicator_status(const std::vector<indicator>& xs) {
  if (xs.empty())
    return "unknown";
  bool warning = false, critical = false, all_optimal = true;
  for (const auto& x : xs) {
    auto past = [&](double t) { return x.lower_is_worse ? x.value <= t : x.value >= t; };
    critical = critical || past(x.critical);
    warning = warning || past(x.warning);
    all_optimal = all_optimal && (x.lower_is_worse ? x.value >= x.optimal : x.value <= x.optimal);
  }
  if (critical)
    return "critical";
  if (warning)
    return "degraded";
  return all_optimal ? "optimal" : "good";
}

std::optional<int> overall_score(const std::vector<indicator>& xs) {
  if (xs.empty())
    return std::nullopt;
  double sum = 0, min = 100;
  for (const auto& x : xs) {
    auto s = indicator_score(x);
    sum += s;
    min = std::min(min, s);
  }
  return static_cast<int>(std::lround((sum / static_cast<double>(xs.size()) + min) / 2));
}

std::vector<indicator> indicators_of(const snapshot& s) {
  std::vector<indicator> out;
  if (s.api.available() && s.api.value->requests_per_minute > 0) {
    out.push_back({"responseTime", s.api.value->p95_response_time, 200,
                   threshold_of("response_time", false), threshold_of("response_time", true)});
    out.push_back({"errorRate", s.api.value->error_rate, 0.01, threshold_of("error_rate", false),
                   threshold_of("error_rate", true)});
  }
  if (s.system.available()) {
    out.push_back({"memoryUsage", s.system.value->memory.percentage, 70,
                   threshold_of("memory", false), threshold_of("memory", true)});
    out.push_back({"cpuUsage", s.system.value->cpu.usage, 50, threshold_of("cpu", false),
                   threshold_of("cpu", true)});
  }
  if (s.cache.available() && s.cache.value->gets > 0)
    out.push_back({"cacheHitRate", s.cache.value->hit_rate, 0.85,
                   threshold_of("cache_hit_rate", false), threshold_of("cache_hit_rate", true),
                   true});
  return out;
}

trend trend_of(const std::optional<double>& last, const std::optional<double>& previous,
               bool lower_is_worse) {
  trend t;
  if (!last || !previous || *previous == 0)
    return t;
  auto change = (*last - *previous) / std::abs(*previous) * 100.0;
  t.change = std::round(change * 10) / 10;
  if (std::abs(change) < 5)
    t.direction = "stable";
  else if ((change < 0) != lower_is_worse)
    t.direction = "improving";
  else
    t.direction = "degrading";
  return t;
}

std::vector<std::string> recommendations_of(const snapshot& s, const summary_sql_data& data,
                                            int64_t now_unix) {
  std::vector<std::string> out;
  auto rt_warning = threshold_of("response_time", false);
  if (s.api.available()) {
    const auto& api = *s.api.value;
    for (const auto& e : api.slowest_endpoints) {
      // The slowest GET route that is slow enough to matter: a caching candidate.
      if (e.method == "GET" && e.average_time >= rt_warning / 2) {
        out.push_back(fmt::format(
          "Consider caching GET {}: it averaged {:.0f} ms over the last minute ({} requests); "
          "the cache_strategy optimization can give it a response-cache TTL",
          e.path, e.average_time, e.count));
        break;
      }
    }
    if (api.requests_per_minute > 0 && api.p95_response_time >= rt_warning)
      out.push_back(fmt::format("p95 response time is {:.0f} ms, past the {:.0f} ms warning "
                                "threshold: look at the slowest endpoints first",
                                api.p95_response_time, rt_warning));
    if (api.requests_per_minute > 0 && api.error_rate >= threshold_of("error_rate", false))
      out.push_back(fmt::format("{} of the requests of the last minute failed with a 5xx "
                                "status: check the upstream and its dependencies",
                                percent(api.error_rate)));
  }
  if (s.cache.available() && s.cache.value->gets > 0
      && s.cache.value->hit_rate < threshold_of("cache_hit_rate", false))
    out.push_back(fmt::format("Cache hit rate is {} (warning below {}): review TTLs and key "
                              "patterns, or run the cache_strategy optimization",
                              percent(s.cache.value->hit_rate),
                              percent(threshold_of("cache_hit_rate", false))));
  if (s.system.available()) {
    const auto& sys = *s.system.value;
    if (sys.cpu.usage >= threshold_of("cpu", false))
      out.push_back(fmt::format("CPU usage is {:.1f}% (warning at {:.0f}%) on {} cores",
                                sys.cpu.usage, threshold_of("cpu", false), sys.cpu.cores));
    if (sys.disk.percentage >= threshold_of("disk", false))
      out.push_back(fmt::format("The data directory's filesystem is {:.1f}% full: history and "
                                "logs need room to grow",
                                sys.disk.percentage));
    auto mem_warning = threshold_of("memory", false);
    if (sys.memory.percentage >= mem_warning) {
      out.push_back(fmt::format("Memory usage is {:.1f}% (warning at {:.0f}%): the "
                                "memory_cleanup optimization returns freed heap and drops caches",
                                sys.memory.percentage, mem_warning));
    } else {
      std::vector<forecast_point> series;
      for (const auto& r : data.memory_hours)
        if (r.count)
          series.push_back({r.start, r.sum / static_cast<double>(r.count)});
      auto f = holt_forecast(series, resolution_1h, 7 * 24, 2, mem_warning,
                             threshold_of("memory", true), false);
      if (f && f->warning && f->warning->at && f->trend > 0)
        out.push_back(fmt::format(
          "Memory usage is rising {:.2f} points a day and would reach the {:.0f}% warning "
          "threshold around {}",
          f->trend * 86400, mem_warning,
          iso8601(sys_ms{std::chrono::seconds(*f->warning->at)}).substr(0, 10)));
    }
  }
  (void) now_unix;
  if (out.empty() && indicator_status(indicators_of(s)) == "optimal")
    out.push_back("All performance metrics are within optimal ranges");
  return out;
}

boost::json::object current_metrics_json(const snapshot& s) {
  boost::json::object metrics;
  metrics["responseTime"] = s.api.available() ? boost::json::value(round2(s.api.value->average_response_time)) : nullptr;
  metrics["memoryUsage"] = s.system.available() ? boost::json::value(round2(s.system.value->memory.percentage)) : nullptr;
  metrics["cpuUsage"] = s.system.available() ? boost::json::value(round2(s.system.value->cpu.usage)) : nullptr;
  metrics["errorRate"] = s.api.available() ? boost::json::value(std::round(s.api.value->error_rate * 10000) / 10000) : nullptr;
  metrics["cacheHitRate"] = s.cache.available() && s.cache.value->gets > 0 ? boost::json::value(std::round(s.cache.value->hit_rate * 10000) / 10000) : nullptr;
  return metrics;
}

std::string render_summary(const snapshot_ptr& current, const summary_sql_data& data,
                           int64_t now_unix, const std::vector<alert_event>& active,
                           const boost::json::array& optimizations) {
  snapshot empty;
  const auto& s = current ? *current : empty;
  auto indicators = indicators_of(s);
  boost::json::object out;
  out["status"] = indicator_status(indicators);
  auto score = overall_score(indicators);
  out["score"] = score ? boost::json::value(*score) : nullptr;
  out["currentMetrics"] = current_metrics_json(s);
  auto trend_json = [](const trend& t) {
    boost::json::object o;
    o["trend"] = t.direction;
    o["change"] = t.change ? boost::json::value(*t.change) : nullptr;
    o["period"] = "24h";
    return o;
  };
  out["trends"] = boost::json::object{
    {"responseTime", trend_json(trend_of(data.response_time.last, data.response_time.previous, false))},
    {"memory", trend_json(trend_of(data.memory.last, data.memory.previous, false))},
    {"cache", trend_json(trend_of(data.cache_hit_rate.last, data.cache_hit_rate.previous, true))}};
  out["recentOptimizations"] = optimizations;
  boost::json::array recs;
  for (auto& r : recommendations_of(s, data, now_unix))
    recs.push_back(boost::json::string(r));
  out["recommendations"] = std::move(recs);
  boost::json::array alerts;
  for (const auto& a : active)
    alerts.push_back(alert_event_json(a));
  out["alerts"] = std::move(alerts);
  return to_json(out);
}

} // namespace medianest
