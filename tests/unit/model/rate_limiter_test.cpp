#include <catch2/catch.hpp>

#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "model/rate_limiter.hpp"

using medianest::rate_decision;
using medianest::rate_limit_config;
using medianest::rate_limiter;
using medianest::sharded_rate_limiter;
using namespace std::chrono_literals;

namespace {

using time_point = rate_limiter::clock::time_point;

/// A fixed origin far from the clock's epoch, so that tests never depend on the real time.
const time_point t0 = time_point{} + 1000h;

rate_limit_config config(uint32_t limit, std::chrono::seconds window, uint32_t burst = 0,
                         size_t max_clients = 100000) {
  return rate_limit_config{limit, window, burst, max_clients};
}

/// Checks `n` times at `now`; returns how many were allowed.
int drain(rate_limiter& rl, std::string_view client, int n, time_point now) {
  int allowed = 0;
  for (int i = 0; i < n; ++i)
    allowed += rl.check(client, now).allowed ? 1 : 0;
  return allowed;
}

} // namespace

TEST_CASE("rate_limiter fresh client gets limit requests then a refusal", "[rate_limiter]") {
  rate_limiter rl(config(10, 60s));
  for (int i = 0; i < 10; ++i) {
    auto d = rl.check("alice", t0);
    REQUIRE(d.allowed);
    REQUIRE(d.limit == 10);
    REQUIRE(d.retry_after_seconds == 0);
  }
  auto refused = rl.check("alice", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.limit == 10);
  CHECK(refused.remaining == 0);
  CHECK(refused.retry_after_seconds == 6); // one token every 60 / 10 seconds
  CHECK(refused.reset_seconds == 60);
}

TEST_CASE("rate_limiter burst adds capacity above the limit", "[rate_limiter]") {
  rate_limiter rl(config(10, 60s, 5));
  auto first = rl.check("alice", t0);
  CHECK(first.limit == 10);
  CHECK(first.remaining == 14);
  CHECK(drain(rl, "alice", 100, t0) == 14);
  auto refused = rl.check("alice", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.retry_after_seconds >= 1);
  CHECK(refused.reset_seconds == 90); // 15 tokens at one per 6 s
}

TEST_CASE("rate_limiter remaining counts down exactly", "[rate_limiter]") {
  rate_limiter rl(config(7, 60s, 3));
  for (uint32_t expected = 9;; --expected) {
    auto d = rl.check("alice", t0);
    REQUIRE(d.allowed);
    REQUIRE(d.remaining == expected);
    if (expected == 0)
      break;
  }
  auto refused = rl.check("alice", t0);
  CHECK_FALSE(refused.allowed);
  CHECK(refused.remaining == 0);
}

TEST_CASE("rate_limiter refills continuously at limit per window", "[rate_limiter]") {
  rate_limiter rl(config(10, 60s));
  REQUIRE(drain(rl, "alice", 10, t0) == 10);

  SECTION("half the window brings back half the tokens") {
    CHECK(drain(rl, "alice", 100, t0 + 30s) == 5);
  }
  SECTION("a fraction of a token is not enough") {
    auto d = rl.check("alice", t0 + 3s); // half a token
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 3);
    auto later = rl.check("alice", t0 + 6s); // one whole token
    CHECK(later.allowed);
    CHECK(later.remaining == 0);
  }
  SECTION("retry after is rounded up to at least one second") {
    auto d = rl.check("alice", t0 + 5500ms); // 0.083 token short: 0.5 s
    CHECK_FALSE(d.allowed);
    CHECK(d.retry_after_seconds == 1);
  }
  SECTION("refill is capped at the capacity") {
    CHECK(drain(rl, "alice", 100, t0 + 10h) == 10);
  }
  SECTION("refill between many small steps adds up") {
    int allowed = 0;
    for (int ms = 100; ms <= 60000; ms += 100)
      allowed += rl.check("alice", t0 + std::chrono::milliseconds(ms)).allowed ? 1 : 0;
    CHECK(allowed == 10);
  }
  SECTION("an earlier time point refills nothing") {
    CHECK_FALSE(rl.check("alice", t0 - 1h).allowed);
    CHECK(drain(rl, "alice", 100, t0 + 30s) == 5);
  }
}

TEST_CASE("rate_limiter reset is the time until the bucket is full", "[rate_limiter]") {
  rate_limiter rl(config(10, 60s));
  CHECK(rl.check("alice", t0).reset_seconds == 6);
  CHECK(rl.check("alice", t0).reset_seconds == 12);
  drain(rl, "alice", 8, t0);
  // 5 tokens back after 30 s, one consumed: 6 short at 6 s each.
  auto d = rl.check("alice", t0 + 30s);
  CHECK(d.remaining == 4);
  CHECK(d.reset_seconds == 36);
  // A partial token rounds the reset up.
  auto e = rl.check("alice", t0 + 31s); // 4 + 1/6 tokens, one consumed
  CHECK(e.remaining == 3);
  CHECK(e.reset_seconds == 41);
}

TEST_CASE("rate_limiter clients are independent", "[rate_limiter]") {
  rate_limiter rl(config(3, 60s));
  CHECK(drain(rl, "alice", 10, t0) == 3);
  auto bob = rl.check("bob", t0);
  CHECK(bob.allowed);
  CHECK(bob.remaining == 2);
  CHECK(drain(rl, "bob", 10, t0) == 2);
  CHECK(drain(rl, "carol", 10, t0) == 3);
  CHECK(rl.clients() == 3);
}

TEST_CASE("rate_limiter limit zero is always allowed", "[rate_limiter]") {
  rate_limiter rl(config(0, 60s, 5));
  for (int i = 0; i < 1000; ++i) {
    auto d = rl.check("alice", t0);
    REQUIRE(d.allowed);
    REQUIRE(d.limit == 0);
    REQUIRE(d.retry_after_seconds == 0);
  }
  CHECK(rl.clients() == 0);
  rate_limiter defaults(rate_limit_config{});
  CHECK(defaults.check("alice", t0).allowed);
  CHECK(defaults.clients() == 0);
}

TEST_CASE("rate_limiter evicts the least recently used client", "[rate_limiter]") {
  rate_limiter rl(config(5, 60s, 0, 3));
  drain(rl, "a", 2, t0);
  drain(rl, "b", 2, t0);
  drain(rl, "c", 2, t0);
  CHECK(rl.check("a", t0).remaining == 2); // a becomes most recently used: b is now the oldest
  CHECK(rl.check("d", t0).remaining == 4); // new: evicts b
  CHECK(rl.clients() == 3);
  CHECK(rl.check("c", t0).remaining == 2); // kept
  CHECK(rl.check("a", t0).remaining == 1); // kept
  CHECK(rl.check("b", t0).remaining == 4); // forgotten: back with a full bucket, evicts d
  CHECK(rl.clients() == 3);
  CHECK(rl.check("d", t0).remaining == 4); // d was the one evicted
}

TEST_CASE("rate_limiter bucket count stays within max_clients", "[rate_limiter]") {
  constexpr size_t max_clients = 10000;
  constexpr size_t distinct = 100000;
  rate_limiter rl(config(5, 60s, 0, max_clients));
  for (size_t i = 0; i < distinct; ++i) {
    rl.check("client-" + std::to_string(i), t0);
    REQUIRE(rl.clients() <= max_clients);
  }
  CHECK(rl.clients() == max_clients);
  // The most recent max_clients clients are remembered (one token used), the rest forgotten.
  // Checked from the newest down so that re-inserting forgotten ones does not evict survivors.
  CHECK(rl.check("client-" + std::to_string(distinct - 1), t0).remaining == 3);
  CHECK(rl.check("client-" + std::to_string(distinct - max_clients), t0).remaining == 3);
  CHECK(rl.check("client-" + std::to_string(distinct - max_clients - 1), t0).remaining == 4);
  CHECK(rl.check("client-0", t0).remaining == 4);
  CHECK(rl.clients() == max_clients);
}

TEST_CASE("rate_limiter default max_clients holds 100000 clients", "[rate_limiter]") {
  rate_limiter rl(config(5, 60s));
  for (size_t i = 0; i < 100000; ++i)
    rl.check("client-" + std::to_string(i), t0);
  CHECK(rl.clients() == 100000);
  rl.check("one more", t0);
  CHECK(rl.clients() == 100000);
  CHECK(rl.check("client-0", t0).remaining == 4); // the oldest was evicted
}

TEST_CASE("rate_limiter configure scales buckets proportionally", "[rate_limiter]") {
  rate_limiter rl(config(10, 60s));
  drain(rl, "alice", 5, t0); // half full

  SECTION("a larger limit keeps the fill level") {
    rl.configure(config(20, 60s));
    auto d = rl.check("alice", t0);
    CHECK(d.limit == 20);
    CHECK(d.remaining == 9); // half of 20, one consumed
    CHECK(rl.check("bob", t0).remaining == 19);
  }
  SECTION("a smaller limit keeps the fill level") {
    rl.configure(config(4, 60s));
    CHECK(drain(rl, "alice", 100, t0) == 2);
  }
  SECTION("a burst counts as capacity") {
    rl.configure(config(10, 60s, 10));
    CHECK(drain(rl, "alice", 100, t0) == 10);
  }
  SECTION("a longer window slows the refill") {
    rl.configure(config(10, 120s));
    drain(rl, "alice", 100, t0);
    CHECK(drain(rl, "alice", 100, t0 + 60s) == 5);
  }
  SECTION("turning limiting off drops every bucket") {
    rl.configure(config(0, 60s));
    CHECK(rl.clients() == 0);
    auto d = rl.check("alice", t0);
    CHECK(d.allowed);
    CHECK(d.limit == 0);
    rl.configure(config(10, 60s));
    CHECK(rl.check("alice", t0).remaining == 9); // back with a full bucket
  }
  SECTION("a smaller max_clients evicts the least recently used") {
    drain(rl, "bob", 1, t0);
    drain(rl, "carol", 1, t0);
    rl.configure(config(10, 60s, 0, 2));
    CHECK(rl.clients() == 2);
    CHECK(rl.check("carol", t0).remaining == 8);
    CHECK(rl.check("bob", t0).remaining == 8);
    CHECK(rl.check("alice", t0).remaining == 9); // evicted: full again
  }
}

TEST_CASE("sharded_rate_limiter behaves like one limiter per key", "[rate_limiter]") {
  sharded_rate_limiter rl(config(3, 60s), 4);
  for (int i = 0; i < 3; ++i)
    CHECK(rl.check("alice", t0).allowed);
  CHECK_FALSE(rl.check("alice", t0).allowed);
  CHECK(rl.check("bob", t0).remaining == 2);
  CHECK(rl.clients() == 2);
  CHECK(rl.check("alice", t0 + 20s).allowed);
  rl.configure(config(0, 60s));
  CHECK(rl.clients() == 0);
  CHECK(rl.check("alice", t0).limit == 0);
}

TEST_CASE("sharded_rate_limiter stays within max_clients", "[rate_limiter]") {
  sharded_rate_limiter rl(config(5, 60s, 0, 1600), 16);
  for (int i = 0; i < 20000; ++i)
    rl.check("client-" + std::to_string(i), t0);
  CHECK(rl.clients() <= 1600);
  CHECK(rl.clients() > 1000);
}

TEST_CASE("sharded_rate_limiter is consistent under concurrent checks", "[rate_limiter]") {
  constexpr int threads = 4;
  constexpr int checks_per_thread = 10000;
  constexpr size_t keys = 50;
  constexpr uint32_t limit = 60; // one token per second
  constexpr uint32_t burst = 10;
  sharded_rate_limiter rl(config(limit, 60s, burst), 16);

  std::vector<std::string> names;
  for (size_t k = 0; k < keys; ++k)
    names.push_back("key-" + std::to_string(k));

  // Every check advances a shared synthetic clock by 1 ms: 40 s in all. Threads may reach a shard
  // out of order; a bucket never runs backwards, so that can only refill less, never more.
  std::atomic<int64_t> ticks{0};
  std::vector<std::array<int, keys>> allowed(threads);
  std::atomic<bool> inconsistent{false};
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      allowed[t].fill(0);
      for (int i = 0; i < checks_per_thread; ++i) {
        size_t k = size_t(i + t * 7) % keys;
        auto now = t0 + std::chrono::milliseconds(ticks.fetch_add(1));
        auto d = rl.check(names[k], now);
        bool ok = d.limit == limit && d.remaining < limit + burst && d.reset_seconds >= 0 &&
                  d.reset_seconds <= 70 &&
                  (d.allowed ? d.retry_after_seconds == 0 : d.retry_after_seconds >= 1);
        if (!ok)
          inconsistent = true;
        allowed[t][k] += d.allowed ? 1 : 0;
      }
    });
  }
  for (auto& th : pool)
    th.join();

  CHECK_FALSE(inconsistent);
  CHECK(rl.clients() == keys);

  const int64_t elapsed_seconds = (ticks.load() + 999) / 1000; // 40
  const int64_t per_key_max = int64_t(limit + burst) + elapsed_seconds * limit / 60 + 1;
  int64_t total = 0;
  for (size_t k = 0; k < keys; ++k) {
    int64_t key_total = 0;
    for (int t = 0; t < threads; ++t)
      key_total += allowed[t][k];
    CHECK(key_total <= per_key_max);
    CHECK(key_total >= int64_t(limit + burst)); // every key was checked far beyond its capacity
    total += key_total;
  }
  CHECK(total <= int64_t(keys) * per_key_max);
  CHECK(total >= int64_t(keys) * (limit + burst));
}

// -- lockout (the failed-authentication limit) ------------------------------------------------

namespace {

rate_limit_config lockout_config(uint32_t limit, std::chrono::seconds window,
                                 std::chrono::seconds lockout, size_t max_clients = 100000) {
  return rate_limit_config{limit, window, 0, max_clients, lockout};
}

} // namespace

TEST_CASE("rate_limiter lockout refuses for the whole lockout once the last token is spent",
          "[rate_limiter]") {
  rate_limiter rl(lockout_config(3, 60s, 120s));
  CHECK_FALSE(rl.check("mallory", t0).locked_out);
  CHECK_FALSE(rl.check("mallory", t0 + 1s).locked_out);
  auto third = rl.check("mallory", t0 + 2s);
  CHECK(third.allowed); // the third failure still counts...
  CHECK(third.locked_out); // ...and starts the lockout
  CHECK(rl.locked_for("mallory", t0 + 2s) == 120);
  // Refill would give a token back after 20 s; the lockout holds for 120 s regardless.
  auto during = rl.check("mallory", t0 + 62s);
  CHECK_FALSE(during.allowed);
  CHECK_FALSE(during.locked_out);
  CHECK(during.retry_after_seconds == 60);
  CHECK(rl.locked_for("mallory", t0 + 62s) == 60);
  CHECK(rl.locked_for("mallory", t0 + 121500ms) == 1); // rounded up
  CHECK(rl.locked_for("mallory", t0 + 122s) == 0);
  // Afterwards the client starts over with a full bucket.
  auto after = rl.check("mallory", t0 + 122s);
  CHECK(after.allowed);
  CHECK(after.remaining == 2);
  CHECK_FALSE(rl.check("mallory", t0 + 122s).locked_out);
  CHECK(rl.check("mallory", t0 + 122s).locked_out);
}

TEST_CASE("rate_limiter lockout counts failures within the window only", "[rate_limiter]") {
  rate_limiter rl(lockout_config(3, 60s, 60s));
  // One failure every 30 s never empties the bucket (one token back every 20 s).
  for (int i = 0; i < 20; ++i) {
    auto d = rl.check("slow", t0 + std::chrono::seconds(30 * i));
    REQUIRE(d.allowed);
    REQUIRE_FALSE(d.locked_out);
  }
  CHECK(rl.locked_for("slow", t0 + 600s) == 0);
}

TEST_CASE("rate_limiter locked_for keeps no state for unknown clients", "[rate_limiter]") {
  rate_limiter rl(lockout_config(2, 60s, 60s));
  CHECK(rl.locked_for("nobody", t0) == 0);
  CHECK(rl.clients() == 0);
  rl.check("a", t0);
  rl.check("a", t0);
  CHECK(rl.locked_for("a", t0) == 60);
  CHECK(rl.locked_for("b", t0) == 0);
  CHECK(rl.clients() == 1);
}

TEST_CASE("rate_limiter forgets refilled buckets and ended lockouts when new clients come",
          "[rate_limiter]") {
  rate_limiter rl(lockout_config(2, 10s, 10s));
  rl.check("refilled", t0);                  // one token spent, full again after 5 s
  rl.check("locked", t0);
  rl.check("locked", t0);                    // locked until t0 + 10 s
  rl.check("recent", t0 + 20s);              // both earlier ones have expired by now
  CHECK(rl.clients() == 1);
  CHECK(rl.locked_for("locked", t0 + 20s) == 0);
  // A lockout still running is never forgotten to make room by expiry.
  rl.check("x", t0 + 30s);
  rl.check("x", t0 + 30s);
  rl.check("y", t0 + 31s);
  CHECK(rl.locked_for("x", t0 + 31s) == 9);
}

TEST_CASE("sharded_rate_limiter lockout is per client", "[rate_limiter]") {
  sharded_rate_limiter rl(lockout_config(2, 60s, 30s));
  rl.check("10.0.0.1", t0);
  CHECK(rl.check("10.0.0.1", t0).locked_out);
  CHECK(rl.locked_for("10.0.0.1", t0 + 1s) == 29);
  CHECK(rl.locked_for("10.0.0.2", t0 + 1s) == 0);
  CHECK(rl.check("10.0.0.2", t0 + 1s).allowed);
}
