#include "actors/alert_rules.hpp"

#include "actors/api_window.hpp"

#include <algorithm>
#include <cmath>

namespace medianest {

namespace {

constexpr std::string_view category_prefix = "responseTime:";

template <class T>
sys_ms time_of(const section<T>& sec, const snapshot& s) {
  return sec.updated != sys_ms{} ? sec.updated : s.timestamp;
}

/// Strictly past the threshold in the bad direction.
bool past(double v, double threshold, bool lower_is_worse) {
  return lower_is_worse ? v < threshold : v > threshold;
}

/// Back within the threshold by the hysteresis margin.
bool back_within(double v, double threshold, bool lower_is_worse) {
  const double margin = alert_rules::hysteresis * std::abs(threshold);
  return lower_is_worse ? v >= threshold + margin : v <= threshold - margin;
}

uint64_t seed_from_device() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ static_cast<uint64_t>(rd());
}

} // namespace

bool glob_match(std::string_view pattern, std::string_view text) noexcept {
  // Iterative matcher with a single backtrack point (the last '*'): linear in practice.
  size_t p = 0, t = 0;
  size_t star = std::string_view::npos, star_t = 0;
  while (t < text.size()) {
    if (p < pattern.size() && pattern[p] == '*') {
      star = p++;
      star_t = t;
    } else if (p < pattern.size() && pattern[p] == text[t]) {
      ++p;
      ++t;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      t = ++star_t;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '*')
    ++p;
  return p == pattern.size();
}

std::vector<std::string> alert_metric_names(const alert_config& cfg) {
  std::vector<std::string> out{"responseTime", "errorRate", "memoryUsage", "cpuUsage",
                               "cacheHitRate", "queryTime"};
  for (const auto& c : cfg.categories) {
    auto name = std::string{category_prefix} + c.name;
    if (std::find(out.begin(), out.end(), name) == out.end())
      out.push_back(std::move(name));
  }
  return out;
}

std::vector<alert_observation> observations_of(const snapshot& s, const alert_config& cfg) {
  std::vector<alert_observation> out;
  auto add = [&](std::string metric, double value, sys_ms at) {
    if (std::isfinite(value))
      out.push_back({std::move(metric), value, at});
  };

  const api_sample* api = nullptr;
  if (s.api.available() && s.api.value->requests_per_minute > 0)
    api = &*s.api.value;
  const sys_ms api_at = time_of(s.api, s);

  if (api) {
    add("responseTime", api->p95_response_time, api_at);
    add("errorRate", api->error_rate, api_at);
  }
  if (s.system.available()) {
    const sys_ms at = time_of(s.system, s);
    add("memoryUsage", s.system.value->memory.percentage, at);
    add("cpuUsage", s.system.value->cpu.usage, at);
  }
  if (s.cache.available() && s.cache.value->gets > 0)
    add("cacheHitRate", s.cache.value->hit_rate, time_of(s.cache, s));
  if (s.database.available())
    add("queryTime", s.database.value->average_query_time, time_of(s.database, s));
  if (api) {
    for (const auto& c : cfg.categories) {
      auto metric = std::string{category_prefix} + c.name;
      if (std::any_of(out.begin(), out.end(), [&](const auto& o) { return o.metric == metric; }))
        continue; // a duplicate category name: the first one is the rule
      std::optional<double> highest;
      for (const auto& e : api->slowest_endpoints) {
        const bool matches = std::any_of(c.routes.begin(), c.routes.end(),
            [&](const std::string& pattern) { return glob_match(pattern, e.path); });
        if (matches && std::isfinite(e.average_time) && (!highest || e.average_time > *highest))
          highest = e.average_time;
      }
      // No route of the category is among the slowest, and the list is full: each of its
      // routes is at most as slow as the fastest listed one. That bound lets a category
      // alert resolve once its routes are no longer among the slowest.
      const auto& listed = api->slowest_endpoints;
      if (!highest && listed.size() >= api_window::slowest_count
          && std::isfinite(listed.back().average_time))
        highest = listed.back().average_time;
      if (highest)
        add(std::move(metric), *highest, api_at);
    }
  }
  return out;
}

alert_rules::alert_rules(alert_config cfg) : cfg_(std::move(cfg)), rng_(seed_from_device()) {}

std::optional<alert_rules::rule> alert_rules::rule_for(std::string_view metric) const {
  auto of = [](const alert_threshold& t, bool lower) {
    return rule{t.warning, t.critical, std::max<int64_t>(t.for_seconds, 0) * 1000, lower};
  };
  if (metric == "responseTime")
    return of(cfg_.response_time, false);
  if (metric == "errorRate")
    return of(cfg_.error_rate, false);
  if (metric == "memoryUsage")
    return of(cfg_.memory_usage, false);
  if (metric == "cpuUsage")
    return of(cfg_.cpu_usage, false);
  if (metric == "cacheHitRate")
    return of(cfg_.cache_hit_rate, true);
  if (metric == "queryTime")
    return of(cfg_.query_time, false);
  if (metric.starts_with(category_prefix)) {
    const auto name = metric.substr(category_prefix.size());
    for (const auto& c : cfg_.categories)
      if (c.name == name)
        return rule{c.warning, c.critical,
                    std::max<int64_t>(cfg_.response_time.for_seconds, 0) * 1000, false};
  }
  return std::nullopt;
}

std::string alert_rules::new_id() {
  static constexpr char hex[] = "0123456789abcdef";
  const uint64_t v = rng_();
  std::string id = "alt-";
  for (int shift = 60; shift >= 0; shift -= 4)
    id.push_back(hex[(v >> shift) & 0xf]);
  return id;
}

std::vector<alert_event> alert_rules::configure(alert_config cfg, sys_ms at) {
  const auto before = active();
  cfg_ = std::move(cfg);
  std::vector<alert_event> out;
  for (const auto& a : before) {
    if (cfg_.enabled && rule_for(a.metric))
      continue;
    alert_event e = a;
    e.state = "resolved";
    e.value = states_.find(a.metric)->second.last_value;
    e.resolved_at = at;
    e.at = at;
    // The threshold of a resolution is the warning value, as in observe(); for a metric
    // that no longer exists the last event's threshold is kept.
    if (auto r = rule_for(a.metric))
      e.threshold = r->warning;
    out.push_back(std::move(e));
  }
  if (!cfg_.enabled) {
    states_.clear();
  } else {
    std::erase_if(states_, [&](const auto& kv) { return !rule_for(kv.first); });
  }
  return out;
}

std::vector<alert_event> alert_rules::observe(const alert_observation& o) {
  if (!cfg_.enabled || !std::isfinite(o.value))
    return {};
  const auto r = rule_for(o.metric);
  if (!r)
    return {};
  auto it = states_.find(o.metric);
  if (it == states_.end())
    it = states_.emplace(o.metric, metric_state{}).first;
  auto& st = it->second;
  if (st.last_at && o.at < *st.last_at)
    return {};
  st.last_at = o.at;
  st.last_value = o.value;

  const auto for_ms = std::chrono::milliseconds(r->for_ms);
  auto held = [&](std::optional<sys_ms>& since, bool condition) {
    if (!condition) {
      since.reset();
      return false;
    }
    if (!since)
      since = o.at;
    return o.at - *since >= for_ms;
  };
  const bool breach_held = held(st.breach_since, past(o.value, r->warning, r->lower_is_worse));
  const bool critical_held =
      held(st.critical_since, past(o.value, r->critical, r->lower_is_worse));
  const bool decrit_held =
      held(st.decrit_since, back_within(o.value, r->critical, r->lower_is_worse));
  const bool clear_held =
      held(st.clear_since, back_within(o.value, r->warning, r->lower_is_worse));

  std::vector<alert_event> out;
  if (!st.alert) {
    if (!breach_held)
      return out;
    alert_event e;
    e.id = new_id();
    e.metric = o.metric;
    e.severity = critical_held ? "critical" : "warning";
    e.state = "firing";
    e.value = o.value;
    e.threshold = critical_held ? r->critical : r->warning;
    e.started_at = *st.breach_since;
    e.at = o.at;
    st.alert = e;
    out.push_back(std::move(e));
    return out;
  }

  alert_event& a = *st.alert;
  if (clear_held) {
    alert_event e = a;
    e.state = "resolved";
    e.value = o.value;
    e.threshold = r->warning;
    e.resolved_at = o.at;
    e.at = o.at;
    out.push_back(std::move(e));
    // Forget the alert and every running period: a new breach starts from scratch.
    st.alert.reset();
    st.breach_since.reset();
    st.critical_since.reset();
    st.decrit_since.reset();
    st.clear_since.reset();
    return out;
  }
  if (a.severity == "warning" && critical_held) {
    a.severity = "critical";
    a.threshold = r->critical;
  } else if (a.severity == "critical" && decrit_held) {
    a.severity = "warning";
    a.threshold = r->warning;
  } else {
    return out;
  }
  a.value = o.value;
  a.at = o.at;
  out.push_back(a);
  return out;
}

std::vector<alert_event> alert_rules::active() const {
  std::vector<alert_event> out;
  for (const auto& name : alert_metric_names(cfg_)) {
    auto it = states_.find(name);
    if (it != states_.end() && it->second.alert)
      out.push_back(*it->second.alert);
  }
  return out;
}

} // namespace medianest
