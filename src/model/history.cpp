#include "model/history.hpp"

#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "model/forecast.hpp"
#include "model/json.hpp"
#include "model/query_string.hpp"
#include "model/time.hpp"

namespace medianest {

std::string history_query::key() const {
  return metric + '|' + period + '|' + granularity + (forecast ? "|f" : "");
}

namespace {

struct choice {
  std::string_view name;
  int64_t seconds;
};

constexpr choice periods[] = {{"1h", 3600}, {"24h", 86400}, {"7d", 7 * 86400}, {"30d", 30 * 86400}};
constexpr choice granularities[] = {{"1m", resolution_1m}, {"5m", resolution_5m},
                                    {"1h", resolution_1h}};

template <size_t N>
std::optional<int64_t> pick(const choice (&options)[N], std::string_view value) {
  for (const auto& c : options)
    if (c.name == value)
      return c.seconds;
  return std::nullopt;
}

double rounded(double x, const metric_info& info) {
  if (!std::isfinite(x))
    return 0;
  double f = info.unit == "fraction" ? 10000.0 : 100.0;
  return std::round(x * f) / f;
}

void append_number(std::string& out, double x) {
  fmt::format_to(std::back_inserter(out), "{}", x);
}

} // namespace

std::variant<history_query, api_error> parse_history_query(std::string_view query_string) {
  std::vector<std::pair<std::string, std::string>> params;
  std::string bad_key;
  if (!parse_query_string(query_string, params, &bad_key))
    return validation_error(bad_key.empty() ? "query" : bad_key,
                            "the query string is not valid percent-encoding");
  history_query q;
  std::vector<std::string> seen;
  for (auto& [key, value] : params) {
    if (std::find(seen.begin(), seen.end(), key) != seen.end())
      return validation_error(key, "parameter '" + key + "' is given more than once");
    seen.push_back(key);
    if (value.empty())
      return validation_error(key, "parameter '" + key + "' is empty");
    if (key == "period") {
      auto secs = pick(periods, value);
      if (!secs)
        return validation_error("period", "period must be one of 1h, 24h, 7d, 30d; got '" + value + "'");
      q.period = value;
      q.period_seconds = *secs;
    } else if (key == "granularity") {
      auto secs = pick(granularities, value);
      if (!secs)
        return validation_error("granularity",
                                "granularity must be one of 1m, 5m, 1h; got '" + value + "'");
      q.granularity = value;
      q.resolution = *secs;
    } else if (key == "metric") {
      if (!find_metric(value))
        return validation_error(
          "metric", "metric must be one of response_time, memory, cpu, cache_hit_rate, "
                    "error_rate, requests_per_minute, disk, or route:<METHOD> <route>; got '"
                      + value + "'");
      q.metric = value;
    } else if (key == "forecast") {
      if (value != "true" && value != "false")
        return validation_error("forecast", "forecast must be true or false; got '" + value + "'");
      q.forecast = value == "true";
    } else {
      return validation_error(key, "unknown parameter '" + key
                                     + "'; allowed: period, metric, granularity, forecast");
    }
  }
  return q;
}

int64_t history_from(const history_query& q, int64_t now_unix) noexcept {
  return bucket_start(now_unix - q.period_seconds, q.resolution);
}

std::vector<rollup_row> merge_rows(std::vector<rollup_row> stored,
                                   const std::vector<rollup_row>& pending, int64_t from) {
  for (const auto& p : pending) {
    if (p.start < from)
      continue;
    auto it = std::lower_bound(stored.begin(), stored.end(), p.start,
                               [](const rollup_row& r, int64_t start) { return r.start < start; });
    if (it != stored.end() && it->start == p.start)
      *it = p;
    else
      stored.insert(it, p);
  }
  stored.erase(std::remove_if(stored.begin(), stored.end(),
                              [from](const rollup_row& r) { return r.start < from || r.count == 0; }),
               stored.end());
  return stored;
}

std::string render_history(const history_query& q, const metric_info& info,
                           const std::vector<rollup_row>& points, const history_summary& summary,
                           const std::optional<forecast_result>& forecast) {
  std::string out;
  out.reserve(200 + points.size() * 96);
  // The metric may be a user-given route name: it goes through the JSON escaper.
  fmt::format_to(std::back_inserter(out),
                 R"({{"period":"{}","metric":{},"granularity":"{}","unit":"{}","dataPoints":[)",
                 q.period, to_json(boost::json::value(q.metric)), q.granularity, info.unit);
  bool first = true;
  for (const auto& p : points) {
    if (!first)
      out += ',';
    first = false;
    out += R"({"timestamp":")";
    append_iso8601_seconds(out, p.start);
    out += R"(","value":)";
    append_number(out, rounded(p.sum / static_cast<double>(p.count), info));
    out += R"(,"p95":)";
    append_number(out, rounded(p.p95, info));
    out += R"(,"p99":)";
    append_number(out, rounded(p.p99, info));
    fmt::format_to(std::back_inserter(out), R"(,"count":{}}})", p.count);
  }
  out += R"(],"summary":{"average":)";
  append_number(out, rounded(summary.average, info));
  out += R"(,"min":)";
  append_number(out, rounded(summary.min, info));
  out += R"(,"max":)";
  append_number(out, rounded(summary.max, info));
  out += R"(,"p95":)";
  append_number(out, rounded(summary.p95, info));
  out += R"(,"p99":)";
  append_number(out, rounded(summary.p99, info));
  fmt::format_to(std::back_inserter(out), R"(,"count":{}}})", summary.count);
  if (q.forecast) {
    out += R"(,"forecast":)";
    if (!forecast) {
      out += R"({"available":false,"reason":"at least 3 data points are needed"})";
    } else {
      out += R"({"available":true,"method":"holt-linear","alpha":)";
      append_number(out, std::round(forecast->alpha * 100) / 100);
      out += R"(,"beta":)";
      append_number(out, std::round(forecast->beta * 100) / 100);
      out += R"(,"trendPerHour":)";
      append_number(out, rounded(forecast->trend * 3600, info));
      out += R"(,"points":[)";
      bool first_point = true;
      for (const auto& fp : forecast->points) {
        if (!first_point)
          out += ',';
        first_point = false;
        out += R"({"timestamp":")";
        append_iso8601_seconds(out, fp.t);
        out += R"(","value":)";
        append_number(out, rounded(fp.value, info));
        out += '}';
      }
      out += ']';
      auto crossing = [&](const char* name, const std::optional<threshold_crossing>& c) {
        fmt::format_to(std::back_inserter(out), R"(,"{}":)", name);
        if (!c) {
          out += "null";
          return;
        }
        out += R"({"threshold":)";
        append_number(out, c->threshold);
        out += R"(,"alreadyExceeded":)";
        out += c->already ? "true" : "false";
        out += R"(,"crossesAt":)";
        if (c->at)
          out += '"' + iso8601(sys_ms{std::chrono::seconds(*c->at)}) + '"';
        else
          out += "null";
        out += '}';
      };
      crossing("warning", forecast->warning);
      crossing("critical", forecast->critical);
      out += '}';
    }
  }
  out += '}';
  return out;
}

} // namespace medianest
