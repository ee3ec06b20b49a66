#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "model/series.hpp"
#include "model/summary.hpp"

using medianest::indicator;
using medianest::indicator_score;
using medianest::indicator_status;
using medianest::overall_score;
using medianest::recommendations_of;
using medianest::render_summary;
using medianest::rollup;
using medianest::rollup_row;
using medianest::snapshot;
using medianest::summary_sql_data;
using medianest::sys_ms;
using medianest::trend_of;
namespace json = boost::json;

namespace {

/// An hour-aligned unix time (2023-11-14T22:00:00Z).
constexpr int64_t H = 1'699'999'200;
constexpr int64_t hour = 3600;

/// Response time as the score sees it: optimal 200 ms, warning 500, critical 1000.
indicator response(double v) {
  return {"responseTime", v, 200, 500, 1000, false};
}
/// Cache hit rate: lower is worse; optimal 0.85, warning 0.7, critical 0.5.
indicator hit_rate(double v) {
  return {"cacheHitRate", v, 0.85, 0.7, 0.5, true};
}

/// A snapshot where every indicator is at or better than optimal and no rule fires.
snapshot optimal_snapshot() {
  snapshot s;
  auto t = sys_ms{std::chrono::seconds(H)};
  s.timestamp = t;
  medianest::api_sample api;
  api.requests_per_minute = 120;
  api.average_response_time = 80.456;
  api.p95_response_time = 150;
  api.p99_response_time = 180;
  api.error_rate = 0.005;
  api.slowest_endpoints = {{"/api/items", "GET", 120.0, 30}, {"/api/upload", "POST", 100.0, 2}};
  s.api.value = api;
  s.api.updated = t;
  medianest::system_sample sys;
  sys.cpu.usage = 30;
  sys.cpu.cores = 8;
  sys.memory.percentage = 50;
  sys.disk.percentage = 40;
  s.system.value = sys;
  s.system.updated = t;
  medianest::cache_sample cache;
  cache.gets = 200;
  cache.hit_rate = 0.9;
  s.cache.value = cache;
  s.cache.updated = t;
  return s;
}

bool has(const std::vector<std::string>& recs, const std::string& part) {
  return std::any_of(recs.begin(), recs.end(),
                     [&](const std::string& r) { return r.find(part) != std::string::npos; });
}

size_t count_with(const std::vector<std::string>& recs, const std::string& part) {
  return static_cast<size_t>(std::count_if(recs.begin(), recs.end(), [&](const std::string& r) {
    return r.find(part) != std::string::npos;
  }));
}

const std::string all_optimal = "All performance metrics are within optimal ranges";

/// Hourly memory rows: `n` hours ending at `last_start`, value first + slope × i.
std::vector<rollup_row> memory_hours(int64_t last_start, int n, double first, double slope) {
  std::vector<rollup_row> rows;
  for (int i = 0; i < n; ++i) {
    rollup r;
    r.start = last_start - static_cast<int64_t>(n - 1 - i) * hour;
    for (int k = 0; k < 6; ++k)
      r.add(first + slope * i, 1000.0);
    rows.push_back(medianest::to_row("memory", 3600, r, 1000.0));
  }
  return rows;
}

std::string date_of(int64_t unix_s) {
  std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

std::string recs_text(const std::vector<std::string>& recs) {
  std::string out;
  for (const auto& r : recs)
    out += "\n  " + r;
  return out;
}

} // namespace

// -- indicator_score ----------------------------------------------------------------------

TEST_CASE("indicator_score is 100 up to optimal and falls through the breakpoints") {
  CHECK(indicator_score(response(0)) == Approx(100));
  CHECK(indicator_score(response(150)) == Approx(100));
  CHECK(indicator_score(response(200)) == Approx(100));
  CHECK(indicator_score(response(350)) == Approx(87.5)); // halfway to warning
  CHECK(indicator_score(response(500)) == Approx(75));
  CHECK(indicator_score(response(750)) == Approx(50));   // halfway to critical
  CHECK(indicator_score(response(1000)) == Approx(25));
  CHECK(indicator_score(response(1400)) == Approx(12.5));
  // Zero at twice the critical distance from optimal: 200 + 2 × 800.
  CHECK(indicator_score(response(1800)) == Approx(0).margin(1e-9));
  CHECK(indicator_score(response(5000)) == 0);
}

TEST_CASE("indicator_score mirrors the breakpoints when lower is worse") {
  CHECK(indicator_score(hit_rate(1.0)) == Approx(100));
  CHECK(indicator_score(hit_rate(0.85)) == Approx(100));
  CHECK(indicator_score(hit_rate(0.775)) == Approx(87.5));
  CHECK(indicator_score(hit_rate(0.7)) == Approx(75));
  CHECK(indicator_score(hit_rate(0.6)) == Approx(50));
  CHECK(indicator_score(hit_rate(0.5)) == Approx(25));
  CHECK(indicator_score(hit_rate(0.325)) == Approx(12.5));
  CHECK(indicator_score(hit_rate(0.15)) == Approx(0).margin(1e-9)); // 0.5 - (0.85 - 0.5)
  CHECK(indicator_score(hit_rate(0.0)) == 0);
}

TEST_CASE("indicator_score never leaves zero to one hundred") {
  for (double v = -100; v <= 5000; v += 7.3) {
    auto s = indicator_score(response(v));
    REQUIRE(s >= 0);
    REQUIRE(s <= 100);
  }
  for (double v = -1; v <= 2; v += 0.013) {
    auto s = indicator_score(hit_rate(v));
    REQUIRE(s >= 0);
    REQUIRE(s <= 100);
  }
}

// -- indicator_status and overall_score ---------------------------------------------------

TEST_CASE("indicator_status is optimal then good then degraded then critical") {
  CHECK(indicator_status({response(100), hit_rate(0.9)}) == "optimal");
  CHECK(indicator_status({response(200), hit_rate(0.85)}) == "optimal");
  CHECK(indicator_status({response(300), hit_rate(0.9)}) == "good");
  CHECK(indicator_status({response(100), hit_rate(0.8)}) == "good");
  CHECK(indicator_status({response(500), hit_rate(0.9)}) == "degraded");
  CHECK(indicator_status({response(100), hit_rate(0.7)}) == "degraded");
  CHECK(indicator_status({response(1000), hit_rate(0.9)}) == "critical");
  CHECK(indicator_status({response(100), hit_rate(0.5)}) == "critical");
  CHECK(indicator_status({response(600), hit_rate(0.4)}) == "critical");
  CHECK(indicator_status({}) == "unknown");
}

TEST_CASE("overall_score is the rounded mean of the average and the minimum score") {
  // Scores 100, 75 and 25: average 66.67, minimum 25 → 45.83 → 46.
  CHECK(overall_score({response(100), response(500), response(1000)}) == 46);
  // 100 and 87.5: average 93.75, minimum 87.5 → 90.625 → 91.
  CHECK(overall_score({response(200), hit_rate(0.775)}) == 91);
  // One indicator: its own score.
  CHECK(overall_score({response(750)}) == 50);
  CHECK(overall_score({response(100), hit_rate(0.95)}) == 100);
  // One indicator at zero drags the score to half the average at most.
  CHECK(overall_score({response(100), response(100), response(100), hit_rate(0.0)}) == 38);
  CHECK_FALSE(overall_score({}).has_value());
}

// -- trend_of -----------------------------------------------------------------------------

TEST_CASE("trend_of tells improving from stable from degrading with the change in percent") {
  auto up = trend_of(110.0, 100.0, false);
  CHECK(up.direction == "degrading");
  REQUIRE(up.change);
  CHECK(*up.change == Approx(10.0));

  auto down = trend_of(90.0, 100.0, false);
  CHECK(down.direction == "improving");
  CHECK(*down.change == Approx(-10.0));

  auto flat = trend_of(104.9, 100.0, false);
  CHECK(flat.direction == "stable");
  CHECK(*flat.change == Approx(4.9));
  CHECK(trend_of(95.1, 100.0, false).direction == "stable");
  CHECK(trend_of(105.1, 100.0, false).direction == "degrading");
  CHECK(trend_of(94.9, 100.0, false).direction == "improving");

  // A hit rate going up is an improvement.
  auto better = trend_of(0.9, 0.8, true);
  CHECK(better.direction == "improving");
  CHECK(*better.change == Approx(12.5));
  CHECK(trend_of(0.7, 0.8, true).direction == "degrading");

  // One decimal.
  auto third = trend_of(1.0, 3.0, false);
  CHECK(*third.change == Approx(-66.7));
}

TEST_CASE("trend_of needs both windows and a non zero previous value") {
  for (auto t : {trend_of(std::nullopt, 100.0, false), trend_of(100.0, std::nullopt, false),
                 trend_of(std::nullopt, std::nullopt, true), trend_of(5.0, 0.0, false)}) {
    CHECK(t.direction == "insufficient_data");
    CHECK_FALSE(t.change);
  }
}

// -- recommendations_of -------------------------------------------------------------------

TEST_CASE("an optimal snapshot gets the all optimal message and nothing else") {
  auto recs = recommendations_of(optimal_snapshot(), summary_sql_data{}, H);
  INFO(recs_text(recs));
  REQUIRE(recs.size() == 1);
  CHECK(recs[0] == all_optimal);
}

TEST_CASE("a good but not optimal snapshot gets no all optimal message") {
  auto s = optimal_snapshot();
  s.system.value->cpu.usage = 60; // past optimal (50), below warning (80)
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(recs.empty());
}

TEST_CASE("a slow GET route is a caching candidate") {
  auto s = optimal_snapshot();
  // Slowest first, as the api window lists them.
  s.api.value->slowest_endpoints = {{"/api/upload", "POST", 2000.0, 3},
                                    {"/api/search", "GET", 400.0, 42},
                                    {"/api/items", "GET", 300.0, 17},
                                    {"/api/fast", "GET", 20.0, 900}};
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "Consider caching GET /api/search: it averaged 400 ms over the last minute "
                  "(42 requests)"));
  CHECK(count_with(recs, "Consider caching") == 1); // only the slowest GET
  CHECK_FALSE(has(recs, "POST"));
  CHECK_FALSE(has(recs, all_optimal));
}

TEST_CASE("a GET route at half the response time warning is slow enough to cache") {
  auto s = optimal_snapshot();
  s.api.value->slowest_endpoints = {{"/edge", "GET", 250.0, 5}};
  CHECK(has(recommendations_of(s, summary_sql_data{}, H), "Consider caching GET /edge"));
  s.api.value->slowest_endpoints = {{"/edge", "GET", 249.9, 5}};
  CHECK_FALSE(has(recommendations_of(s, summary_sql_data{}, H), "Consider caching"));
}

TEST_CASE("a p95 over the response time warning is reported when there is traffic") {
  auto s = optimal_snapshot();
  s.api.value->p95_response_time = 600;
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "p95 response time is 600 ms, past the 500 ms warning threshold"));
  CHECK_FALSE(has(recs, all_optimal));
  s.api.value->requests_per_minute = 0;
  CHECK_FALSE(has(recommendations_of(s, summary_sql_data{}, H), "p95 response time"));
}

TEST_CASE("an error rate over the warning is reported when there is traffic") {
  auto s = optimal_snapshot();
  s.api.value->error_rate = 0.07;
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "7.0% of the requests of the last minute failed with a 5xx status"));
  s.api.value->error_rate = 0.05; // at the warning
  CHECK(has(recommendations_of(s, summary_sql_data{}, H), "5.0% of the requests"));
  s.api.value->error_rate = 0.049;
  CHECK_FALSE(has(recommendations_of(s, summary_sql_data{}, H), "of the requests"));
  s.api.value->error_rate = 0.5;
  s.api.value->requests_per_minute = 0;
  CHECK_FALSE(has(recommendations_of(s, summary_sql_data{}, H), "of the requests"));
}

TEST_CASE("a low cache hit rate is reported only for a cache that is read") {
  auto s = optimal_snapshot();
  s.cache.value->hit_rate = 0.5;
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "Cache hit rate is 50.0% (warning below 70.0%)"));
  s.cache.value->gets = 0;
  s.cache.value->hit_rate = 0;
  recs = recommendations_of(s, summary_sql_data{}, H);
  CHECK_FALSE(has(recs, "Cache hit rate"));
  // An unread cache is no indicator: the rest is optimal.
  CHECK(recs == std::vector<std::string>{all_optimal});
}

TEST_CASE("CPU over the warning is reported with the number of cores") {
  auto s = optimal_snapshot();
  s.system.value->cpu.usage = 85;
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "CPU usage is 85.0% (warning at 80%) on 8 cores"));
  s.system.value->cpu.usage = 79.9;
  CHECK_FALSE(has(recommendations_of(s, summary_sql_data{}, H), "CPU usage"));
}

TEST_CASE("a disk over 85 percent full is reported even when every indicator is optimal") {
  auto s = optimal_snapshot();
  s.system.value->disk.percentage = 90;
  auto recs = recommendations_of(s, summary_sql_data{}, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "filesystem is 90.0% full"));
  CHECK_FALSE(has(recs, all_optimal));
  s.system.value->disk.percentage = 84.9;
  CHECK_FALSE(has(recommendations_of(s, summary_sql_data{}, H), "full"));
}

TEST_CASE("memory over the warning is reported instead of its trend") {
  auto s = optimal_snapshot();
  s.system.value->memory.percentage = 82;
  summary_sql_data data;
  data.memory_hours = memory_hours(H - hour, 24, 60, 0.5);
  auto recs = recommendations_of(s, data, H);
  INFO(recs_text(recs));
  CHECK(has(recs, "Memory usage is 82.0% (warning at 80%)"));
  CHECK(has(recs, "memory_cleanup"));
  CHECK_FALSE(has(recs, "rising"));
}

TEST_CASE("memory rising linearly toward the warning is reported with the day it gets there") {
  auto s = optimal_snapshot();
  s.system.value->memory.percentage = 61.5;
  summary_sql_data data;
  // 24 hours rising half a point an hour, the last at 61.5 % in the hour starting 23:00.
  const int64_t last = H + hour;
  data.memory_hours = memory_hours(last, 24, 50.0, 0.5);
  REQUIRE(data.memory_hours.back().sum / 6 == Approx(61.5));
  // 80 % is 18.5 points away: 37 hours after the last hour, at noon two days later.
  const int64_t reaches = last + 37 * hour;
  auto recs = recommendations_of(s, data, H + hour + 600);
  INFO(recs_text(recs));
  CHECK(has(recs, "Memory usage is rising 12.00 points a day"));
  CHECK(has(recs, "would reach the 80% warning threshold around " + date_of(reaches)));
  CHECK(date_of(reaches) == "2023-11-16");
  CHECK_FALSE(has(recs, all_optimal));
}

TEST_CASE("flat or falling or too short memory history gives no trend warning") {
  auto s = optimal_snapshot();
  summary_sql_data data;
  data.memory_hours = memory_hours(H, 24, 60, 0.0);
  CHECK_FALSE(has(recommendations_of(s, data, H), "rising"));
  data.memory_hours = memory_hours(H, 24, 75, -0.5);
  CHECK_FALSE(has(recommendations_of(s, data, H), "rising"));
  data.memory_hours = memory_hours(H, 2, 60, 5);
  CHECK_FALSE(has(recommendations_of(s, data, H), "rising"));
  // Rising too slowly to reach 80 % within a week: no warning either.
  data.memory_hours = memory_hours(H, 24, 50, 0.01);
  CHECK_FALSE(has(recommendations_of(s, data, H), "rising"));
}

namespace {

/// A snapshot and history on which every recommendation rule fires.
std::vector<std::string> every_rule_firing() {
  auto s = optimal_snapshot();
  s.system.value->memory.percentage = 61.5;
  s.system.value->cpu.usage = 90;
  s.system.value->disk.percentage = 90;
  s.cache.value->hit_rate = 0.4;
  s.api.value->p95_response_time = 900;
  s.api.value->error_rate = 0.2;
  s.api.value->slowest_endpoints = {{"/slow", "GET", 900.0, 3}};
  summary_sql_data data;
  data.memory_hours = memory_hours(H + hour, 24, 50.0, 0.5);
  return recommendations_of(s, data, H);
}

} // namespace

TEST_CASE("every recommendation rule can fire at once") {
  auto recs = every_rule_firing();
  INFO(recs_text(recs));
  CHECK(recs.size() == 7);
  for (auto part : {"Consider caching GET /slow", "p95 response time is 900 ms",
                    "20.0% of the requests", "Cache hit rate is 40.0%", "CPU usage is 90.0%",
                    "filesystem is 90.0% full", "Memory usage is rising"})
    CHECK(count_with(recs, part) == 1);
  CHECK_FALSE(has(recs, all_optimal));
}

// The rising-memory message ends with a stray space (summary.cpp, "threshold around {} ").
// Kept as an expected failure: it passes once the message is trimmed.
TEST_CASE("no recommendation ends with whitespace") {
  for (const auto& r : every_rule_firing()) {
    INFO("'" << r << "'");
    CHECK_FALSE(std::isspace(static_cast<unsigned char>(r.back())));
  }
}

// -- render_summary -----------------------------------------------------------------------

TEST_CASE("render_summary is JSON with status score metrics trends and recommendations") {
  auto s = optimal_snapshot();
  s.api.value->p95_response_time = 500; // 75 points; everything else 100
  s.api.value->error_rate = 0.01234;
  s.system.value->memory.percentage = 70.456;
  s.system.value->cpu.usage = 12.345;
  s.cache.value->hit_rate = 0.91237;
  summary_sql_data data;
  data.response_time = {110.0, 100.0};
  data.cache_hit_rate = {0.9, 0.8};
  auto snap = std::make_shared<const snapshot>(s);
  auto text = render_summary(snap, data, H);

  json::value doc;
  REQUIRE_NOTHROW(doc = json::parse(text));
  auto& o = doc.as_object();
  CHECK(o.at("status").as_string() == "degraded");
  // Scores: response time 75 (at warning); error rate 100 - 25 × 0.00234 / 0.04 = 98.5375;
  // memory 100 - 25 × 0.456 / 10 = 98.86; cpu and cache 100.
  // Mean 94.4795, minimum 75 → 84.74 → 85.
  CHECK(o.at("score").as_int64() == 85);

  auto& m = o.at("currentMetrics").as_object();
  CHECK(m.at("responseTime").to_number<double>() == Approx(80.46));
  CHECK(m.at("memoryUsage").to_number<double>() == Approx(70.46));
  CHECK(m.at("cpuUsage").to_number<double>() == Approx(12.35).margin(0.006));
  CHECK(m.at("errorRate").to_number<double>() == Approx(0.0123));
  CHECK(m.at("cacheHitRate").to_number<double>() == Approx(0.9124));

  auto& trends = o.at("trends").as_object();
  for (auto name : {"responseTime", "memory", "cache"}) {
    INFO(name);
    REQUIRE(trends.contains(name));
    auto& t = trends.at(name).as_object();
    CHECK(t.at("period").as_string() == "24h");
    CHECK(t.contains("trend"));
    CHECK(t.contains("change"));
  }
  CHECK(trends.at("responseTime").at("trend").as_string() == "degrading");
  CHECK(trends.at("responseTime").at("change").to_number<double>() == Approx(10.0));
  CHECK(trends.at("memory").at("trend").as_string() == "insufficient_data");
  CHECK(trends.at("memory").at("change").is_null());
  CHECK(trends.at("cache").at("trend").as_string() == "improving");
  CHECK(trends.at("cache").at("change").to_number<double>() == Approx(12.5));

  CHECK(o.at("recentOptimizations").as_array().empty());
  CHECK(o.at("alerts").as_array().empty());
  auto& recs = o.at("recommendations").as_array();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].as_string().find("p95 response time is 500 ms") != json::string::npos);
}

TEST_CASE("render_summary of an optimal snapshot scores 100 with the all optimal message") {
  auto snap = std::make_shared<const snapshot>(optimal_snapshot());
  auto doc = json::parse(render_summary(snap, summary_sql_data{}, H));
  CHECK(doc.at("status").as_string() == "optimal");
  CHECK(doc.at("score").as_int64() == 100);
  auto& recs = doc.at("recommendations").as_array();
  REQUIRE(recs.size() == 1);
  CHECK(recs[0].as_string() == all_optimal);
}

TEST_CASE("render_summary shows null metrics for sections that have no data") {
  auto s = optimal_snapshot();
  s.cache.value->gets = 0;
  s.system.error = "cannot read /proc";
  auto doc = json::parse(render_summary(std::make_shared<const snapshot>(s), summary_sql_data{}, H));
  auto& m = doc.at("currentMetrics").as_object();
  CHECK(m.at("cacheHitRate").is_null());
  CHECK(m.at("memoryUsage").is_null());
  CHECK(m.at("cpuUsage").is_null());
  CHECK_FALSE(m.at("responseTime").is_null());

  // No snapshot at all: every current metric is null.
  auto none = json::parse(render_summary(nullptr, summary_sql_data{}, H));
  for (auto name : {"responseTime", "memoryUsage", "cpuUsage", "errorRate", "cacheHitRate"})
    CHECK(none.at("currentMetrics").at(name).is_null());
  CHECK(none.at("trends").at("memory").at("period").as_string() == "24h");
  // No data is not perfect health.
  CHECK(none.at("status").as_string() == "unknown");
  CHECK(none.at("score").is_null());
  CHECK(none.at("recommendations").as_array().empty());
}
