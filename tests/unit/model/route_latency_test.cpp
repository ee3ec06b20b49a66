#include <catch2/catch.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "model/request_record.hpp"
#include "model/route_latency.hpp"

using medianest::intern_route;
using medianest::route_latency;

namespace {

/// A fixed origin far from zero, at the start of a slice, so that tests never depend on the
/// real time.
constexpr int64_t t0 = 1'000'000 * route_latency::slice_ms;

/// Adds 1, 2, ..., n milliseconds (as microseconds) at `now_ms`: the p95 is 0.95·n ms.
void add_ramp(route_latency& rl, const std::string* route, int n, int64_t now_ms) {
  for (int i = 1; i <= n; ++i)
    rl.add(route, uint64_t(i) * 1000, now_ms);
}

} // namespace

TEST_CASE("route_latency p95 of a known distribution is within 1 percent", "[route_latency]") {
  route_latency rl;
  const auto* route = intern_route("/test/route_latency/p95");
  add_ramp(rl, route, 1000, t0 + 10);
  CHECK(rl.p95_ms(route, t0 + 20) == Approx(950.0).epsilon(0.01));
  // A constant latency reads back as itself.
  const auto* flat = intern_route("/test/route_latency/flat");
  for (int i = 0; i < 100; ++i)
    rl.add(flat, 250'000, t0);
  CHECK(rl.p95_ms(flat, t0) == Approx(250.0).epsilon(0.01));
}

TEST_CASE("route_latency p95 is 0 for a route never seen", "[route_latency]") {
  route_latency rl;
  static const std::string seen = "/test/route_latency/seen";
  static const std::string unseen = "/test/route_latency/unseen";
  CHECK(rl.p95_ms(&unseen, t0) == 0);
  rl.add(&seen, 5000, t0);
  CHECK(rl.p95_ms(&seen, t0) == Approx(5.0).epsilon(0.01));
  CHECK(rl.p95_ms(&unseen, t0) == 0);
  // Routes are told apart by identity, not by text.
  static const std::string same_text = "/test/route_latency/seen";
  CHECK(rl.p95_ms(&same_text, t0) == 0);
}

TEST_CASE("route_latency samples of the previous slice still count", "[route_latency]") {
  route_latency rl;
  static const std::string route = "/test/route_latency/previous";
  add_ramp(rl, &route, 100, t0 + 1000); // slice 0: 1..100 ms, p95 = 95 ms
  // One slice later, with nothing new, the previous slice alone gives the p95.
  CHECK(rl.p95_ms(&route, t0 + route_latency::slice_ms + 5000) == Approx(95.0).epsilon(0.01));
  // New samples in the next slice are read together with the previous ones.
  for (int i = 0; i < 100; ++i)
    rl.add(&route, 1000'000, t0 + route_latency::slice_ms + 6000); // 1 s each
  CHECK(rl.p95_ms(&route, t0 + route_latency::slice_ms + 7000)
        == Approx(1000.0).epsilon(0.01));
  // Just before the second rotation both slices are still read.
  CHECK(rl.p95_ms(&route, t0 + 2 * route_latency::slice_ms - 1) == Approx(1000.0).epsilon(0.01));
}

TEST_CASE("route_latency samples older than two slices drop to 0", "[route_latency]") {
  route_latency rl;
  static const std::string route = "/test/route_latency/old";
  add_ramp(rl, &route, 100, t0 + 9'999); // late in slice 0
  CHECK(rl.p95_ms(&route, t0 + 9'999) > 0);
  CHECK(rl.p95_ms(&route, t0 + 19'999) > 0);
  // From slice 2 on the samples are gone, whether or not anything was added since.
  CHECK(rl.p95_ms(&route, t0 + 20'000) == 0);
  CHECK(rl.p95_ms(&route, t0 + 9'999 + 20'001) == 0);
  CHECK(rl.p95_ms(&route, t0 + 1'000'000) == 0);

  // An add after a long gap starts afresh: the old samples do not come back as "previous".
  rl.add(&route, 2000, t0 + 30'000);
  CHECK(rl.p95_ms(&route, t0 + 30'000) == Approx(2.0).epsilon(0.01));
  CHECK(rl.p95_ms(&route, t0 + 40'000) == Approx(2.0).epsilon(0.01));
  CHECK(rl.p95_ms(&route, t0 + 50'000) == 0);
}

TEST_CASE("route_latency a late sample of the previous slice does not wipe the recent ones",
          "[route_latency]") {
  // Threads take their timestamps before they reach the route's lock, so at a slice boundary an
  // add may arrive with a slightly older time than the one before it.
  route_latency rl;
  static const std::string route = "/test/route_latency/late";
  for (int i = 0; i < 100; ++i)
    rl.add(&route, 900'000, t0 + 9'990); // slice 0: 900 ms
  for (int i = 0; i < 100; ++i)
    rl.add(&route, 900'000, t0 + 10'005); // slice 1: 900 ms
  rl.add(&route, 1'000, t0 + 9'999); // late: timed in slice 0, arrives after slice 1 began
  // Everything recorded is still within the last two slices: the p95 is that of 200 slow samples
  // and one fast one, not that of the late sample alone.
  CHECK(rl.p95_ms(&route, t0 + 10'020) == Approx(900.0).epsilon(0.01));
  // A sample far older than the recent slices is dropped, not recorded as current.
  rl.add(&route, 1'000, t0 - 50'000);
  CHECK(rl.p95_ms(&route, t0 + 10'020) == Approx(900.0).epsilon(0.01));
  // The slices keep rotating normally afterwards: slice 1 alone, then nothing.
  rl.add(&route, 900'000, t0 + 10'030);
  CHECK(rl.p95_ms(&route, t0 + 20'000) == Approx(900.0).epsilon(0.01));
  CHECK(rl.p95_ms(&route, t0 + 30'000) == 0);
  rl.add(&route, 7'000, t0 + 30'000);
  CHECK(rl.p95_ms(&route, t0 + 30'000) == Approx(7.0).epsilon(0.01));
}

TEST_CASE("route_latency routes are independent", "[route_latency]") {
  route_latency rl;
  const auto* fast = intern_route("/test/route_latency/fast");
  const auto* slow = intern_route("/test/route_latency/slow");
  for (int i = 0; i < 200; ++i) {
    rl.add(fast, 2'000, t0);
    rl.add(slow, 1'500'000, t0);
  }
  CHECK(rl.p95_ms(fast, t0) == Approx(2.0).epsilon(0.01));
  CHECK(rl.p95_ms(slow, t0) == Approx(1500.0).epsilon(0.01));
  // One route moving on to a new slice does not age another.
  rl.add(fast, 4'000, t0 + 25'000);
  CHECK(rl.p95_ms(fast, t0 + 25'000) == Approx(4.0).epsilon(0.01));
  CHECK(rl.p95_ms(slow, t0 + 5'000) == Approx(1500.0).epsilon(0.01));
}

TEST_CASE("route_latency is consistent under concurrent adds", "[route_latency]") {
  constexpr int threads = 4;
  constexpr int rounds = 2000;
  route_latency rl;
  std::vector<const std::string*> routes;
  for (int r = 0; r < 8; ++r)
    routes.push_back(intern_route("/test/route_latency/concurrent/" + std::to_string(r)));

  // Per route and thread, 95 of every 100 samples are 1 ms and 5 are 1 s: with 4 threads the
  // 0.95-quantile rank falls on the last 1 ms sample, so losing a single fast sample (or counting
  // a slow one twice) would flip the p95 to 1 s.
  std::atomic<bool> stop{false};
  std::atomic<int64_t> reads{0};
  // A reader runs alongside (at least one pass, even if it is only scheduled after the writers).
  std::thread reader([&] {
    do {
      for (const auto* route : routes)
        (void)rl.p95_ms(route, t0 + 500);
      reads.fetch_add(1);
    } while (!stop.load());
  });
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&, t] {
      for (int i = 0; i < rounds; ++i) {
        for (size_t r = 0; r < routes.size(); ++r) {
          bool slow = (i + t + int(r)) % 100 < 5;
          rl.add(routes[(r + size_t(t)) % routes.size()], slow ? 1'000'000 : 1'000, t0 + 500);
        }
      }
    });
  }
  for (auto& th : pool)
    th.join();
  stop = true;
  reader.join();

  CHECK(reads.load() > 0);
  for (const auto* route : routes) {
    INFO(*route);
    CHECK(rl.p95_ms(route, t0 + 600) == Approx(1.0).epsilon(0.01));
  }
}

namespace {

const medianest::route_usage* usage_of(const std::vector<medianest::route_usage>& all,
                                       const std::string& route) {
  for (const auto& u : all)
    if (u.route == route)
      return &u;
  return nullptr;
}

} // namespace

TEST_CASE("route_latency counts GET requests by kind for usage", "[route_latency]") {
  using kind = route_latency::get_kind;
  route_latency rl;
  const auto* media = intern_route("/test/route_latency/usage/media");
  rl.add(media, 10'000, t0, kind::cacheable);
  rl.add(media, 20'000, t0, kind::cacheable);
  rl.add(media, 30'000, t0, kind::cacheable);
  rl.add(media, 40'000, t0, kind::uncacheable);
  rl.add(media, 50'000, t0, kind::other_status);
  rl.add(media, 999'000, t0, kind::not_get); // a POST: latency only
  rl.add(media, 7'000, t0); // the default is not a GET

  auto all = rl.usage();
  REQUIRE(all.size() == 1);
  const auto& u = all.front();
  CHECK(u.route == "/test/route_latency/usage/media");
  CHECK(u.get_requests == 5);
  CHECK(u.latency_sum_us == 150'000);
  CHECK(u.cacheable == 3);
  CHECK(u.uncacheable == 1);
  // Every request still counts for the load-shedding p95.
  CHECK(rl.p95_ms(media, t0) > 100.0);
}

TEST_CASE("route_latency usage leaves out routes that never had a GET", "[route_latency]") {
  using kind = route_latency::get_kind;
  route_latency rl;
  CHECK(rl.usage().empty());
  const auto* posts = intern_route("/test/route_latency/usage/posts-only");
  const auto* gets = intern_route("/test/route_latency/usage/gets");
  const auto* errors = intern_route("/test/route_latency/usage/errors");
  for (int i = 0; i < 10; ++i)
    rl.add(posts, 1'000, t0, kind::not_get);
  rl.add(gets, 2'000, t0, kind::cacheable);
  rl.add(errors, 3'000, t0, kind::other_status);
  auto all = rl.usage();
  CHECK(all.size() == 2);
  CHECK(usage_of(all, *posts) == nullptr);
  const auto* g = usage_of(all, *gets);
  REQUIRE(g);
  CHECK(g->get_requests == 1);
  CHECK(g->latency_sum_us == 2'000);
  CHECK(g->cacheable == 1);
  // A GET that was not a 200 counts as a request, in neither share.
  const auto* e = usage_of(all, *errors);
  REQUIRE(e);
  CHECK(e->get_requests == 1);
  CHECK(e->latency_sum_us == 3'000);
  CHECK(e->cacheable == 0);
  CHECK(e->uncacheable == 0);
}

TEST_CASE("route_latency GET counters are totals since start whatever the slices",
          "[route_latency]") {
  using kind = route_latency::get_kind;
  route_latency rl;
  static const std::string route = "/test/route_latency/usage/since-start";
  rl.add(&route, 1'000, t0, kind::cacheable);
  rl.add(&route, 2'000, t0 + 5 * route_latency::slice_ms, kind::cacheable);
  // A sample too old for the slices is dropped from the p95 but still counted as traffic.
  rl.add(&route, 4'000, t0 - 10 * route_latency::slice_ms, kind::uncacheable);
  CHECK(rl.p95_ms(&route, t0 + 10 * route_latency::slice_ms) == 0);
  auto all = rl.usage();
  REQUIRE(all.size() == 1);
  CHECK(all[0].get_requests == 3);
  CHECK(all[0].latency_sum_us == 7'000);
  CHECK(all[0].cacheable == 2);
  CHECK(all[0].uncacheable == 1);
  // Reading does not reset them.
  CHECK(rl.usage()[0].get_requests == 3);
}

TEST_CASE("route_latency GET counters are exact under concurrent adds", "[route_latency]") {
  using kind = route_latency::get_kind;
  constexpr int threads = 4;
  constexpr int rounds = 5000;
  route_latency rl;
  std::vector<const std::string*> routes;
  for (int r = 0; r < 4; ++r)
    routes.push_back(intern_route("/test/route_latency/usage/concurrent/" + std::to_string(r)));
  std::atomic<bool> stop{false};
  std::atomic<bool> torn{false};
  // A reader runs alongside: each route's counters are read under its lock, never half updated.
  std::thread reader([&] {
    do {
      for (const auto& u : rl.usage())
        if (u.cacheable + u.uncacheable != u.get_requests
            || u.latency_sum_us != 10 * u.get_requests)
          torn = true;
    } while (!stop.load());
  });
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t)
    pool.emplace_back([&] {
      for (int i = 0; i < rounds; ++i)
        for (const auto* route : routes)
          rl.add(route, 10, t0 + i, i % 4 == 0 ? kind::uncacheable : kind::cacheable);
    });
  for (auto& th : pool)
    th.join();
  stop = true;
  reader.join();
  CHECK_FALSE(torn);
  auto all = rl.usage();
  REQUIRE(all.size() == routes.size());
  for (const auto& u : all) {
    INFO(u.route);
    CHECK(u.get_requests == uint64_t(threads * rounds));
    CHECK(u.latency_sum_us == uint64_t(threads * rounds * 10));
    CHECK(u.uncacheable == uint64_t(threads * rounds / 4));
    CHECK(u.cacheable == uint64_t(threads * rounds * 3 / 4));
  }
}
