#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "model/shared_response_cache.hpp"

using medianest::cache_counters;
using medianest::cached_response;
using medianest::cached_response_ptr;
using medianest::shared_response_cache;
using namespace std::chrono_literals;

namespace {

using time_point = shared_response_cache::clock::time_point;

/// A fixed origin far from the clock's epoch, so that tests never depend on the real time.
const time_point t0 = time_point{} + 1000h;

cached_response_ptr make(std::string body, std::string content_type = "application/json",
                         unsigned status = 200,
                         std::vector<std::pair<std::string, std::string>> headers = {}) {
  cached_response r;
  r.status = status;
  r.content_type = std::move(content_type);
  r.body = std::move(body);
  r.produced = t0;
  r.headers = std::move(headers);
  return std::make_shared<const cached_response>(std::move(r));
}

/// The documented cost of an entry (key, body, content type, headers and a fixed overhead).
uint64_t cost(const std::string& key, const cached_response& r) {
  uint64_t c = key.size() + r.body.size() + r.content_type.size() + 128;
  for (const auto& [name, value] : r.headers)
    c += name.size() + value.size() + 2 * sizeof(std::string);
  return c;
}

} // namespace

TEST_CASE("shared_response_cache round trips an entry with its headers",
          "[shared_response_cache]") {
  shared_response_cache c{1 << 20, 4};
  auto value = make("{\"id\":7}", "application/json; charset=utf-8", 200,
                    {{"ETag", "\"abc\""}, {"Cache-Control", "public, max-age=60"},
                     {"X-Upstream", ""}});
  c.put("GET /api/v1/media/7 ae= shared", value, 60s, t0);
  auto got = c.get("GET /api/v1/media/7 ae= shared", t0 + 1s);
  REQUIRE(got);
  CHECK(got == value);
  CHECK(got->status == 200);
  CHECK(got->content_type == "application/json; charset=utf-8");
  CHECK(got->body == "{\"id\":7}");
  REQUIRE(got->headers.size() == 3);
  CHECK(got->headers[0] == std::pair<std::string, std::string>{"ETag", "\"abc\""});
  CHECK(got->headers[1] == std::pair<std::string, std::string>{"Cache-Control", "public, max-age=60"});
  CHECK(got->headers[2] == std::pair<std::string, std::string>{"X-Upstream", ""});
  CHECK(got->produced == t0);
  CHECK(c.get("GET /api/v1/media/8 ae= shared", t0 + 1s) == nullptr);
}

TEST_CASE("shared_response_cache entries expire at their ttl", "[shared_response_cache]") {
  shared_response_cache c{1 << 20, 8};
  auto value = make("short");
  c.put("/short", value, 500ms, t0);
  c.put("/long", value, 10s, t0);
  CHECK(c.get("/short", t0 + 499ms) == value);
  CHECK(c.get("/short", t0 + 500ms) == nullptr);
  CHECK(c.get("/long", t0 + 9s) == value);
  CHECK(c.get("/long", t0 + 10s) == nullptr);
  auto k = c.counters();
  CHECK(k.expired == 2);
  CHECK(k.hits == 2);
  CHECK(k.misses == 2);
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
}

TEST_CASE("shared_response_cache counters are summed across shards", "[shared_response_cache]") {
  constexpr size_t shards = 8;
  shared_response_cache c{shards * 100'000, shards};
  uint64_t expected_bytes = 0;
  for (int i = 0; i < 100; ++i) {
    auto key = "/k/" + std::to_string(i);
    auto value = make(std::string(size_t(i), 'x'), "text/plain", 200, {{"ETag", key}});
    expected_bytes += cost(key, *value);
    c.put(key, value, 60s, t0);
  }
  int hits = 0;
  for (int i = 0; i < 150; ++i)
    hits += c.get("/k/" + std::to_string(i), t0 + 1s) != nullptr ? 1 : 0;
  CHECK(hits == 100);
  auto k = c.counters();
  CHECK(k.sets == 100);
  CHECK(k.keys == 100);
  CHECK(k.hits == 100);
  CHECK(k.misses == 50);
  CHECK(k.bytes == expected_bytes);
  CHECK(k.evictions == 0);
  CHECK(k.expired == 0);
  CHECK(k.capacity_bytes == shards * 100'000);
}

TEST_CASE("shared_response_cache splits the budget between its shards",
          "[shared_response_cache]") {
  shared_response_cache c{16'000, 16};
  CHECK(c.max_entry_bytes() == 1000);
  CHECK(c.counters().capacity_bytes == 16'000);
  // A budget that does not divide evenly is rounded down per shard, never over the total.
  shared_response_cache uneven{1000, 3};
  CHECK(uneven.max_entry_bytes() == 333);
  CHECK(uneven.counters().capacity_bytes <= 1000);
  // Zero shards counts as one.
  shared_response_cache one{5000, 0};
  CHECK(one.max_entry_bytes() == 5000);
  CHECK(one.counters().capacity_bytes == 5000);
}

TEST_CASE("shared_response_cache stores entries up to max_entry_bytes only",
          "[shared_response_cache]") {
  shared_response_cache c{4 * 2000, 4};
  REQUIRE(c.max_entry_bytes() == 2000);
  const std::string key = "/entry";
  // An entry costing exactly the shard budget is stored ...
  auto fits = make(std::string(2000 - 128 - key.size() - 10, 'x'), "text/plain");
  REQUIRE(cost(key, *fits) == c.max_entry_bytes());
  c.put(key, fits, 60s, t0);
  CHECK(c.get(key, t0) == fits);
  // ... one byte more is not, and it does not push anything out either.
  const std::string big_key = "/entrz";
  auto too_big = make(std::string(2000 - 128 - big_key.size() - 10 + 1, 'x'), "text/plain");
  REQUIRE(cost(big_key, *too_big) == c.max_entry_bytes() + 1);
  c.put(big_key, too_big, 60s, t0);
  CHECK(c.get(big_key, t0) == nullptr);
  CHECK(c.get(key, t0) == fits);
  auto k = c.counters();
  CHECK(k.sets == 1);
  CHECK(k.keys == 1);
  CHECK(k.evictions == 0);
}

TEST_CASE("shared_response_cache keeps within its byte budget under many puts",
          "[shared_response_cache]") {
  const uint64_t capacity = 16 * 4096;
  shared_response_cache c{capacity, 16};
  std::mt19937 rng{4321};
  std::uniform_int_distribution<int> key_dist{0, 499};
  std::uniform_int_distribution<size_t> body_dist{0, 3000};
  uint64_t peak = 0;
  for (int i = 0; i < 5000; ++i) {
    auto key = "/k/" + std::to_string(key_dist(rng));
    c.put(key, make(std::string(body_dist(rng), 'b'), "application/octet-stream", 200,
                    {{"X-N", std::to_string(i)}}),
          60s, t0 + std::chrono::milliseconds(i));
    auto k = c.counters();
    REQUIRE(k.bytes <= capacity);
    peak = std::max(peak, k.bytes);
  }
  auto k = c.counters();
  CHECK(k.evictions > 100);
  CHECK(k.sets == 5000); // every entry fit a shard
  CHECK(k.keys < 500);
  CHECK(peak > capacity / 2);
  // What the counters claim is there is really there.
  uint64_t found = 0;
  for (int i = 0; i < 500; ++i)
    found += c.get("/k/" + std::to_string(i), t0 + 6s) != nullptr ? 1 : 0;
  CHECK(found == k.keys);
}

TEST_CASE("shared_response_cache stays consistent under concurrent puts and gets",
          "[shared_response_cache]") {
  constexpr int threads = 4;
  constexpr int ops = 5000;
  constexpr int keys = 64;
  shared_response_cache c{16 * 8192, 16};
  std::atomic<bool> wrong{false};
  std::atomic<uint64_t> gets{0};
  std::atomic<uint64_t> hits{0};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      std::mt19937 rng{uint32_t(t + 1)};
      std::uniform_int_distribution<int> key_dist{0, keys - 1};
      std::uniform_int_distribution<size_t> size_dist{0, 1500};
      for (int i = 0; i < ops; ++i) {
        auto n = key_dist(rng);
        auto key = "/c/" + std::to_string(n);
        if (i % 3 == 0) {
          // Every value names its key, so a get can check it got the right entry.
          auto body = key + "#" + std::string(size_dist(rng), char('a' + t));
          c.put(key, make(std::move(body), "text/plain", 200, {{"X-Key", key}}), 60s, t0);
        } else {
          ++gets;
          auto got = c.get(key, t0 + 1s);
          if (got) {
            ++hits;
            if (got->body.rfind(key + "#", 0) != 0 || got->headers.size() != 1
                || got->headers[0].second != key)
              wrong = true;
          }
        }
      }
    });
  }
  for (auto& th : pool)
    th.join();

  CHECK_FALSE(wrong);
  auto k = c.counters();
  CHECK(k.hits + k.misses == gets.load());
  CHECK(k.hits == hits.load());
  CHECK(hits.load() > 0);
  CHECK(k.sets == uint64_t(threads) * ((ops + 2) / 3));
  CHECK(k.keys <= uint64_t(keys));
  CHECK(k.bytes <= 16 * 8192);
  CHECK(k.expired == 0);
}
