#include <catch2/catch.hpp>

#include "actors/cache_collector.hpp"

using medianest::builtin_cache_sample;
using medianest::cache_counters;

namespace {

cache_counters counters(uint64_t hits, uint64_t misses) {
  cache_counters c;
  c.hits = hits;
  c.misses = misses;
  return c;
}

} // namespace

TEST_CASE("builtin sample without a previous one uses the lifetime hit ratio") {
  auto now = counters(30, 10);
  auto s = builtin_cache_sample(now, std::nullopt);
  CHECK(s.hit_rate == Approx(30.0 / 40.0));
  CHECK(s.source == "builtin");
}

TEST_CASE("builtin sample hit rate is computed from the deltas since the previous one") {
  auto previous = counters(30, 10); // lifetime so far 0.75
  auto now = counters(39, 11);      // interval: 9 hits and 1 miss
  auto s = builtin_cache_sample(now, previous);
  CHECK(s.hit_rate == Approx(9.0 / 10.0));
  // Not the lifetime ratio, which differs.
  CHECK(s.hit_rate != Approx(39.0 / 50.0));
}

TEST_CASE("builtin sample hit rate is zero for an interval of misses only") {
  auto previous = counters(100, 0);
  auto now = counters(100, 5);
  auto s = builtin_cache_sample(now, previous);
  CHECK(s.hit_rate == 0.0);
}

TEST_CASE("builtin sample falls back to the lifetime ratio when the interval had no lookups") {
  auto previous = counters(39, 11);
  auto now = counters(39, 11);
  now.sets = 5; // other activity, but no lookups
  auto s = builtin_cache_sample(now, previous);
  CHECK(s.hit_rate == Approx(39.0 / 50.0));
}

TEST_CASE("builtin sample falls back to the lifetime ratio when the counters went backwards") {
  auto previous = counters(500, 500);
  auto now = counters(8, 2);
  auto s = builtin_cache_sample(now, previous);
  CHECK(s.hit_rate == Approx(0.8));
}

TEST_CASE("builtin sample hit rate is zero for a cache never looked up") {
  auto s = builtin_cache_sample(counters(0, 0), std::nullopt);
  CHECK(s.hit_rate == 0.0);
  CHECK(s.gets == 0);
}

TEST_CASE("builtin sample carries the lifetime operation counts and the size") {
  cache_counters now;
  now.hits = 70;
  now.misses = 25;
  now.sets = 40;
  now.deletes = 6;
  now.evictions = 3;
  now.expired = 9;
  now.keys = 17;
  now.bytes = 3 * 1024 * 1024 + 512 * 1024; // 3.5 MiB
  now.capacity_bytes = 64ull << 20;
  cache_counters previous = counters(60, 20);
  auto s = builtin_cache_sample(now, previous);
  CHECK(s.source == "builtin");
  CHECK(s.gets == 95);
  CHECK(s.sets == 40);
  CHECK(s.deletes == 6);
  CHECK(s.evictions == 3);
  CHECK(s.total_keys == 17);
  CHECK(s.memory_bytes == 3 * 1024 * 1024 + 512 * 1024);
  CHECK(s.memory_usage == "3.5MB");
  CHECK(s.connected_clients == 0);
  CHECK(s.hit_rate == Approx(10.0 / 15.0));
}

TEST_CASE("builtin sample memory usage is written in human units") {
  cache_counters now;
  now.bytes = 0;
  CHECK(builtin_cache_sample(now, std::nullopt).memory_usage == "0B");
  now.bytes = 900;
  CHECK(builtin_cache_sample(now, std::nullopt).memory_usage == "900B");
  now.bytes = 1536;
  CHECK(builtin_cache_sample(now, std::nullopt).memory_usage == "1.5KB");
  now.bytes = 128ull << 20;
  CHECK(builtin_cache_sample(now, std::nullopt).memory_usage == "128MB");
}
