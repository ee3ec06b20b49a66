#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <random>

#include "model/latency_histogram.hpp"

using medianest::latency_histogram;

namespace {

/// The q-quantile of raw samples by the same rank rule: the ceil(q*n)-th smallest.
double exact_quantile(std::vector<uint64_t> v, double q) {
  std::sort(v.begin(), v.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(v.size())));
  return static_cast<double>(v[std::max<size_t>(rank, 1) - 1]);
}

} // namespace

TEST_CASE("bucket boundaries tile the value range without gaps") {
  for (uint32_t i = 0; i < 64 * 30; ++i) {
    auto lo = latency_histogram::lower_bound_of(i);
    auto width = latency_histogram::width_of(i);
    CHECK(latency_histogram::index_of(lo) == i);
    CHECK(latency_histogram::index_of(lo + width - 1) == i);
    CHECK(latency_histogram::index_of(lo + width) == i + 1);
  }
}

TEST_CASE("quantiles stay within 1 percent of the exact sample quantile") {
  std::mt19937_64 rng{42};
  std::lognormal_distribution<double> dist{std::log(20'000.0), 1.0};
  std::vector<uint64_t> values;
  latency_histogram h;
  for (int i = 0; i < 100'000; ++i) {
    auto v = static_cast<uint64_t>(dist(rng)) + 1;
    values.push_back(v);
    h.record(v);
  }
  for (double q : {0.5, 0.9, 0.95, 0.99, 0.999}) {
    auto exact = exact_quantile(values, q);
    INFO("q=" << q << " exact=" << exact << " got=" << h.quantile(q));
    CHECK(std::abs(h.quantile(q) - exact) <= 0.01 * exact);
  }
  CHECK(h.count() == values.size());
  uint64_t sum = 0;
  for (auto v : values)
    sum += v;
  CHECK(h.sum() == sum);
  CHECK(h.min() == *std::min_element(values.begin(), values.end()));
  CHECK(h.max() == *std::max_element(values.begin(), values.end()));
}

TEST_CASE("merging histograms equals recording everything into one") {
  std::mt19937_64 rng{7};
  std::uniform_int_distribution<uint64_t> fast{50, 500};
  std::uniform_int_distribution<uint64_t> slow{100'000, 2'000'000};
  latency_histogram a, b, all;
  std::vector<uint64_t> values;
  for (int i = 0; i < 5000; ++i) {
    auto v = fast(rng);
    a.record(v);
    all.record(v);
    values.push_back(v);
  }
  for (int i = 0; i < 300; ++i) {
    auto v = slow(rng);
    b.record(v);
    all.record(v);
    values.push_back(v);
  }
  a.merge(b);
  CHECK(a.count() == all.count());
  CHECK(a.sum() == all.sum());
  for (double q : {0.5, 0.95, 0.99})
    CHECK(a.quantile(q) == all.quantile(q));
  // The merged p99 sits in the slow population, which an average of per-part p99s would miss.
  auto exact = exact_quantile(values, 0.99);
  CHECK(std::abs(a.quantile(0.99) - exact) <= 0.01 * exact);
}

TEST_CASE("small values are exact and an empty histogram answers zero") {
  latency_histogram h;
  CHECK(h.quantile(0.99) == 0);
  CHECK(h.mean() == 0);
  for (uint64_t v = 1; v <= 10; ++v)
    h.record(v);
  CHECK(h.quantile(0.5) == 5);
  CHECK(h.quantile(1.0) == 10);
  CHECK(h.mean() == Approx(5.5));
}

TEST_CASE("the text encoding round-trips and rejects garbage") {
  latency_histogram h;
  for (uint64_t v : {3ull, 70ull, 70ull, 12'345ull, 9'999'999ull})
    h.record(v);
  latency_histogram back;
  REQUIRE(latency_histogram::decode(h.encode(), back));
  CHECK(back.count() == h.count());
  CHECK(back.sum() == h.sum());
  CHECK(back.min() == 3);
  CHECK(back.max() == 9'999'999);
  CHECK(back.quantile(0.5) == h.quantile(0.5));
  CHECK_FALSE(latency_histogram::decode("garbage", back));
  CHECK_FALSE(latency_histogram::decode("1,2,3;4", back));
  CHECK_FALSE(latency_histogram::decode("1,2,3;99999999:1", back));
  latency_histogram empty;
  REQUIRE(latency_histogram::decode(empty.encode(), back));
  CHECK(back.empty());
}
