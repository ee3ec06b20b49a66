#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <numeric>
#include <random>
#include <vector>

#include "model/series.hpp"

using medianest::bucket_start;
using medianest::find_metric;
using medianest::from_row;
using medianest::latency_histogram;
using medianest::rollup;
using medianest::rollup_row;
using medianest::route_metric_name;
using medianest::to_row;

namespace {

constexpr double ms_scale = 1000.0; // response_time: sketch integers are µs

/// The nearest-rank q-quantile of `values`: the ceil(q·n)-th smallest sample.
double exact_quantile(std::vector<double> values, double q) {
  REQUIRE_FALSE(values.empty());
  std::sort(values.begin(), values.end());
  auto n = static_cast<double>(values.size());
  auto rank = static_cast<size_t>(std::ceil(q * n - 1e-9));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

/// True when `got` is within `rel` (relative) of `want`.
bool within(double got, double want, double rel) {
  return std::abs(got - want) <= rel * std::abs(want);
}

/// `n` response times in ms drawn from a long-tailed distribution (whole µs, so that
/// scaling them to the sketch's integers is exact).
std::vector<double> long_tailed_ms(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<double> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    // 1 ms .. ~10 s, log-uniform: plenty of octaves for the sketch to get wrong.
    double u = static_cast<double>(rng() >> 11) * 0x1.0p-53;
    auto us = static_cast<uint64_t>(std::llround(1000.0 * std::pow(10000.0, u)));
    out.push_back(static_cast<double>(us) / 1000.0);
  }
  return out;
}

} // namespace

// -- rollup arithmetic --------------------------------------------------------------------

TEST_CASE("rollup add gives exact count sum min max and mean") {
  const std::vector<double> values{3.5, 1.25, 10.0, 7.0, 0.5, 250.75};
  rollup r;
  for (auto v : values)
    r.add(v, ms_scale);
  double sum = 0;
  for (auto v : values)
    sum += v;
  CHECK(r.count == values.size());
  CHECK(r.sum == sum); // every value is a short binary fraction: the sum is exact
  CHECK(r.min == 0.5);
  CHECK(r.max == 250.75);
  CHECK(r.mean() == sum / static_cast<double>(values.size()));
  CHECK(r.sketch.count() == values.size());
  CHECK(r.sketch.sum() == 3500 + 1250 + 10000 + 7000 + 500 + 250750);
}

TEST_CASE("rollup add ignores values that are not finite") {
  rollup r;
  r.add(5.0, ms_scale);
  r.add(std::numeric_limits<double>::quiet_NaN(), ms_scale);
  r.add(std::numeric_limits<double>::infinity(), ms_scale);
  r.add(-std::numeric_limits<double>::infinity(), ms_scale);
  CHECK(r.count == 1);
  CHECK(r.sum == 5.0);
  CHECK(r.min == 5.0);
  CHECK(r.max == 5.0);
}

TEST_CASE("an empty rollup has zero mean and zero quantiles") {
  rollup r;
  CHECK(r.count == 0);
  CHECK(r.mean() == 0.0);
  CHECK(r.quantile(0.5, ms_scale) == 0.0);
  CHECK(r.quantile(0.99, ms_scale) == 0.0);
}

TEST_CASE("a single value is every quantile of its rollup") {
  rollup r;
  r.add(123.456, ms_scale);
  CHECK(r.quantile(0.01, ms_scale) == Approx(123.456));
  CHECK(r.quantile(0.5, ms_scale) == Approx(123.456));
  CHECK(r.quantile(0.99, ms_scale) == Approx(123.456));
}

TEST_CASE("rollup quantiles are within one percent of the exact sample quantiles") {
  auto values = long_tailed_ms(20000, 42);
  rollup r;
  for (auto v : values)
    r.add(v, ms_scale);
  for (double q : {0.5, 0.75, 0.9, 0.95, 0.99, 0.999}) {
    INFO("q = " << q);
    auto want = exact_quantile(values, q);
    auto got = r.quantile(q, ms_scale);
    INFO("exact " << want << " sketch " << got);
    CHECK(within(got, want, 0.01));
  }
  // The extremes are exact, not bucket midpoints.
  CHECK(r.min == *std::min_element(values.begin(), values.end()));
  CHECK(r.max == *std::max_element(values.begin(), values.end()));
  CHECK(r.quantile(1.0, ms_scale) == r.max);
}

TEST_CASE("percent and fraction metrics keep quantiles within one percent at their scales") {
  std::mt19937_64 rng(7);
  // CPU percentages with three decimals (scale 1000) and hit rates with six (scale 1e6).
  std::vector<double> cpu, hit;
  for (int i = 0; i < 5000; ++i) {
    cpu.push_back(static_cast<double>(1000 + rng() % 99000) / 1000.0); // 1.000 .. 99.999
    hit.push_back(static_cast<double>(100000 + rng() % 900000) / 1e6); // 0.1 .. 0.999999
  }
  auto cpu_info = find_metric("cpu");
  auto hit_info = find_metric("cache_hit_rate");
  REQUIRE(cpu_info);
  REQUIRE(hit_info);
  rollup rc, rh;
  for (auto v : cpu)
    rc.add(v, cpu_info->scale);
  for (auto v : hit)
    rh.add(v, hit_info->scale);
  for (double q : {0.5, 0.95, 0.99}) {
    INFO("q = " << q);
    CHECK(within(rc.quantile(q, cpu_info->scale), exact_quantile(cpu, q), 0.01));
    CHECK(within(rh.quantile(q, hit_info->scale), exact_quantile(hit, q), 0.01));
  }
}

TEST_CASE("merging sixty minute buckets equals one bucket fed every value") {
  std::mt19937_64 rng(2024);
  std::vector<rollup> minutes(60);
  rollup whole;
  std::vector<double> all;
  uint64_t expected_count = 0;
  for (size_t m = 0; m < minutes.size(); ++m) {
    minutes[m].start = static_cast<int64_t>(m) * 60;
    auto n = 20 + rng() % 200;
    for (uint64_t i = 0; i < n; ++i) {
      // Quarter milliseconds: every partial sum is exact, whatever the order.
      double v = static_cast<double>(1 + rng() % 40000) / 4.0;
      minutes[m].add(v, ms_scale);
      whole.add(v, ms_scale);
      all.push_back(v);
      ++expected_count;
    }
  }
  rollup merged;
  for (const auto& m : minutes)
    merged.merge(m);

  double expected_sum = 0;
  for (auto v : all)
    expected_sum += v;
  CHECK(merged.count == expected_count);
  CHECK(whole.count == expected_count);
  CHECK(merged.sum == expected_sum);
  CHECK(whole.sum == expected_sum);
  CHECK(merged.min == *std::min_element(all.begin(), all.end()));
  CHECK(merged.max == *std::max_element(all.begin(), all.end()));
  CHECK(merged.min == whole.min);
  CHECK(merged.max == whole.max);
  // The sketches are the same buckets: quantiles are identical, not merely close.
  CHECK(merged.quantile(0.95, ms_scale) == whole.quantile(0.95, ms_scale));
  CHECK(merged.quantile(0.99, ms_scale) == whole.quantile(0.99, ms_scale));
  CHECK(merged.quantile(0.5, ms_scale) == whole.quantile(0.5, ms_scale));
  CHECK(merged.sketch.encode() == whole.sketch.encode());
  CHECK(within(merged.quantile(0.99, ms_scale), exact_quantile(all, 0.99), 0.01));
}

TEST_CASE("the p99 of merged buckets is not the average of per bucket p99s on skewed data") {
  // An hour of minutes: 59 calm ones around 10-20 ms and one incident minute of 1-1.1 s.
  std::mt19937_64 rng(99);
  std::vector<rollup> minutes(60);
  std::vector<double> all;
  for (size_t m = 0; m < minutes.size(); ++m) {
    bool incident = m == 37;
    for (int i = 0; i < 100; ++i) {
      double v = incident ? static_cast<double>(1000000 + rng() % 100000) / 1000.0
                          : static_cast<double>(10000 + rng() % 10000) / 1000.0;
      minutes[m].add(v, ms_scale);
      all.push_back(v);
    }
  }
  rollup merged;
  double mean_of_p99s = 0;
  for (const auto& m : minutes) {
    merged.merge(m);
    mean_of_p99s += m.quantile(0.99, ms_scale);
  }
  mean_of_p99s /= static_cast<double>(minutes.size());

  auto exact_p99 = exact_quantile(all, 0.99);
  REQUIRE(exact_p99 >= 1000.0); // the top 1 % of the hour is the incident
  auto merged_p99 = merged.quantile(0.99, ms_scale);
  CHECK(within(merged_p99, exact_p99, 0.01));
  // Averaging percentiles hides the incident almost completely.
  CHECK(mean_of_p99s < 50.0);
  CHECK(merged_p99 > 20 * mean_of_p99s);
}

TEST_CASE("merging an empty rollup changes nothing") {
  rollup r;
  r.add(4.0, ms_scale);
  r.add(8.0, ms_scale);
  auto before = r.sketch.encode();
  r.merge(rollup{});
  CHECK(r.count == 2);
  CHECK(r.sum == 12.0);
  CHECK(r.min == 4.0);
  CHECK(r.max == 8.0);
  CHECK(r.sketch.encode() == before);

  // And merging into an empty one copies the extremes rather than keeping zeros.
  rollup empty;
  rollup high;
  high.add(50.0, ms_scale);
  high.add(70.0, ms_scale);
  empty.merge(high);
  CHECK(empty.min == 50.0);
  CHECK(empty.max == 70.0);
}

TEST_CASE("add_histogram converts microseconds into the metric unit") {
  latency_histogram h;
  const std::vector<uint64_t> micros{1500, 2500, 120000, 800, 64000};
  for (auto us : micros)
    h.record(us);
  rollup r;
  r.add(10.0, ms_scale); // an earlier value of 10 ms
  r.add_histogram(h, ms_scale);
  uint64_t total_us = std::accumulate(micros.begin(), micros.end(), uint64_t{0});
  CHECK(r.count == micros.size() + 1);
  CHECK(r.sum == Approx(10.0 + static_cast<double>(total_us) / 1000.0));
  CHECK(r.min == Approx(0.8));
  CHECK(r.max == Approx(120.0));
  // An empty histogram adds nothing.
  r.add_histogram(latency_histogram{}, ms_scale);
  CHECK(r.count == micros.size() + 1);
}

// -- rows ---------------------------------------------------------------------------------

TEST_CASE("to_row precomputes p95 and p99 and from_row restores the bucket") {
  auto values = long_tailed_ms(3000, 5);
  rollup r;
  r.start = 1'700'000'040;
  for (auto v : values)
    r.add(v, ms_scale);
  auto row = to_row("response_time", 60, r, ms_scale);
  CHECK(row.metric == "response_time");
  CHECK(row.resolution == 60);
  CHECK(row.start == 1'700'000'040);
  CHECK(row.count == values.size());
  CHECK(row.sum == r.sum);
  CHECK(row.min == *std::min_element(values.begin(), values.end()));
  CHECK(row.max == *std::max_element(values.begin(), values.end()));
  CHECK(within(row.p95, exact_quantile(values, 0.95), 0.01));
  CHECK(within(row.p99, exact_quantile(values, 0.99), 0.01));
  CHECK_FALSE(row.sketch.empty());

  rollup back;
  REQUIRE(from_row(row, back));
  CHECK(back.start == r.start);
  CHECK(back.count == r.count);
  CHECK(back.sum == r.sum);
  CHECK(back.min == r.min);
  CHECK(back.max == r.max);
  CHECK(back.sketch.count() == values.size());
  CHECK(back.quantile(0.95, ms_scale) == row.p95);
  CHECK(back.quantile(0.99, ms_scale) == row.p99);
  CHECK(back.quantile(0.5, ms_scale) == r.quantile(0.5, ms_scale));
  CHECK(back.sketch.encode() == row.sketch);
  // A restored bucket keeps accumulating like the original.
  back.add(20000.0, ms_scale);
  CHECK(back.count == values.size() + 1);
  CHECK(back.max == 20000.0);
}

TEST_CASE("from_row rejects a sketch that does not decode") {
  rollup_row row;
  row.metric = "cpu";
  row.resolution = 60;
  row.count = 1;
  row.sketch = "not a sketch";
  rollup out;
  CHECK_FALSE(from_row(row, out));
  row.sketch = "";
  CHECK_FALSE(from_row(row, out));
}

// -- bucket_start -------------------------------------------------------------------------

TEST_CASE("bucket_start aligns positive times down to the resolution") {
  CHECK(bucket_start(0, 60) == 0);
  CHECK(bucket_start(59, 60) == 0);
  CHECK(bucket_start(60, 60) == 60);
  CHECK(bucket_start(61, 60) == 60);
  CHECK(bucket_start(299, 300) == 0);
  CHECK(bucket_start(300, 300) == 300);
  CHECK(bucket_start(3599, 3600) == 0);
  // 2023-11-14T22:13:20Z
  CHECK(bucket_start(1'700'000'000, 60) == 1'699'999'980);
  CHECK(bucket_start(1'700'000'000, 300) == 1'699'999'800);
  CHECK(bucket_start(1'700'000'000, 3600) == 1'699'999'200);
}

TEST_CASE("bucket_start aligns negative times down and not toward zero") {
  CHECK(bucket_start(-1, 60) == -60);
  CHECK(bucket_start(-59, 60) == -60);
  CHECK(bucket_start(-60, 60) == -60);
  CHECK(bucket_start(-61, 60) == -120);
  CHECK(bucket_start(-1, 3600) == -3600);
  CHECK(bucket_start(-3601, 3600) == -7200);
}

TEST_CASE("every time lies in the bucket bucket_start gives it") {
  for (int64_t res : medianest::resolutions) {
    for (int64_t t = -2 * res - 7; t <= 2 * res + 7; ++t) {
      auto start = bucket_start(t, res);
      auto floor_start = static_cast<int64_t>(std::floor(static_cast<double>(t) / static_cast<double>(res)))
                         * res;
      INFO("t = " << t << " res = " << res);
      REQUIRE(start == floor_start);
      REQUIRE(start <= t);
      REQUIRE(t < start + res);
    }
  }
}

// -- metric descriptions ------------------------------------------------------------------

TEST_CASE("find_metric knows the builtin metrics and the per route series") {
  for (auto name : {"response_time", "memory", "cpu", "cache_hit_rate", "error_rate",
                    "requests_per_minute", "disk"})
    CHECK(find_metric(name));
  CHECK_FALSE(find_metric("bogus"));
  CHECK_FALSE(find_metric(""));
  CHECK_FALSE(find_metric("route:"));

  auto name = route_metric_name("GET", "/x");
  CHECK(name == "route:GET /x");
  auto route = find_metric(name);
  REQUIRE(route);
  CHECK(route->name == name);
  CHECK(route->unit == "ms");
  CHECK(route->scale == 1000.0);
  REQUIRE(route->warning);
  CHECK(*route->warning == 500.0);

  auto hit = find_metric("cache_hit_rate");
  REQUIRE(hit);
  CHECK(hit->lower_is_worse);
  CHECK(hit->unit == "fraction");
  auto rpm = find_metric("requests_per_minute");
  REQUIRE(rpm);
  CHECK_FALSE(rpm->warning);
  CHECK_FALSE(rpm->critical);
}
