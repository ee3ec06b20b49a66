#include <catch2/catch.hpp>

#include <algorithm>
#include <list>
#include <random>
#include <string>

#include "model/response_cache.hpp"

using medianest::cache_counters;
using medianest::cached_response;
using medianest::cached_response_ptr;
using medianest::response_cache;
using namespace std::chrono_literals;

namespace {

using time_point = response_cache::clock::time_point;

/// A fixed origin far from the clock's epoch, so that tests never depend on the real time.
const time_point t0 = time_point{} + 1000h;

cached_response_ptr make(std::string body, std::string content_type = "application/json",
                         unsigned status = 200) {
  return std::make_shared<const cached_response>(
    cached_response{status, std::move(content_type), std::move(body)});
}

/// The documented cost of an entry, computed here rather than taken from the cache.
uint64_t cost(const std::string& key, const cached_response& r) {
  return key.size() + r.body.size() + r.content_type.size() + 128;
}

/// A plain reference LRU over a byte budget, to check the cache against.
struct reference_lru {
  struct item {
    std::string key;
    uint64_t cost;
  };
  uint64_t capacity;
  std::list<item> items; // front = most recent
  uint64_t bytes = 0;
  uint64_t evictions = 0;
  uint64_t sets = 0;

  void put(const std::string& key, uint64_t c) {
    auto it = std::find_if(items.begin(), items.end(), [&](const item& i) { return i.key == key; });
    if (it != items.end()) {
      bytes -= it->cost;
      items.erase(it);
    }
    if (c > capacity)
      return;
    ++sets;
    while (bytes + c > capacity && !items.empty()) {
      bytes -= items.back().cost;
      items.pop_back();
      ++evictions;
    }
    items.push_front({key, c});
    bytes += c;
  }

  bool contains(const std::string& key) const {
    return std::any_of(items.begin(), items.end(), [&](const item& i) { return i.key == key; });
  }
};

} // namespace

TEST_CASE("a cache starts empty with its budget as capacity") {
  response_cache c{5000};
  auto k = c.counters();
  CHECK(k.capacity_bytes == 5000);
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
  CHECK(k.hits == 0);
  CHECK(k.misses == 0);
}

TEST_CASE("a get counts a hit for a stored key and a miss for an unknown one") {
  response_cache c{1 << 20};
  auto value = make("{\"a\":1}");
  c.put("/a", value, 60s, t0);
  auto got = c.get("/a", t0 + 1s);
  REQUIRE(got);
  CHECK(got == value);
  CHECK(got->body == "{\"a\":1}");
  CHECK(got->content_type == "application/json");
  CHECK(c.get("/b", t0 + 1s) == nullptr);
  CHECK(c.get("/a", t0 + 2s) == value);
  auto k = c.counters();
  CHECK(k.hits == 2);
  CHECK(k.misses == 1);
  CHECK(k.sets == 1);
  CHECK(k.keys == 1);
  CHECK(k.bytes == cost("/a", *value));
  CHECK(k.expired == 0);
}

TEST_CASE("an entry is fresh until its ttl and a miss from its expiry on") {
  response_cache c{1 << 20};
  auto value = make("body");
  c.put("/ttl", value, 500ms, t0);
  CHECK(c.get("/ttl", t0 + 499ms) == value);
  // At exactly now + ttl the entry is no longer fresh: it is dropped and counted as expired.
  CHECK(c.get("/ttl", t0 + 500ms) == nullptr);
  auto k = c.counters();
  CHECK(k.hits == 1);
  CHECK(k.misses == 1);
  CHECK(k.expired == 1);
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
  // Dropped for good: going back in time does not bring it back.
  CHECK(c.get("/ttl", t0) == nullptr);
  CHECK(c.counters().expired == 1);
  CHECK(c.counters().misses == 2);
}

TEST_CASE("a get refreshes recency so the other entry is evicted first") {
  auto a = make(std::string(100, 'a'));
  auto b = make(std::string(100, 'b'));
  auto d = make(std::string(100, 'd'));
  // Room for exactly two of these entries.
  auto budget = cost("/a", *a) * 2;
  REQUIRE(cost("/a", *a) == cost("/b", *b));
  REQUIRE(cost("/a", *a) == cost("/d", *d));

  SECTION("without a get the oldest entry goes") {
    response_cache c{budget};
    c.put("/a", a, 60s, t0);
    c.put("/b", b, 60s, t0 + 1ms);
    c.put("/d", d, 60s, t0 + 2ms);
    CHECK(c.get("/a", t0 + 3ms) == nullptr);
    CHECK(c.get("/b", t0 + 3ms) == b);
    CHECK(c.get("/d", t0 + 3ms) == d);
    CHECK(c.counters().evictions == 1);
  }

  SECTION("after a get of the oldest the other one goes") {
    response_cache c{budget};
    c.put("/a", a, 60s, t0);
    c.put("/b", b, 60s, t0 + 1ms);
    REQUIRE(c.get("/a", t0 + 2ms) == a);
    c.put("/d", d, 60s, t0 + 3ms);
    CHECK(c.get("/b", t0 + 4ms) == nullptr);
    CHECK(c.get("/a", t0 + 4ms) == a);
    CHECK(c.get("/d", t0 + 4ms) == d);
    auto k = c.counters();
    CHECK(k.evictions == 1);
    CHECK(k.keys == 2);
    CHECK(k.bytes == budget);
  }
}

TEST_CASE("the byte budget is never exceeded after many puts of random sizes") {
  const uint64_t capacity = 64 * 1024;
  response_cache c{capacity};
  reference_lru ref{capacity};
  std::mt19937 rng{1234};
  std::uniform_int_distribution<int> key_dist{0, 199};
  std::uniform_int_distribution<size_t> body_dist{0, 9000};
  std::uniform_int_distribution<size_t> type_dist{0, 40};
  uint64_t peak = 0;
  for (int i = 0; i < 3000; ++i) {
    auto key = "/k/" + std::to_string(key_dist(rng));
    auto value = make(std::string(body_dist(rng), 'x'), std::string(type_dist(rng), 't'));
    auto expected_cost = cost(key, *value);
    c.put(key, value, 3600s, t0);
    ref.put(key, expected_cost);
    auto k = c.counters();
    REQUIRE(k.bytes <= capacity);
    REQUIRE(k.bytes == ref.bytes);
    REQUIRE(k.keys == ref.items.size());
    REQUIRE(k.evictions == ref.evictions);
    peak = std::max(peak, k.bytes);
  }
  // The run was big enough to have had to evict, and the budget was actually used.
  CHECK(ref.evictions > 100);
  CHECK(peak > capacity / 2);
  CHECK(c.counters().sets == ref.sets);
  // The entries the reference keeps are exactly the ones the cache serves.
  for (int i = 0; i < 200; ++i) {
    auto key = "/k/" + std::to_string(i);
    CHECK((c.get(key, t0 + 1s) != nullptr) == ref.contains(key));
  }
}

TEST_CASE("an entry larger than the budget is not stored") {
  response_cache c{1000};
  auto small = make("small");
  c.put("/small", small, 60s, t0);
  auto big = make(std::string(900, 'x'));
  REQUIRE(cost("/big", *big) > 1000);
  c.put("/big", big, 60s, t0);
  CHECK(c.get("/big", t0) == nullptr);
  // It did not push anything else out either.
  CHECK(c.get("/small", t0) == small);
  auto k = c.counters();
  CHECK(k.sets == 1);
  CHECK(k.evictions == 0);
  CHECK(k.keys == 1);
  CHECK(k.bytes == cost("/small", *small));
}

TEST_CASE("an entry of exactly the budget is stored") {
  auto value = make(std::string(500, 'x'), "text/plain");
  auto budget = cost("/exact", *value);
  response_cache c{budget};
  c.put("/exact", value, 60s, t0);
  CHECK(c.get("/exact", t0) == value);
  CHECK(c.counters().bytes == budget);
}

TEST_CASE("overwriting a key replaces it without double counting bytes") {
  response_cache c{1 << 20};
  auto first = make(std::string(300, 'a'));
  auto second = make(std::string(40, 'b'), "text/html; charset=utf-8", 201);
  c.put("/same", first, 60s, t0);
  CHECK(c.counters().bytes == cost("/same", *first));
  c.put("/same", second, 60s, t0 + 1s);
  auto k = c.counters();
  CHECK(k.keys == 1);
  CHECK(k.bytes == cost("/same", *second));
  CHECK(k.sets == 2);
  CHECK(k.evictions == 0);
  auto got = c.get("/same", t0 + 2s);
  REQUIRE(got);
  CHECK(got == second);
  CHECK(got->status == 201);
}

TEST_CASE("overwriting a key also replaces its ttl") {
  response_cache c{1 << 20};
  auto value = make("v");
  c.put("/k", value, 10s, t0);
  c.put("/k", value, 1s, t0);
  CHECK(c.get("/k", t0 + 2s) == nullptr);
  CHECK(c.counters().expired == 1);
}

TEST_CASE("erase removes an entry once and counts a delete") {
  response_cache c{1 << 20};
  auto a = make("aaaa");
  auto b = make("bb");
  c.put("/a", a, 60s, t0);
  c.put("/b", b, 60s, t0);
  CHECK(c.erase("/a"));
  CHECK_FALSE(c.erase("/a"));
  CHECK_FALSE(c.erase("/never"));
  auto k = c.counters();
  CHECK(k.deletes == 1);
  CHECK(k.keys == 1);
  CHECK(k.bytes == cost("/b", *b));
  CHECK(c.get("/a", t0) == nullptr);
  CHECK(c.get("/b", t0) == b);
}

TEST_CASE("clear drops everything and returns the bytes freed") {
  response_cache c{1 << 20};
  auto a = make("aaaa");
  auto b = make(std::string(1000, 'b'), "image/png");
  c.put("/a", a, 60s, t0);
  c.put("/b", b, 60s, t0);
  REQUIRE(c.get("/a", t0) == a);
  CHECK(c.clear() == cost("/a", *a) + cost("/b", *b));
  auto k = c.counters();
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
  // Operation counters are lifetime counts and survive a clear.
  CHECK(k.sets == 2);
  CHECK(k.hits == 1);
  CHECK(k.capacity_bytes == (1u << 20));
  CHECK(c.get("/a", t0) == nullptr);
  CHECK(c.get("/b", t0) == nullptr);
  CHECK(c.clear() == 0);
}

TEST_CASE("purge_expired drops only the expired entries and counts them") {
  response_cache c{1 << 20};
  auto v = make("v");
  c.put("/short1", v, 1s, t0);
  c.put("/long", v, 10s, t0);
  c.put("/short2", v, 2s, t0);
  c.put("/later", v, 1s, t0 + 5s); // expires at t0 + 6 s
  CHECK(c.purge_expired(t0 + 500ms) == 0);
  CHECK(c.purge_expired(t0 + 2s) == 2);
  auto k = c.counters();
  CHECK(k.expired == 2);
  CHECK(k.keys == 2);
  CHECK(k.bytes == cost("/long", *v) + cost("/later", *v));
  // A purge is not a lookup.
  CHECK(k.misses == 0);
  CHECK(k.hits == 0);
  CHECK(c.get("/long", t0 + 2s) == v);
  CHECK(c.get("/later", t0 + 2s) == v);
  CHECK(c.purge_expired(t0 + 20s) == 2);
  CHECK(c.counters().expired == 4);
  CHECK(c.counters().keys == 0);
  CHECK(c.counters().bytes == 0);
}

TEST_CASE("resize to a smaller budget evicts least recently used entries") {
  auto v = make(std::string(72, 'x')); // cost 72 + 16 + 3 + 128 = 219 with a three-char key
  auto each = cost("/k0", *v);
  response_cache c{each * 4};
  for (int i = 0; i < 4; ++i)
    c.put("/k" + std::to_string(i), v, 60s, t0 + std::chrono::milliseconds(i));
  REQUIRE(c.counters().keys == 4);
  REQUIRE(c.get("/k0", t0 + 10ms) == v); // /k0 is now the most recent; /k1 the least
  c.resize(each * 2);
  auto k = c.counters();
  CHECK(k.capacity_bytes == each * 2);
  CHECK(k.keys == 2);
  CHECK(k.bytes == each * 2);
  CHECK(k.evictions == 2);
  CHECK(c.get("/k1", t0 + 11ms) == nullptr);
  CHECK(c.get("/k2", t0 + 11ms) == nullptr);
  CHECK(c.get("/k0", t0 + 11ms) == v);
  CHECK(c.get("/k3", t0 + 11ms) == v);
}

TEST_CASE("resize to a larger budget keeps every entry and allows more") {
  auto v = make(std::string(200, 'x'));
  auto each = cost("/k0", *v);
  response_cache c{each};
  c.put("/k0", v, 60s, t0);
  c.resize(each * 3);
  CHECK(c.counters().evictions == 0);
  c.put("/k1", v, 60s, t0);
  c.put("/k2", v, 60s, t0);
  auto k = c.counters();
  CHECK(k.keys == 3);
  CHECK(k.evictions == 0);
  CHECK(k.bytes == each * 3);
  CHECK(k.capacity_bytes == each * 3);
}

TEST_CASE("a null value is ignored by put") {
  response_cache c{1 << 20};
  c.put("/null", nullptr, 60s, t0);
  auto k = c.counters();
  CHECK(k.sets == 0);
  CHECK(k.keys == 0);
  CHECK(k.bytes == 0);
}

TEST_CASE("cache_counters operator+ adds every counter field by field") {
  cache_counters a;
  a.hits = 1;
  a.misses = 2;
  a.sets = 3;
  a.deletes = 4;
  a.evictions = 5;
  a.expired = 6;
  a.keys = 7;
  a.bytes = 8;
  a.capacity_bytes = 9;
  cache_counters b;
  b.hits = 10;
  b.misses = 20;
  b.sets = 30;
  b.deletes = 40;
  b.evictions = 50;
  b.expired = 60;
  b.keys = 70;
  b.bytes = 80;
  b.capacity_bytes = 90;
  auto sum = a + b;
  CHECK(sum.hits == 11);
  CHECK(sum.misses == 22);
  CHECK(sum.sets == 33);
  CHECK(sum.deletes == 44);
  CHECK(sum.evictions == 55);
  CHECK(sum.expired == 66);
  CHECK(sum.keys == 77);
  CHECK(sum.bytes == 88);
  CHECK(sum.capacity_bytes == 99);
  // The operands are left as they were, and zero counters are the identity.
  CHECK(a.hits == 1);
  CHECK(b.capacity_bytes == 90);
  auto same = a + cache_counters{};
  CHECK(same.hits == a.hits);
  CHECK(same.bytes == a.bytes);
  CHECK(same.capacity_bytes == a.capacity_bytes);
  // Two real caches' counters add up.
  response_cache x{1000};
  response_cache y{2000};
  x.put("/x", make("xx"), 60s, t0);
  CHECK(y.get("/y", t0) == nullptr);
  auto both = x.counters() + y.counters();
  CHECK(both.capacity_bytes == 3000);
  CHECK(both.sets == 1);
  CHECK(both.misses == 1);
  CHECK(both.keys == 1);
  CHECK(both.bytes == x.counters().bytes);
}
