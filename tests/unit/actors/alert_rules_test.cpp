#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <regex>
#include <string>
#include <vector>

#include "actors/alert_rules.hpp"

using medianest::alert_config;
using medianest::alert_event;
using medianest::alert_metric_names;
using medianest::alert_observation;
using medianest::alert_rules;
using medianest::api_sample;
using medianest::cache_sample;
using medianest::database_sample;
using medianest::endpoint_stats;
using medianest::glob_match;
using medianest::observations_of;
using medianest::snapshot;
using medianest::sys_ms;
using medianest::system_sample;

namespace {

constexpr int64_t T0 = 1'700'000'000; // unix seconds

sys_ms at_s(int64_t unix_s) {
  return sys_ms{std::chrono::milliseconds(unix_s * 1000)};
}

/// A config with the given `for` duration on every threshold (defaults otherwise:
/// memory 80/90, cpu 80/95, cache hit rate 0.7/0.5, response time 500/1000, query time 100/500).
alert_config config_for(int64_t for_seconds) {
  alert_config c;
  c.response_time.for_seconds = for_seconds;
  c.error_rate.for_seconds = for_seconds;
  c.memory_usage.for_seconds = for_seconds;
  c.cpu_usage.for_seconds = for_seconds;
  c.cache_hit_rate.for_seconds = for_seconds;
  c.query_time.for_seconds = for_seconds;
  return c;
}

/// Feeds `value` for `seconds` observations, one per second starting at `t` (advanced past
/// the last one), and appends the events.
void feed(alert_rules& r, const std::string& metric, double value, int64_t seconds, int64_t& t,
          std::vector<alert_event>& events) {
  for (int64_t i = 0; i < seconds; ++i, ++t)
    for (auto& e : r.observe({metric, value, at_s(t)}))
      events.push_back(std::move(e));
}

size_t count_state(const std::vector<alert_event>& events, const std::string& state) {
  return static_cast<size_t>(std::count_if(events.begin(), events.end(),
                                           [&](const alert_event& e) { return e.state == state; }));
}

bool valid_id(const std::string& id) {
  static const std::regex re{"^alt-[0-9a-f]{16}$"};
  return std::regex_match(id, re);
}

const alert_observation* find_obs(const std::vector<alert_observation>& obs,
                                  const std::string& metric) {
  for (const auto& o : obs)
    if (o.metric == metric)
      return &o;
  return nullptr;
}

} // namespace

TEST_CASE("alert_rules a spike shorter than forSeconds does not fire", "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "memoryUsage", 50, 10, t, events);
  feed(r, "memoryUsage", 95, 60, t, events); // 60 observations span only 59 s
  feed(r, "memoryUsage", 50, 300, t, events);
  feed(r, "memoryUsage", 85, 30, t, events);
  feed(r, "memoryUsage", 50, 30, t, events);
  CHECK(events.empty());
  CHECK(r.active().empty());
}

TEST_CASE("alert_rules a breach lasting forSeconds fires exactly once", "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "memoryUsage", 50, 10, t, events);
  const int64_t breach = t;
  feed(r, "memoryUsage", 85, 60, t, events);
  CHECK(events.empty()); // 59 s of breach so far
  feed(r, "memoryUsage", 85, 1, t, events);
  REQUIRE(events.size() == 1);
  feed(r, "memoryUsage", 85, 600, t, events);
  REQUIRE(events.size() == 1);

  const auto& e = events.front();
  CHECK(valid_id(e.id));
  CHECK(e.metric == "memoryUsage");
  CHECK(e.state == "firing");
  CHECK(e.severity == "warning");
  CHECK(e.value == 85);
  CHECK(e.threshold == 80);
  CHECK(e.started_at == at_s(breach));
  CHECK(e.at == at_s(breach + 60));
  CHECK_FALSE(e.resolved_at.has_value());
}

TEST_CASE("alert_rules a breach interrupted by one good observation restarts pending",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "cpuUsage", 85, 50, t, events);
  feed(r, "cpuUsage", 80, 1, t, events); // exactly at the threshold: not past it
  const int64_t breach = t;
  feed(r, "cpuUsage", 85, 60, t, events);
  CHECK(events.empty());
  feed(r, "cpuUsage", 85, 1, t, events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].started_at == at_s(breach));
}

TEST_CASE("alert_rules a value oscillating around the warning threshold does not flap",
          "[alert_rules]") {
  int64_t for_seconds = GENERATE(0, 1, 60);
  CAPTURE(for_seconds);
  alert_rules r{config_for(for_seconds)};
  std::vector<alert_event> memory, cache;
  int64_t t = T0;
  for (int64_t i = 0; i < 600; ++i, ++t) {
    const double k = i % 2 == 0 ? 1.02 : 0.98;
    for (auto& e : r.observe({"memoryUsage", 80 * k, at_s(t)}))
      memory.push_back(e);
    for (auto& e : r.observe({"cacheHitRate", 0.7 * (2 - k), at_s(t)})) // below first
      cache.push_back(e);
  }
  for (const auto* events : {&memory, &cache}) {
    CHECK(count_state(*events, "firing") <= 1);
    CHECK(count_state(*events, "resolved") == 0);
  }
  if (for_seconds == 0) {
    // fires on the first breach and then stays firing
    CHECK(memory.size() == 1);
    CHECK(cache.size() == 1);
    CHECK(r.active().size() == 2);
  } else {
    // the breach never holds for forSeconds
    CHECK(memory.empty());
    CHECK(cache.empty());
  }
}

TEST_CASE("alert_rules a firing alert oscillating above warning times 0.95 stays firing",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "memoryUsage", 85, 61, t, events);
  REQUIRE(events.size() == 1);
  // ±2 % around the threshold for 10 minutes: never below 76 (80 × 0.95)
  for (int64_t i = 0; i < 600; ++i)
    feed(r, "memoryUsage", i % 2 == 0 ? 78.4 : 81.6, 1, t, events);
  CHECK(events.size() == 1);
  REQUIRE(r.active().size() == 1);
  CHECK(r.active()[0].id == events[0].id);
}

TEST_CASE("alert_rules escalation and de-escalation keep the id and startedAt", "[alert_rules]") {
  alert_rules r{config_for(60)}; // memory 80 / 90
  std::vector<alert_event> events;
  int64_t t = T0;
  const int64_t breach = t;
  feed(r, "memoryUsage", 85, 61, t, events);
  REQUIRE(events.size() == 1);
  const auto id = events[0].id;

  // past critical: escalates after 60 s past it
  const int64_t critical_from = t;
  feed(r, "memoryUsage", 95, 60, t, events);
  CHECK(events.size() == 1);
  feed(r, "memoryUsage", 95, 1, t, events);
  REQUIRE(events.size() == 2);
  CHECK(events[1].id == id);
  CHECK(events[1].state == "firing");
  CHECK(events[1].severity == "critical");
  CHECK(events[1].threshold == 90);
  CHECK(events[1].value == 95);
  CHECK(events[1].started_at == at_s(breach));
  CHECK(events[1].at == at_s(critical_from + 60));
  REQUIRE(r.active().size() == 1);
  CHECK(r.active()[0].severity == "critical");

  // below critical but within the hysteresis margin (90 × 0.95 = 85.5): stays critical
  feed(r, "memoryUsage", 88, 300, t, events);
  CHECK(events.size() == 2);

  // below 85.5 for 60 s: de-escalates to warning
  const int64_t below_from = t;
  feed(r, "memoryUsage", 84, 61, t, events);
  REQUIRE(events.size() == 3);
  CHECK(events[2].id == id);
  CHECK(events[2].state == "firing");
  CHECK(events[2].severity == "warning");
  CHECK(events[2].threshold == 80);
  CHECK(events[2].started_at == at_s(breach));
  CHECK(events[2].at == at_s(below_from + 60));
  CHECK_FALSE(events[2].resolved_at.has_value());

  // and may escalate again
  feed(r, "memoryUsage", 92, 61, t, events);
  REQUIRE(events.size() == 4);
  CHECK(events[3].severity == "critical");
  CHECK(events[3].id == id);
}

TEST_CASE("alert_rules a breach past critical from the start fires critical once",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  const int64_t breach = t;
  feed(r, "cpuUsage", 97, 200, t, events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].severity == "critical");
  CHECK(events[0].threshold == 95);
  CHECK(events[0].started_at == at_s(breach));
  CHECK(events[0].at == at_s(breach + 60));
}

TEST_CASE("alert_rules a critical alert falling below warning resolves directly",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "cpuUsage", 97, 61, t, events);
  REQUIRE(events.size() == 1);
  feed(r, "cpuUsage", 10, 61, t, events);
  REQUIRE(events.size() == 2);
  CHECK(events[1].state == "resolved");
  CHECK(events[1].severity == "critical");
  CHECK(events[1].threshold == 80);
}

TEST_CASE("alert_rules resolution needs forSeconds back past the warning with hysteresis",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;

  SECTION("higher is worse: below warning times 0.95") {
    feed(r, "memoryUsage", 85, 61, t, events);
    REQUIRE(events.size() == 1);
    const auto first = events[0];

    feed(r, "memoryUsage", 77, 300, t, events); // below 80 but above 76
    CHECK(events.size() == 1);
    feed(r, "memoryUsage", 75, 30, t, events);
    feed(r, "memoryUsage", 77, 1, t, events); // interrupts the resolution period
    const int64_t clear_from = t;
    feed(r, "memoryUsage", 75, 60, t, events);
    CHECK(events.size() == 1);
    feed(r, "memoryUsage", 75, 1, t, events);
    REQUIRE(events.size() == 2);
    const auto& e = events[1];
    CHECK(e.id == first.id);
    CHECK(e.state == "resolved");
    CHECK(e.severity == "warning");
    CHECK(e.value == 75);
    CHECK(e.threshold == 80);
    CHECK(e.started_at == first.started_at);
    REQUIRE(e.resolved_at.has_value());
    CHECK(*e.resolved_at == at_s(clear_from + 60));
    CHECK(e.at == at_s(clear_from + 60));
    CHECK(r.active().empty());

    // a new breach is a new alert with a new id
    feed(r, "memoryUsage", 75, 100, t, events);
    const int64_t breach = t;
    feed(r, "memoryUsage", 86, 61, t, events);
    REQUIRE(events.size() == 3);
    CHECK(events[2].state == "firing");
    CHECK(events[2].id != first.id);
    CHECK(valid_id(events[2].id));
    CHECK(events[2].started_at == at_s(breach));
  }

  SECTION("lower is worse: cacheHitRate above warning times 1.05") {
    const int64_t breach = t;
    feed(r, "cacheHitRate", 0.6, 61, t, events);
    REQUIRE(events.size() == 1);
    CHECK(events[0].severity == "warning");
    CHECK(events[0].threshold == Approx(0.7));
    CHECK(events[0].started_at == at_s(breach));

    // escalation: below 0.5
    feed(r, "cacheHitRate", 0.4, 61, t, events);
    REQUIRE(events.size() == 2);
    CHECK(events[1].severity == "critical");
    CHECK(events[1].threshold == Approx(0.5));
    CHECK(events[1].id == events[0].id);

    // de-escalation needs above 0.5 × 1.05 = 0.525
    feed(r, "cacheHitRate", 0.52, 200, t, events);
    CHECK(events.size() == 2);
    feed(r, "cacheHitRate", 0.6, 61, t, events);
    REQUIRE(events.size() == 3);
    CHECK(events[2].severity == "warning");

    // above 0.7 but not 0.735: no resolution
    feed(r, "cacheHitRate", 0.72, 300, t, events);
    CHECK(events.size() == 3);
    const int64_t clear_from = t;
    feed(r, "cacheHitRate", 0.74, 61, t, events);
    REQUIRE(events.size() == 4);
    CHECK(events[3].state == "resolved");
    CHECK(events[3].id == events[0].id);
    REQUIRE(events[3].resolved_at.has_value());
    CHECK(*events[3].resolved_at == at_s(clear_from + 60));
    CHECK(r.active().empty());
  }
}

TEST_CASE("alert_rules forSeconds zero fires and resolves immediately", "[alert_rules]") {
  alert_rules r{config_for(0)};
  int64_t t = T0;
  CHECK(r.observe({"memoryUsage", 50, at_s(t++)}).empty());
  auto fired = r.observe({"memoryUsage", 85, at_s(t)});
  REQUIRE(fired.size() == 1);
  CHECK(fired[0].state == "firing");
  CHECK(fired[0].severity == "warning");
  CHECK(fired[0].started_at == at_s(t));
  CHECK(fired[0].at == at_s(t));
  ++t;
  auto escalated = r.observe({"memoryUsage", 91, at_s(t++)});
  REQUIRE(escalated.size() == 1);
  CHECK(escalated[0].severity == "critical");
  CHECK(escalated[0].id == fired[0].id);
  // hysteresis still applies: 88 is below 90 but not 85.5 (90 × 0.95)
  CHECK(r.observe({"memoryUsage", 88, at_s(t++)}).empty());
  auto deescalated = r.observe({"memoryUsage", 78, at_s(t++)}); // not yet 76 (80 × 0.95)
  REQUIRE(deescalated.size() == 1);
  CHECK(deescalated[0].severity == "warning");
  CHECK(deescalated[0].state == "firing");
  auto resolved = r.observe({"memoryUsage", 70, at_s(t)});
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].state == "resolved");
  CHECK(resolved[0].resolved_at == at_s(t));

  // past critical at once: fires critical directly
  ++t;
  auto critical = r.observe({"cpuUsage", 99, at_s(t)});
  REQUIRE(critical.size() == 1);
  CHECK(critical[0].severity == "critical");
  CHECK(critical[0].threshold == 95);
}

TEST_CASE("alert_rules a disabled config produces no events", "[alert_rules]") {
  auto cfg = config_for(0);
  cfg.enabled = false;
  alert_rules r{cfg};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "memoryUsage", 99, 100, t, events);
  feed(r, "cacheHitRate", 0.1, 100, t, events);
  CHECK(events.empty());
  CHECK(r.active().empty());
}

TEST_CASE("alert_rules configure disabled resolves the active alerts", "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  for (int64_t i = 0; i < 61; ++i, ++t) {
    for (auto& e : r.observe({"cpuUsage", 85, at_s(t)}))
      events.push_back(e);
    for (auto& e : r.observe({"memoryUsage", 91, at_s(t)}))
      events.push_back(e);
  }
  REQUIRE(events.size() == 2);
  REQUIRE(r.active().size() == 2);

  auto disabled = config_for(60);
  disabled.enabled = false;
  const auto now = at_s(t + 5);
  auto resolved = r.configure(disabled, now);
  REQUIRE(resolved.size() == 2);
  // in active() order: memoryUsage before cpuUsage
  CHECK(resolved[0].metric == "memoryUsage");
  CHECK(resolved[1].metric == "cpuUsage");
  for (const auto& e : resolved) {
    CHECK(e.state == "resolved");
    CHECK(e.resolved_at == now);
    CHECK(e.at == now);
    const auto& fired = e.metric == "cpuUsage" ? events[0] : events[1];
    CHECK(e.id == fired.id);
    CHECK(e.started_at == fired.started_at);
    CHECK(e.value == fired.value);
  }
  CHECK(r.active().empty());
  feed(r, "memoryUsage", 99, 100, t, events);
  CHECK(events.size() == 2);

  // enabled again: state starts from scratch, new ids
  CHECK(r.configure(config_for(60), at_s(t)).empty());
  feed(r, "memoryUsage", 99, 61, t, events);
  REQUIRE(events.size() == 3);
  CHECK(events[2].id != events[1].id);
}

TEST_CASE("alert_rules configure keeps active alerts and applies new thresholds next",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "memoryUsage", 85, 61, t, events);
  feed(r, "responseTime:Authentication", 250, 61, t, events); // 200 / 500
  REQUIRE(events.size() == 2);
  CHECK(events[1].threshold == 200);

  auto cfg = config_for(60);
  cfg.memory_usage.warning = 90;
  cfg.memory_usage.critical = 95;
  cfg.categories.erase(cfg.categories.begin()); // removes Authentication
  auto resolved = r.configure(cfg, at_s(t));
  REQUIRE(resolved.size() == 1);
  CHECK(resolved[0].metric == "responseTime:Authentication");
  CHECK(resolved[0].id == events[1].id);
  CHECK(resolved[0].state == "resolved");
  REQUIRE(r.active().size() == 1);
  CHECK(r.active()[0].id == events[0].id);

  // 85 is back within 90 × 0.95 = 85.5 under the new config: resolves after 60 s
  const int64_t from = t;
  feed(r, "memoryUsage", 85, 61, t, events);
  REQUIRE(events.size() == 3);
  CHECK(events[2].state == "resolved");
  CHECK(events[2].id == events[0].id);
  CHECK(events[2].threshold == 90);
  CHECK(events[2].resolved_at == at_s(from + 60));
  // the removed category is no longer evaluated
  feed(r, "responseTime:Authentication", 900, 100, t, events);
  CHECK(events.size() == 3);
}

TEST_CASE("alert_rules category response time uses the category thresholds", "[alert_rules]") {
  auto cfg = config_for(30); // categories use responseTime's forSeconds
  alert_rules r{cfg};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "responseTime:Search", 450, 100, t, events); // Search: 500 / 1000
  CHECK(events.empty());
  const int64_t breach = t;
  feed(r, "responseTime:Search", 1200, 31, t, events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].metric == "responseTime:Search");
  CHECK(events[0].severity == "critical");
  CHECK(events[0].threshold == 1000);
  CHECK(events[0].at == at_s(breach + 30));
  // unknown metrics and categories are ignored
  feed(r, "responseTime:Nope", 1e9, 100, t, events);
  feed(r, "diskUsage", 1e9, 100, t, events);
  CHECK(events.size() == 1);
}

TEST_CASE("alert_rules ignores missing data older observations and non-finite values",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed(r, "memoryUsage", 85, 61, t, events);
  REQUIRE(events.size() == 1);
  // a long gap neither resolves nor refires
  t += 3600;
  feed(r, "memoryUsage", 85, 1, t, events);
  CHECK(events.size() == 1);
  // older than the latest: ignored (would resolve otherwise after 60 s)
  for (int64_t i = 0; i < 100; ++i)
    CHECK(r.observe({"memoryUsage", 10, at_s(T0 + i)}).empty());
  CHECK(r.observe({"memoryUsage", std::nan(""), at_s(t + 1)}).empty());
  CHECK(r.observe({"memoryUsage", std::numeric_limits<double>::infinity(), at_s(t + 2)})
            .empty());
  REQUIRE(r.active().size() == 1);
  CHECK(r.active()[0].id == events[0].id);
}

TEST_CASE("alert_rules active lists firing alerts only", "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  CHECK(r.active().empty());
  for (int64_t i = 0; i < 61; ++i, ++t) {
    // cpu first in time, but active() lists in config order
    for (auto& e : r.observe({"cpuUsage", 85, at_s(t)}))
      events.push_back(e);
    for (auto& e : r.observe({"memoryUsage", 85, at_s(t)}))
      events.push_back(e);
    if (i >= 30) // pending only
      for (auto& e : r.observe({"errorRate", 0.5, at_s(t)}))
        events.push_back(e);
    for (auto& e : r.observe({"cacheHitRate", i < 5 ? 0.1 : 0.9, at_s(t)}))
      events.push_back(e);
  }
  REQUIRE(events.size() == 2);
  auto act = r.active();
  REQUIRE(act.size() == 2);
  CHECK(act[0].metric == "memoryUsage");
  CHECK(act[1].metric == "cpuUsage");
  for (const auto& a : act) {
    CHECK(a.state == "firing");
    CHECK_FALSE(a.resolved_at.has_value());
  }

  // resolve cpu: only memory remains
  feed(r, "cpuUsage", 10, 61, t, events);
  act = r.active();
  REQUIRE(act.size() == 1);
  CHECK(act[0].metric == "memoryUsage");
}

TEST_CASE("alert_rules glob_match treats star as any run of characters", "[alert_rules]") {
  CHECK(glob_match("/api/v1/auth/*", "/api/v1/auth/login"));
  CHECK(glob_match("/api/v1/auth/*", "/api/v1/auth/"));
  CHECK(glob_match("/api/v1/auth/*", "/api/v1/auth/a/b/c"));
  CHECK_FALSE(glob_match("/api/v1/auth/*", "/api/v1/auth"));
  CHECK_FALSE(glob_match("/api/v1/auth/*", "/api/v1/authx/login"));
  CHECK(glob_match("/api/v1/search*", "/api/v1/search"));
  CHECK(glob_match("/api/v1/search*", "/api/v1/search/suggest"));
  CHECK(glob_match("*/:id", "/api/v1/media/:id"));
  CHECK(glob_match("/api/*/media/*", "/api/v1/media/x"));
  CHECK_FALSE(glob_match("/api/*/media/*", "/api/v1/music/x"));
  CHECK(glob_match("a*b*c", "aXXbYYc"));
  CHECK(glob_match("a*b*c", "abbbc"));
  CHECK_FALSE(glob_match("a*b*c", "aXXbYY"));
  CHECK(glob_match("*", ""));
  CHECK(glob_match("", ""));
  CHECK_FALSE(glob_match("", "x"));
  CHECK(glob_match("exact", "exact"));
  CHECK_FALSE(glob_match("exact", "exactly"));
}

TEST_CASE("alert_rules observations_of reads the expected metrics from a snapshot",
          "[alert_rules]") {
  const alert_config cfg; // default thresholds and categories
  snapshot s;
  s.timestamp = at_s(T0 + 10);

  api_sample api;
  api.requests_per_minute = 120;
  api.p95_response_time = 420;
  api.error_rate = 0.02;
  api.slowest_endpoints = {
      {"/api/v1/plex/libraries", "GET", 900, 2},   // no category
      {"/api/v1/auth/login", "POST", 250, 10},     // Authentication
      {"/api/v1/media/:id", "GET", 260, 8},        // Media Requests
      {"/api/v1/auth/refresh", "POST", 180, 5},    // Authentication, lower
      {"/api/v1/dashboard/stats", "GET", 120, 3},  // Dashboard
  };
  s.api.value = api;
  s.api.updated = at_s(T0 + 1);

  system_sample sys;
  sys.cpu.usage = 37.5;
  sys.memory.percentage = 61.25;
  s.system.value = sys;
  s.system.updated = at_s(T0 + 2);

  cache_sample cache;
  cache.gets = 100;
  cache.hit_rate = 0.83;
  s.cache.value = cache;
  s.cache.updated = at_s(T0 + 3);

  SECTION("every metric with data") {
    auto obs = observations_of(s, cfg);
    struct expected {
      const char* metric;
      double value;
      int64_t at;
    };
    const std::vector<expected> want = {
        {"responseTime", 420, T0 + 1},
        {"errorRate", 0.02, T0 + 1},
        {"memoryUsage", 61.25, T0 + 2},
        {"cpuUsage", 37.5, T0 + 2},
        {"cacheHitRate", 0.83, T0 + 3},
        {"responseTime:Authentication", 250, T0 + 1},
        // The list of slowest endpoints is full: a category with no route in it is at most
        // as slow as the fastest listed route (120 ms), which lets its alert resolve.
        {"responseTime:Search", 120, T0 + 1},
        {"responseTime:Media Requests", 260, T0 + 1},
        {"responseTime:Dashboard", 120, T0 + 1},
        {"responseTime:Admin Operations", 120, T0 + 1},
    };
    REQUIRE(obs.size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      CAPTURE(i);
      CHECK(obs[i].metric == want[i].metric);
      CHECK(obs[i].value == want[i].value);
      CHECK(obs[i].at == at_s(want[i].at));
    }
  }

  SECTION("a path matching several categories counts in each") {
    s.api.value->slowest_endpoints.push_back({"/api/v1/media/search", "GET", 700, 4});
    auto obs = observations_of(s, cfg);
    const auto* search = find_obs(obs, "responseTime:Search");
    const auto* media = find_obs(obs, "responseTime:Media Requests");
    REQUIRE(search);
    REQUIRE(media);
    CHECK(search->value == 700);
    CHECK(media->value == 700);
  }

  SECTION("no requests in the last minute: no api metrics") {
    s.api.value->requests_per_minute = 0;
    auto obs = observations_of(s, cfg);
    REQUIRE(obs.size() == 3);
    CHECK(obs[0].metric == "memoryUsage");
    CHECK(obs[1].metric == "cpuUsage");
    CHECK(obs[2].metric == "cacheHitRate");
  }

  SECTION("a category absent from a short list of slowest endpoints has no observation") {
    s.api.value->slowest_endpoints.resize(3);
    auto obs = observations_of(s, cfg);
    CHECK(find_obs(obs, "responseTime:Search") == nullptr);
    CHECK(find_obs(obs, "responseTime:Dashboard") == nullptr);
    REQUIRE(find_obs(obs, "responseTime:Authentication"));
  }

  SECTION("no cache gets: no cache hit rate") {
    s.cache.value->gets = 0;
    auto obs = observations_of(s, cfg);
    CHECK(obs.size() == 9);
    CHECK(find_obs(obs, "cacheHitRate") == nullptr);
  }

  SECTION("unavailable sections give nothing") {
    s.api.error = "collector stopped";
    s.system.value.reset();
    s.cache.error = "redis down";
    CHECK(observations_of(s, cfg).empty());
  }

  SECTION("the database section gives queryTime after cacheHitRate") {
    database_sample db;
    db.average_query_time = 12.75;
    s.database.value = db;
    s.database.updated = at_s(T0 + 4);
    auto obs = observations_of(s, cfg);
    REQUIRE(obs.size() == 11);
    CHECK(obs[4].metric == "cacheHitRate");
    CHECK(obs[5].metric == "queryTime");
    CHECK(obs[5].value == 12.75);
    CHECK(obs[5].at == at_s(T0 + 4));
    CHECK(obs[6].metric == "responseTime:Authentication");
  }

  SECTION("an unset section time falls back to the snapshot time") {
    s.system.updated = sys_ms{};
    auto obs = observations_of(s, cfg);
    const auto* mem = find_obs(obs, "memoryUsage");
    REQUIRE(mem);
    CHECK(mem->at == at_s(T0 + 10));
  }
}

TEST_CASE("alert_rules alert_metric_names follow the config order", "[alert_rules]") {
  alert_config cfg;
  cfg.categories = {{"A", 1, 2, 3, {"/a*"}}, {"B", 1, 2, 3, {"/b*"}}};
  const std::vector<std::string> want = {"responseTime",   "errorRate",      "memoryUsage",
                                         "cpuUsage",       "cacheHitRate",   "queryTime",
                                         "responseTime:A", "responseTime:B"};
  CHECK(alert_metric_names(cfg) == want);
}

namespace {

/// A snapshot with only a database section (average query time `ms`), sampled at `unix_s`.
snapshot database_snapshot(double ms, int64_t unix_s) {
  snapshot s;
  s.timestamp = at_s(unix_s);
  database_sample db;
  db.backend = "sqlite";
  db.average_query_time = ms;
  s.database.value = db;
  s.database.updated = at_s(unix_s);
  return s;
}

/// Feeds database snapshots through observations_of, one per second, like the evaluator does.
void feed_database(alert_rules& r, double ms, int64_t seconds, int64_t& t,
                   std::vector<alert_event>& events) {
  for (int64_t i = 0; i < seconds; ++i, ++t)
    for (const auto& o : observations_of(database_snapshot(ms, t), r.config()))
      for (auto& e : r.observe(o))
        events.push_back(std::move(e));
}

} // namespace

TEST_CASE("alert_rules queryTime fires after forSeconds of a slow average query time",
          "[alert_rules]") {
  alert_rules r{config_for(60)}; // query time 100 / 500
  std::vector<alert_event> events;
  int64_t t = T0;
  feed_database(r, 20, 10, t, events);
  feed_database(r, 150, 30, t, events);
  feed_database(r, 90, 1, t, events); // one good sample resets the pending period
  const int64_t breach = t;
  feed_database(r, 150, 60, t, events);
  CHECK(events.empty()); // 59 s of breach so far
  feed_database(r, 150, 1, t, events);
  REQUIRE(events.size() == 1);
  const auto e = events[0]; // a copy: more events follow
  CHECK(valid_id(e.id));
  CHECK(e.metric == "queryTime");
  CHECK(e.state == "firing");
  CHECK(e.severity == "warning");
  CHECK(e.value == 150);
  CHECK(e.threshold == 100);
  CHECK(e.started_at == at_s(breach));
  CHECK(e.at == at_s(breach + 60));
  REQUIRE(r.active().size() == 1);
  CHECK(r.active()[0].metric == "queryTime");

  // past critical for forSeconds: escalates, same id
  feed_database(r, 650, 61, t, events);
  REQUIRE(events.size() == 2);
  CHECK(events[1].id == e.id);
  CHECK(events[1].severity == "critical");
  CHECK(events[1].threshold == 500);
}

TEST_CASE("alert_rules queryTime past critical from the start fires critical once",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed_database(r, 800, 200, t, events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].metric == "queryTime");
  CHECK(events[0].severity == "critical");
  CHECK(events[0].threshold == 500);
}

TEST_CASE("alert_rules queryTime resolves only below warning times 0.95 for forSeconds",
          "[alert_rules]") {
  alert_rules r{config_for(60)};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed_database(r, 130, 61, t, events);
  REQUIRE(events.size() == 1);
  const auto first = events[0];

  // below 100 but not below 95: stays firing, however long
  feed_database(r, 97, 300, t, events);
  CHECK(events.size() == 1);
  // oscillating around the threshold does not flap either
  for (int i = 0; i < 300; ++i)
    feed_database(r, i % 2 == 0 ? 102 : 98, 1, t, events);
  CHECK(events.size() == 1);

  feed_database(r, 90, 30, t, events);
  feed_database(r, 96, 1, t, events); // interrupts the resolution period
  const int64_t clear_from = t;
  feed_database(r, 90, 60, t, events);
  CHECK(events.size() == 1);
  feed_database(r, 90, 1, t, events);
  REQUIRE(events.size() == 2);
  const auto& e = events[1];
  CHECK(e.id == first.id);
  CHECK(e.metric == "queryTime");
  CHECK(e.state == "resolved");
  CHECK(e.value == 90);
  CHECK(e.threshold == 100);
  CHECK(e.started_at == first.started_at);
  REQUIRE(e.resolved_at.has_value());
  CHECK(*e.resolved_at == at_s(clear_from + 60));
  CHECK(r.active().empty());
}

TEST_CASE("alert_rules queryTime follows its own configured thresholds and forSeconds",
          "[alert_rules]") {
  auto cfg = config_for(60);
  cfg.query_time = {20, 40, "ms", 5};
  alert_rules r{cfg};
  std::vector<alert_event> events;
  int64_t t = T0;
  feed_database(r, 30, 6, t, events);
  REQUIRE(events.size() == 1);
  CHECK(events[0].severity == "warning");
  CHECK(events[0].threshold == 20);
  CHECK(events[0].at == at_s(T0 + 5));
}

TEST_CASE("alert_rules queryTime is not observed without the database section",
          "[alert_rules]") {
  const alert_config cfg;

  SECTION("the collector reports an error") {
    auto s = database_snapshot(900, T0);
    s.database.error = "database unreachable";
    CHECK(find_obs(observations_of(s, cfg), "queryTime") == nullptr);
  }
  SECTION("no sample yet") {
    auto s = database_snapshot(900, T0);
    s.database.value.reset();
    CHECK(find_obs(observations_of(s, cfg), "queryTime") == nullptr);
  }
  SECTION("a non-finite average") {
    CHECK(observations_of(database_snapshot(std::nan(""), T0), cfg).empty());
    CHECK(observations_of(
            database_snapshot(std::numeric_limits<double>::infinity(), T0), cfg).empty());
  }
  SECTION("an outage neither fires nor resolves") {
    alert_rules r{config_for(60)};
    std::vector<alert_event> events;
    int64_t t = T0;
    feed_database(r, 150, 61, t, events);
    REQUIRE(events.size() == 1);
    for (int i = 0; i < 600; ++i, ++t) {
      auto s = database_snapshot(10, t);
      s.database.error = "database unreachable";
      for (const auto& o : observations_of(s, r.config()))
        for (auto& e : r.observe(o))
          events.push_back(std::move(e));
    }
    CHECK(events.size() == 1);
    REQUIRE(r.active().size() == 1);
    CHECK(r.active()[0].id == events[0].id);
  }
  SECTION("a disabled config does not evaluate it") {
    auto disabled = config_for(0);
    disabled.enabled = false;
    alert_rules r{disabled};
    std::vector<alert_event> events;
    int64_t t = T0;
    feed_database(r, 900, 10, t, events);
    CHECK(events.empty());
  }
}
