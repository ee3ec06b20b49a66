#include <catch2/catch.hpp>

#include <chrono>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/response_cache_actor.hpp"

using namespace medianest;
using namespace std::chrono_literals;

namespace {

uint64_t cost(const std::string& key, const cached_response& r) {
  return key.size() + r.body.size() + r.content_type.size() + 128;
}

cached_response_ptr make(std::string body, std::string content_type = "application/json") {
  return std::make_shared<const cached_response>(
    cached_response{200, std::move(content_type), std::move(body)});
}

/// A real actor system with one cache actor, stopped at the end of the test (its purge timer
/// would otherwise keep it, and the system's shutdown, alive).
struct cache_fixture {
  explicit cache_fixture(uint64_t capacity, std::chrono::milliseconds purge = 10s)
    : sys{cfg}, self{sys} {
    cache = sys.spawn(response_cache_actor_impl, capacity, purge);
  }

  ~cache_fixture() {
    caf::anon_send_exit(cache, caf::exit_reason::user_shutdown);
  }

  cached_response_ptr get(const std::string& key) {
    cached_response_ptr out;
    self->request(cache, caf::infinite, caf::get_atom::value, key)
      .receive([&](const cached_response_ptr& p) { out = p; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return out;
  }

  void put(const std::string& key, cached_response_ptr value, int64_t ttl_ms) {
    self->send(cache, caf::put_atom::value, key, std::move(value), ttl_ms);
  }

  bool erase(const std::string& key) {
    bool out = false;
    self->request(cache, caf::infinite, caf::delete_atom::value, key)
      .receive([&](bool found) { out = found; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return out;
  }

  uint64_t reset() {
    uint64_t out = ~uint64_t{0};
    self->request(cache, caf::infinite, caf::reset_atom::value)
      .receive([&](uint64_t freed) { out = freed; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return out;
  }

  cache_counters status() {
    cache_counters out;
    out.capacity_bytes = ~uint64_t{0};
    self->request(cache, caf::infinite, status_atom::value)
      .receive([&](const cache_counters& c) { out = c; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return out;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  response_cache_actor cache;
};

} // namespace

TEST_CASE("the cache actor starts empty with the configured budget") {
  cache_fixture f{12345};
  auto c = f.status();
  CHECK(c.capacity_bytes == 12345);
  CHECK(c.keys == 0);
  CHECK(c.bytes == 0);
  CHECK(c.hits == 0);
  CHECK(c.misses == 0);
}

TEST_CASE("the cache actor serves what was put and counts hits and misses") {
  cache_fixture f{1 << 20};
  CHECK(f.get("/api/v1/media/1") == nullptr);
  auto value = make("{\"id\":1}");
  f.put("/api/v1/media/1", value, 60'000);
  auto got = f.get("/api/v1/media/1");
  REQUIRE(got);
  // In-process messages share the pointer: the very same response comes back.
  CHECK(got == value);
  CHECK(got->body == "{\"id\":1}");
  auto c = f.status();
  CHECK(c.hits == 1);
  CHECK(c.misses == 1);
  CHECK(c.sets == 1);
  CHECK(c.keys == 1);
  CHECK(c.bytes == cost("/api/v1/media/1", *value));
}

TEST_CASE("the cache actor deletes an entry once and replies whether it was there") {
  cache_fixture f{1 << 20};
  f.put("/a", make("a"), 60'000);
  f.put("/b", make("bb"), 60'000);
  CHECK(f.erase("/a"));
  CHECK_FALSE(f.erase("/a"));
  CHECK_FALSE(f.erase("/never"));
  CHECK(f.get("/a") == nullptr);
  CHECK(f.get("/b") != nullptr);
  auto c = f.status();
  CHECK(c.deletes == 1);
  CHECK(c.keys == 1);
}

TEST_CASE("the cache actor reset drops everything and replies the bytes freed") {
  cache_fixture f{1 << 20};
  auto a = make(std::string(100, 'a'));
  auto b = make(std::string(333, 'b'), "text/html");
  f.put("/a", a, 60'000);
  f.put("/b", b, 60'000);
  CHECK(f.reset() == cost("/a", *a) + cost("/b", *b));
  auto c = f.status();
  CHECK(c.keys == 0);
  CHECK(c.bytes == 0);
  CHECK(f.get("/a") == nullptr);
  CHECK(f.reset() == 0);
}

TEST_CASE("the cache actor evicts past its byte budget") {
  auto a = make(std::string(500, 'a'));
  auto b = make(std::string(500, 'b'));
  auto d = make(std::string(500, 'd'));
  cache_fixture f{cost("/a", *a) * 2};
  f.put("/a", a, 60'000);
  f.put("/b", b, 60'000);
  REQUIRE(f.get("/a") == a); // /b is now the least recently used
  f.put("/d", d, 60'000);
  CHECK(f.get("/b") == nullptr);
  CHECK(f.get("/a") == a);
  CHECK(f.get("/d") == d);
  auto c = f.status();
  CHECK(c.evictions == 1);
  CHECK(c.bytes <= c.capacity_bytes);
}

TEST_CASE("the cache actor does not serve an entry past its ttl") {
  cache_fixture f{1 << 20};
  f.put("/short", make("s"), 30);
  std::this_thread::sleep_for(80ms);
  CHECK(f.get("/short") == nullptr);
  auto c = f.status();
  CHECK(c.expired == 1);
  CHECK(c.misses == 1);
  CHECK(c.keys == 0);
}

TEST_CASE("the cache actor purges expired entries on its own timer") {
  cache_fixture f{1 << 20, 20ms};
  f.put("/expiring", make("e"), 1);
  f.put("/staying", make("s"), 600'000);
  REQUIRE(f.status().keys == 2);
  // Wait for a purge without looking the entry up (a lookup would drop it too).
  auto deadline = std::chrono::steady_clock::now() + 5s;
  cache_counters c = f.status();
  while (c.expired == 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    c = f.status();
  }
  CHECK(c.expired == 1);
  CHECK(c.keys == 1);
  CHECK(c.misses == 0);
  CHECK(c.hits == 0);
  CHECK(f.get("/staying") != nullptr);
}
