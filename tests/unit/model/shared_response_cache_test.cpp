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

TEST_CASE("shared_response_cache purge_expired drops the expired entries of every shard",
          "[shared_response_cache]") {
  shared_response_cache c{1 << 20, 8};
  for (int i = 0; i < 40; ++i)
    c.put("/short/" + std::to_string(i), make("s"), 1s, t0);
  for (int i = 0; i < 25; ++i)
    c.put("/long/" + std::to_string(i), make("l"), 60s, t0);
  const auto long_bytes = [&] {
    uint64_t sum = 0;
    for (int i = 0; i < 25; ++i) {
      auto key = "/long/" + std::to_string(i);
      sum += cost(key, *make("l"));
    }
    return sum;
  }();
  // Nothing has expired yet.
  CHECK(c.purge_expired(t0 + 999ms) == 0);
  CHECK(c.counters().keys == 65);
  // At the ttl the short entries are over, and purged without being read.
  CHECK(c.purge_expired(t0 + 1s) == 40);
  auto k = c.counters();
  CHECK(k.keys == 25);
  CHECK(k.expired == 40);
  CHECK(k.bytes == long_bytes);
  CHECK(k.misses == 0);
  CHECK(k.hits == 0);
  // Purging again finds nothing; the long entries are still served.
  CHECK(c.purge_expired(t0 + 2s) == 0);
  CHECK(c.get("/long/3", t0 + 2s) != nullptr);
  CHECK(c.get("/short/3", t0 + 2s) == nullptr);
  CHECK(c.purge_expired(t0 + 60s) == 25);
  CHECK(c.counters().keys == 0);
  CHECK(c.counters().bytes == 0);
  CHECK(c.counters().expired == 65);
}

TEST_CASE("shared_response_cache clear drops everything and returns the bytes it held",
          "[shared_response_cache]") {
  shared_response_cache c{1 << 20, 4};
  uint64_t expected = 0;
  for (int i = 0; i < 30; ++i) {
    auto key = "/clear/" + std::to_string(i);
    auto value = make(std::string(size_t(i * 7), 'c'), "text/plain", 200, {{"ETag", key}});
    expected += cost(key, *value);
    c.put(key, value, 60s, t0);
  }
  REQUIRE(c.counters().bytes == expected);
  CHECK(c.clear() == expected);
  auto k = c.counters();
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
  // Clearing is neither an eviction nor a delete, and keeps the budget and the history.
  CHECK(k.evictions == 0);
  CHECK(k.deletes == 0);
  CHECK(k.sets == 30);
  CHECK(k.capacity_bytes == 1 << 20);
  CHECK(c.get("/clear/5", t0) == nullptr);
  CHECK(c.clear() == 0);
  // The cache works as before afterwards.
  auto again = make("again");
  c.put("/clear/5", again, 60s, t0);
  CHECK(c.get("/clear/5", t0) == again);
}

TEST_CASE("shared_response_cache resize changes max_entry_bytes and evicts when shrinking",
          "[shared_response_cache]") {
  constexpr size_t shards = 4;
  shared_response_cache c{shards * 10'000, shards};
  REQUIRE(c.max_entry_bytes() == 10'000);
  // 16 entries of about 500 bytes: 8 000 bytes, which fit even if one shard got them all.
  constexpr int entries = 16;
  for (int i = 0; i < entries; ++i)
    c.put("/resize/" + std::to_string(i), make(std::string(350, 'r')), 60s, t0);
  auto before = c.counters();
  REQUIRE(before.evictions == 0);
  REQUIRE(before.keys == entries);

  // Shrinking to 1 000 bytes a shard leaves room for one entry in each.
  c.resize(shards * 1'000);
  CHECK(c.max_entry_bytes() == 1'000);
  auto shrunk = c.counters();
  CHECK(shrunk.capacity_bytes == shards * 1'000);
  CHECK(shrunk.bytes <= shards * 1'000);
  CHECK(shrunk.keys <= shards);
  CHECK(shrunk.keys > 0);
  CHECK(shrunk.evictions == entries - shrunk.keys);
  uint64_t found = 0;
  for (int i = 0; i < entries; ++i)
    found += c.get("/resize/" + std::to_string(i), t0 + 1s) != nullptr ? 1 : 0;
  CHECK(found == shrunk.keys);

  // An entry larger than the new shard budget is no longer stored ...
  auto big = make(std::string(3'000, 'B'));
  c.put("/resize/big", big, 60s, t0);
  CHECK(c.get("/resize/big", t0) == nullptr);
  // ... until the budget grows again, which evicts nothing.
  auto evictions = c.counters().evictions;
  c.resize(shards * 20'000);
  CHECK(c.max_entry_bytes() == 20'000);
  CHECK(c.counters().capacity_bytes == shards * 20'000);
  CHECK(c.counters().evictions == evictions);
  CHECK(c.counters().keys == shrunk.keys);
  c.put("/resize/big", big, 60s, t0);
  CHECK(c.get("/resize/big", t0) == big);
}

TEST_CASE("shared_response_cache resize to zero empties every shard", "[shared_response_cache]") {
  shared_response_cache c{8 * 4096, 8};
  for (int i = 0; i < 20; ++i)
    c.put("/zero/" + std::to_string(i), make("z"), 60s, t0);
  REQUIRE(c.counters().keys == 20);
  c.resize(0);
  CHECK(c.max_entry_bytes() == 0);
  auto k = c.counters();
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
  CHECK(k.evictions == 20);
  c.put("/zero/again", make("z"), 60s, t0);
  CHECK(c.get("/zero/again", t0) == nullptr);
}
