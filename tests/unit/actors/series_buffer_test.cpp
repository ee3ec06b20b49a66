#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "actors/series_buffer.hpp"

using medianest::api_sample;
using medianest::cache_sample;
using medianest::endpoint_stats;
using medianest::latency_histogram;
using medianest::rollup;
using medianest::rollup_row;
using medianest::series_buffer;
using medianest::snapshot;
using medianest::sys_ms;
using medianest::system_sample;

namespace {

/// An hour-aligned unix time (2023-11-14T22:00:00Z): every 1m/5m/1h bucket starts on it.
constexpr int64_t H = 1'699'999'200;
static_assert(H % 3600 == 0);

sys_ms at_ms(int64_t unix_ms) {
  return sys_ms{std::chrono::milliseconds(unix_ms)};
}
sys_ms at_s(int64_t unix_s) {
  return at_ms(unix_s * 1000);
}

system_sample system_of(double cpu, double memory, double disk) {
  system_sample s;
  s.cpu.usage = cpu;
  s.cpu.cores = 4;
  s.memory.percentage = memory;
  s.disk.percentage = disk;
  return s;
}

snapshot with_system(sys_ms updated, double cpu, double memory = 40, double disk = 50) {
  snapshot s;
  s.timestamp = updated;
  s.system.value = system_of(cpu, memory, disk);
  s.system.updated = updated;
  return s;
}

cache_sample cache_of(uint64_t gets, double hit_rate) {
  cache_sample c;
  c.source = "builtin";
  c.gets = gets;
  c.hit_rate = hit_rate;
  return c;
}

/// An api sample whose interval histogram holds `micros` (all of them requests of the
/// interval, `errors` of which failed).
api_sample api_of(const std::vector<uint64_t>& micros, uint64_t errors, double rpm) {
  api_sample a;
  for (auto us : micros)
    a.interval_latency.record(us);
  a.interval_requests = micros.size();
  a.interval_errors = errors;
  a.requests_per_minute = rpm;
  return a;
}

snapshot with_api(sys_ms updated, api_sample a) {
  snapshot s;
  s.timestamp = updated;
  s.api.value = std::move(a);
  s.api.updated = updated;
  return s;
}

/// The one pending row of a series at a resolution (fails when there is not exactly one).
rollup_row only_row(const series_buffer& b, const std::string& metric, int64_t resolution) {
  auto rows = b.pending(metric, resolution);
  INFO(metric << " at " << resolution << " s");
  REQUIRE(rows.size() == 1);
  return rows.front();
}

const rollup_row* find_row(const std::vector<rollup_row>& rows, const std::string& metric,
                           int64_t resolution, int64_t start) {
  for (const auto& r : rows)
    if (r.metric == metric && r.resolution == resolution && r.start == start)
      return &r;
  return nullptr;
}

size_t rows_of(const std::vector<rollup_row>& rows, const std::string& metric) {
  return static_cast<size_t>(
    std::count_if(rows.begin(), rows.end(), [&](const rollup_row& r) { return r.metric == metric; }));
}

double exact_quantile(std::vector<double> values, double q) {
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

} // namespace

TEST_CASE("every builtin value lands in its 1m and 5m and 1h buckets at the aligned starts") {
  // 2h 17m 42.345s after the hour: buckets H+2h17m (1m), H+2h15m (5m), H+2h (1h).
  auto t_ms = (H + 2 * 3600 + 17 * 60 + 42) * 1000 + 345;
  const int64_t start_1m = H + 2 * 3600 + 17 * 60;
  const int64_t start_5m = H + 2 * 3600 + 15 * 60;
  const int64_t start_1h = H + 2 * 3600;

  snapshot s;
  s.timestamp = at_ms(t_ms);
  s.api.value = api_of({2000, 4000, 6000, 8000}, 1, 120.0);
  s.api.updated = at_ms(t_ms);
  s.system.value = system_of(12.5, 40.25, 70.5);
  s.system.updated = at_ms(t_ms);
  s.cache.value = cache_of(10, 0.8);
  s.cache.updated = at_ms(t_ms);

  series_buffer b;
  b.ingest(s);

  struct expectation {
    const char* metric;
    uint64_t count;
    double sum;
  };
  const expectation expected[] = {
    {"cpu", 1, 12.5},
    {"memory", 1, 40.25},
    {"disk", 1, 70.5},
    {"cache_hit_rate", 1, 0.8},
    {"requests_per_minute", 1, 120.0},
    {"error_rate", 1, 0.25},        // 1 of 4 requests failed
    {"response_time", 4, 20.0},     // 2 + 4 + 6 + 8 ms
  };
  for (const auto& e : expected) {
    for (auto [res, start] : {std::pair{int64_t{60}, start_1m}, std::pair{int64_t{300}, start_5m},
                              std::pair{int64_t{3600}, start_1h}}) {
      INFO(e.metric << " at " << res);
      auto row = only_row(b, e.metric, res);
      CHECK(row.metric == e.metric);
      CHECK(row.resolution == res);
      CHECK(row.start == start);
      CHECK(row.count == e.count);
      CHECK(row.sum == Approx(e.sum));
    }
  }
  auto rt = only_row(b, "response_time", 60);
  CHECK(rt.min == Approx(2.0));
  CHECK(rt.max == Approx(8.0));
}

TEST_CASE("a section with an unchanged updated stamp is not ingested twice") {
  const int64_t t = H + 10;
  snapshot s = with_system(at_s(t), 30.0);
  s.api.value = api_of({1000, 3000}, 0, 60.0);
  s.api.updated = at_s(t);
  s.cache.value = cache_of(5, 0.5);
  s.cache.updated = at_s(t);

  series_buffer b;
  // The hub republishes the same sections with every snapshot, at any rate.
  for (int i = 0; i < 5; ++i) {
    s.timestamp = at_s(t + i);
    b.ingest(s);
  }
  CHECK(only_row(b, "cpu", 60).count == 1);
  CHECK(only_row(b, "response_time", 60).count == 2);
  CHECK(only_row(b, "requests_per_minute", 60).count == 1);
  CHECK(only_row(b, "cache_hit_rate", 60).count == 1);
  CHECK(b.raw("cpu").size() == 1);

  // Only the system section is new: only its series move.
  s.system.updated = at_s(t + 5);
  s.system.value->cpu.usage = 50.0;
  b.ingest(s);
  CHECK(only_row(b, "cpu", 60).count == 2);
  CHECK(only_row(b, "cpu", 60).sum == Approx(80.0));
  CHECK(only_row(b, "response_time", 60).count == 2);
  CHECK(only_row(b, "cache_hit_rate", 60).count == 1);

  // The api section comes back with a new stamp: its histogram counts again.
  s.api.updated = at_s(t + 6);
  b.ingest(s);
  CHECK(only_row(b, "response_time", 60).count == 4);
  CHECK(only_row(b, "cpu", 60).count == 2);
}

TEST_CASE("a section that reports an error is not ingested") {
  snapshot s = with_system(at_s(H + 1), 30.0);
  s.system.error = "cannot read /proc/stat";
  s.cache.value = cache_of(10, 0.9);
  s.cache.updated = at_s(H + 1);
  s.cache.error = "redis down";
  series_buffer b;
  b.ingest(s);
  CHECK(b.pending("cpu", 60).empty());
  CHECK(b.pending("cache_hit_rate", 60).empty());
  CHECK(b.take_dirty(H + 1).empty());
}

TEST_CASE("the 1m response time bucket counts every request of the minute") {
  std::mt19937_64 rng(11);
  series_buffer b;
  std::vector<double> minute0, minute1; // ms
  uint64_t total_us0 = 0;
  // One api sample a second for two minutes, each with a few requests.
  for (int sec = 0; sec < 120; ++sec) {
    std::vector<uint64_t> micros;
    auto n = rng() % 6; // some seconds have no request at all
    for (uint64_t i = 0; i < n; ++i) {
      auto us = 500 + rng() % 400000;
      micros.push_back(us);
      (sec < 60 ? minute0 : minute1).push_back(static_cast<double>(us) / 1000.0);
      if (sec < 60)
        total_us0 += us;
    }
    b.ingest(with_api(at_ms((H + sec) * 1000 + 250), api_of(micros, 0, 0)));
  }
  REQUIRE_FALSE(minute0.empty());
  REQUIRE_FALSE(minute1.empty());

  auto rows = b.pending("response_time", 60);
  REQUIRE(rows.size() == 2); // minute 0 closed, minute 1 open
  CHECK(rows[0].start == H);
  CHECK(rows[0].count == minute0.size());
  CHECK(rows[0].sum == Approx(static_cast<double>(total_us0) / 1000.0));
  CHECK(rows[0].min == Approx(*std::min_element(minute0.begin(), minute0.end())));
  CHECK(rows[0].max == Approx(*std::max_element(minute0.begin(), minute0.end())));
  CHECK(rows[0].p95 == Approx(exact_quantile(minute0, 0.95)).epsilon(0.01));
  CHECK(rows[0].p99 == Approx(exact_quantile(minute0, 0.99)).epsilon(0.01));
  CHECK(rows[1].start == H + 60);
  CHECK(rows[1].count == minute1.size());

  auto five = only_row(b, "response_time", 300);
  CHECK(five.start == H);
  CHECK(five.count == minute0.size() + minute1.size());
  CHECK(only_row(b, "response_time", 3600).count == minute0.size() + minute1.size());
}

TEST_CASE("an interval without requests records neither response time nor error rate") {
  series_buffer b;
  b.ingest(with_api(at_s(H + 5), api_of({}, 0, 0.0)));
  CHECK(b.pending("response_time", 60).empty());
  CHECK(b.pending("error_rate", 60).empty());
  // The request rate is a value even when it is zero.
  auto rpm = only_row(b, "requests_per_minute", 60);
  CHECK(rpm.count == 1);
  CHECK(rpm.sum == 0.0);
}

TEST_CASE("take_dirty returns open buckets only when they changed and closed ones once") {
  series_buffer b;
  b.ingest(with_system(at_s(H + 10), 10.0));
  auto rows = b.take_dirty(H + 10);
  // cpu, memory and disk at three resolutions, all open.
  CHECK(rows.size() == 9);
  CHECK(rows_of(rows, "cpu") == 3);
  REQUIRE(find_row(rows, "cpu", 60, H));
  CHECK(find_row(rows, "cpu", 60, H)->count == 1);
  REQUIRE(find_row(rows, "memory", 300, H));
  REQUIRE(find_row(rows, "disk", 3600, H));

  // Nothing changed: nothing to write.
  CHECK(b.take_dirty(H + 20).empty());

  b.ingest(with_system(at_s(H + 30), 20.0));
  rows = b.take_dirty(H + 30);
  CHECK(rows.size() == 9);
  REQUIRE(find_row(rows, "cpu", 60, H));
  CHECK(find_row(rows, "cpu", 60, H)->count == 2);

  // A sample of the next minute closes the first 1m bucket.
  b.ingest(with_system(at_s(H + 70), 30.0));
  rows = b.take_dirty(H + 70);
  CHECK(rows_of(rows, "cpu") == 4);
  CHECK(rows.size() == 12);
  REQUIRE(find_row(rows, "cpu", 60, H));
  CHECK(find_row(rows, "cpu", 60, H)->count == 2);
  CHECK(find_row(rows, "cpu", 60, H)->sum == Approx(30.0));
  REQUIRE(find_row(rows, "cpu", 60, H + 60));
  CHECK(find_row(rows, "cpu", 60, H + 60)->count == 1);
  REQUIRE(find_row(rows, "cpu", 300, H));
  CHECK(find_row(rows, "cpu", 300, H)->count == 3);
  REQUIRE(find_row(rows, "cpu", 3600, H));
  CHECK(find_row(rows, "cpu", 3600, H)->count == 3);
  // The closed bucket is gone from memory once taken.
  CHECK(b.pending("cpu", 60).size() == 1);
  CHECK(b.take_dirty(H + 80).empty());

  // Time passes without samples: every open bucket is over and comes out once, closed.
  rows = b.take_dirty(H + 3600);
  CHECK(rows.size() == 9);
  REQUIRE(find_row(rows, "cpu", 60, H + 60));
  REQUIRE(find_row(rows, "cpu", 300, H));
  REQUIRE(find_row(rows, "cpu", 3600, H));
  CHECK(find_row(rows, "cpu", 3600, H)->count == 3);
  CHECK(b.pending("cpu", 60).empty());
  CHECK(b.pending("cpu", 300).empty());
  CHECK(b.pending("cpu", 3600).empty());
  CHECK(b.take_dirty(H + 3700).empty());
}

TEST_CASE("a closed bucket not yet taken is still pending next to the open one") {
  series_buffer b;
  b.ingest(with_system(at_s(H + 10), 10.0));
  b.ingest(with_system(at_s(H + 310), 20.0)); // closes the 1m and the 5m buckets of H
  auto minutes = b.pending("cpu", 60);
  REQUIRE(minutes.size() == 2);
  CHECK(minutes[0].start == H);
  CHECK(minutes[1].start == H + 300);
  auto fives = b.pending("cpu", 300);
  REQUIRE(fives.size() == 2);
  CHECK(fives[0].start == H);
  CHECK(fives[1].start == H + 300);
  CHECK(only_row(b, "cpu", 3600).count == 2);
}

TEST_CASE("restore continues an open bucket read back from SQL") {
  const int64_t minute = H + 600;
  rollup stored;
  stored.start = minute;
  for (double v : {10.0, 20.0, 30.0})
    stored.add(v, 1000.0);
  auto row = medianest::to_row("cpu", 60, stored, 1000.0);

  series_buffer b;
  b.restore(row, minute + 30);
  auto back = only_row(b, "cpu", 60);
  CHECK(back.start == minute);
  CHECK(back.count == 3);
  CHECK(back.sum == Approx(60.0));
  // A restored bucket is already stored: nothing to write until it changes.
  CHECK(b.take_dirty(minute + 30).empty());

  b.ingest(with_system(at_s(minute + 40), 40.0));
  auto continued = only_row(b, "cpu", 60);
  CHECK(continued.start == minute);
  CHECK(continued.count == 4);
  CHECK(continued.sum == Approx(100.0));
  CHECK(continued.min == Approx(10.0));
  CHECK(continued.max == Approx(40.0));
  // The resolutions that were not restored start afresh.
  CHECK(only_row(b, "cpu", 300).count == 1);
  CHECK(only_row(b, "cpu", 3600).count == 1);
  auto dirty = b.take_dirty(minute + 40);
  REQUIRE(find_row(dirty, "cpu", 60, minute));
  CHECK(find_row(dirty, "cpu", 60, minute)->count == 4);
}

TEST_CASE("restore ignores rows that are over or unknown or undecodable") {
  rollup r;
  r.start = H;
  r.add(5.0, 1000.0);
  series_buffer b;

  auto over = medianest::to_row("cpu", 60, r, 1000.0);
  b.restore(over, H + 60); // the bucket ended at H + 60
  CHECK(b.pending("cpu", 60).empty());

  auto unknown = medianest::to_row("no_such_metric", 60, r, 1000.0);
  b.restore(unknown, H + 1);
  CHECK(b.pending("no_such_metric", 60).empty());
  auto names = b.series_names();
  CHECK(std::find(names.begin(), names.end(), "no_such_metric") == names.end());

  auto odd_resolution = medianest::to_row("cpu", 120, r, 1000.0);
  b.restore(odd_resolution, H + 1);
  CHECK(b.pending("cpu", 60).empty());
  CHECK(b.pending("cpu", 120).empty());

  auto garbled = medianest::to_row("memory", 300, r, 1000.0);
  garbled.sketch = "garbage";
  b.restore(garbled, H + 1);
  CHECK(b.pending("memory", 300).empty());

  auto fine = medianest::to_row("disk", 3600, r, 1000.0);
  b.restore(fine, H + 3599);
  CHECK(only_row(b, "disk", 3600).count == 1);
}

TEST_CASE("raw keeps only the last hour of samples in ascending order") {
  series_buffer b;
  std::vector<std::pair<int64_t, double>> fed;
  // A sample every 7 minutes for 2h20m.
  for (int i = 0; i <= 20; ++i) {
    int64_t t_ms = (H + i * 420) * 1000;
    double cpu = 1.5 * i;
    fed.emplace_back(t_ms, cpu);
    b.ingest(with_system(at_ms(t_ms), cpu));
  }
  int64_t newest = fed.back().first;
  std::vector<std::pair<int64_t, double>> expected;
  for (const auto& f : fed)
    if (f.first >= newest - 3'600'000)
      expected.push_back(f);
  REQUIRE(expected.size() == 9);

  auto raw = b.raw("cpu");
  REQUIRE(raw.size() == expected.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    CHECK(raw[i].first == expected[i].first);
    CHECK(raw[i].second == Approx(expected[i].second));
  }
  CHECK(std::is_sorted(raw.begin(), raw.end()));
  CHECK(b.raw("no_such_metric").empty());
}

TEST_CASE("raw response time samples are the mean of each interval in ms") {
  series_buffer b;
  b.ingest(with_api(at_s(H + 1), api_of({1000, 2000, 6000}, 0, 3)));
  b.ingest(with_api(at_s(H + 2), api_of({500}, 0, 4)));
  auto raw = b.raw("response_time");
  REQUIRE(raw.size() == 2);
  CHECK(raw[0].first == (H + 1) * 1000);
  CHECK(raw[0].second == Approx(3.0));
  CHECK(raw[1].first == (H + 2) * 1000);
  CHECK(raw[1].second == Approx(0.5));
}

TEST_CASE("per route series are capped at max_route_series") {
  constexpr size_t total_routes = series_buffer::max_route_series + 10;
  series_buffer b;
  auto route = [](size_t i) { return "/r/" + std::to_string(i); };
  // The api sample lists its five slowest routes; over time, more routes than the cap.
  size_t next = 0;
  for (int sec = 0; next < total_routes; ++sec) {
    api_sample a = api_of({1000}, 0, 1);
    for (int k = 0; k < 5 && next < total_routes; ++k, ++next)
      a.slowest_endpoints.push_back({route(next), "GET", 100.0 + static_cast<double>(next), 3});
    b.ingest(with_api(at_s(H + sec), std::move(a)));
  }
  auto names = b.series_names();
  auto route_names = std::count_if(names.begin(), names.end(), [](const std::string& n) {
    return n.rfind("route:", 0) == 0;
  });
  CHECK(static_cast<size_t>(route_names) == series_buffer::max_route_series);
  auto first = only_row(b, "route:GET /r/0", 60);
  CHECK(first.sum == Approx(100.0));
  CHECK(only_row(b, "route:GET /r/49", 60).count == 1);
  CHECK(b.pending("route:GET /r/50", 60).empty());
  CHECK(b.pending("route:GET /r/59", 60).empty());

  // A known route keeps accumulating; a new one is still refused.
  api_sample later = api_of({1000}, 0, 1);
  later.slowest_endpoints.push_back({"/r/0", "GET", 300.0, 1});
  later.slowest_endpoints.push_back({"/brand-new", "GET", 900.0, 1});
  b.ingest(with_api(at_s(H + 59), std::move(later)));
  auto again = only_row(b, "route:GET /r/0", 60);
  CHECK(again.count == 2);
  CHECK(again.sum == Approx(400.0));
  CHECK(b.pending("route:GET /brand-new", 60).empty());
}

TEST_CASE("a per route series is named by method and route template") {
  series_buffer b;
  api_sample a = api_of({2000}, 0, 1);
  a.slowest_endpoints.push_back({"/x", "GET", 12.5, 4});
  a.slowest_endpoints.push_back({"/x", "POST", 40.0, 1});
  b.ingest(with_api(at_s(H + 3), std::move(a)));
  auto get = only_row(b, "route:GET /x", 60);
  CHECK(get.metric == "route:GET /x");
  CHECK(get.sum == Approx(12.5));
  CHECK(only_row(b, "route:POST /x", 300).sum == Approx(40.0));
  auto dirty = b.take_dirty(H + 3);
  CHECK(rows_of(dirty, "route:GET /x") == 3);
}

TEST_CASE("a cache nobody reads from records no hit rate") {
  series_buffer b;
  snapshot s;
  s.cache.value = cache_of(0, 0.0);
  s.cache.updated = at_s(H + 1);
  b.ingest(s);
  CHECK(b.pending("cache_hit_rate", 60).empty());
  CHECK(b.raw("cache_hit_rate").empty());

  s.cache.value = cache_of(8, 0.625);
  s.cache.updated = at_s(H + 2);
  b.ingest(s);
  auto row = only_row(b, "cache_hit_rate", 60);
  CHECK(row.count == 1);
  CHECK(row.sum == Approx(0.625));
}

TEST_CASE("pending is empty for unknown series and unknown resolutions") {
  series_buffer b;
  b.ingest(with_system(at_s(H + 1), 10.0));
  CHECK(b.pending("nope", 60).empty());
  CHECK(b.pending("cpu", 120).empty());
  CHECK(b.pending("cpu", 0).empty());
  CHECK(b.pending("cpu", 60).size() == 1);
}

TEST_CASE("the builtin series exist before any sample and memory grows with data") {
  series_buffer b;
  auto names = b.series_names();
  for (auto m : {"response_time", "memory", "cpu", "cache_hit_rate", "error_rate",
                 "requests_per_minute", "disk"})
    CHECK(std::find(names.begin(), names.end(), m) != names.end());
  CHECK(names.size() == 7);
  auto before = b.memory_bytes();
  CHECK(before > 0);
  for (int i = 0; i < 100; ++i)
    b.ingest(with_system(at_s(H + i), 10.0 + i));
  CHECK(b.memory_bytes() > before);
}

namespace {

/// Every field of two row lists is the same.
void check_same_rows(const std::vector<rollup_row>& a, const std::vector<rollup_row>& b) {
  REQUIRE(a.size() == b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    INFO(a[i].metric << " at " << a[i].resolution << " s from " << a[i].start);
    CHECK(a[i].metric == b[i].metric);
    CHECK(a[i].resolution == b[i].resolution);
    CHECK(a[i].start == b[i].start);
    CHECK(a[i].count == b[i].count);
    CHECK(a[i].sum == b[i].sum);
    CHECK(a[i].min == b[i].min);
    CHECK(a[i].max == b[i].max);
    CHECK(a[i].p95 == b[i].p95);
    CHECK(a[i].p99 == b[i].p99);
    CHECK(a[i].sketch == b[i].sketch);
  }
}

struct buffer_view {
  std::map<std::string, std::vector<std::pair<int64_t, double>>> raw;
  std::map<std::pair<std::string, int64_t>, std::vector<rollup_row>> pending;
};

/// What the buffer answers for each of `metrics`: raw samples and pending rows at every
/// resolution.
buffer_view view_of(const series_buffer& b, const std::vector<std::string>& metrics) {
  buffer_view v;
  for (const auto& m : metrics) {
    v.raw[m] = b.raw(m);
    for (int64_t res : {60, 300, 3600})
      v.pending[{m, res}] = b.pending(m, res);
  }
  return v;
}

void check_same_view(const buffer_view& a, const buffer_view& b) {
  CHECK(a.raw == b.raw);
  REQUIRE(a.pending.size() == b.pending.size());
  for (const auto& [key, rows] : a.pending) {
    INFO(key.first << " at " << key.second << " s");
    check_same_rows(rows, b.pending.at(key));
  }
}

} // namespace

TEST_CASE("compact keeps every raw sample and pending bucket", "[series_buffer]") {
  series_buffer b;
  const std::vector<std::string> metrics{"cpu", "memory", "disk", "response_time",
                                         "requests_per_minute"};
  // Two samples a minute for 40 minutes and nothing taken: closed 1m and 5m buckets pile up.
  for (int i = 0; i < 80; ++i) {
    b.ingest(with_system(at_s(H + i * 30), 10.0 + i % 7, 40.0 + i % 3, 50.0));
    b.ingest(with_api(at_s(H + i * 30 + 1), api_of({1000u + uint64_t(i) * 10, 5000}, 0, 2.0 * i)));
  }
  REQUIRE(b.pending("cpu", 60).size() == 40);
  REQUIRE(b.pending("cpu", 300).size() == 8);

  // Compacting with closed buckets still waiting changes nothing the buffer answers.
  auto before = view_of(b, metrics);
  auto memory_before = b.memory_bytes();
  b.compact();
  check_same_view(before, view_of(b, metrics));
  CHECK(b.memory_bytes() == memory_before);

  // Once written, the closed buckets are gone but their vectors keep the capacity: compact
  // gives it back and reports it.
  auto written = b.take_dirty(H + 80 * 30 - 1);
  CHECK(rows_of(written, "cpu") == 40 + 8 + 1);
  auto after_take = view_of(b, metrics);
  REQUIRE(after_take.pending[{"cpu", 60}].size() == 1);
  auto released = b.compact();
  CHECK(released >= sizeof(rollup) * 39);
  check_same_view(after_take, view_of(b, metrics));
  // Nothing more to give back.
  CHECK(b.compact() == 0);

  // The buffer keeps working after compaction.
  b.ingest(with_system(at_s(H + 80 * 30 + 61), 99.0));
  auto cpu = b.pending("cpu", 60);
  REQUIRE(cpu.size() == 2);
  CHECK(cpu.back().count == 1);
  CHECK(cpu.back().max == Approx(99.0));
  CHECK(b.raw("cpu").back().second == Approx(99.0));
}

TEST_CASE("compact of an empty buffer releases nothing", "[series_buffer]") {
  series_buffer b;
  CHECK(b.compact() == 0);
  CHECK(b.take_dirty(H).empty());
  CHECK(b.compact() == 0);
}
