#include <catch2/catch.hpp>

#include "actors/api_window.hpp"

using namespace medianest;

namespace {

request_record rec(const std::string* route, uint16_t status, uint32_t us, int64_t at_ms,
                   http_method m = http_method::get) {
  return {route, m, status, us, at_ms};
}

} // namespace

TEST_CASE("requests per minute error rate and latency over the window") {
  api_window w;
  auto search = intern_route("/api/v1/media/search");
  int64_t t0 = 1'000'000;
  // 100 requests over 50 s: every 500 ms, 10 of them 5xx, durations 1..100 ms.
  for (int i = 0; i < 100; ++i)
    w.add(rec(search, i % 10 == 0 ? 503 : 200, static_cast<uint32_t>((i + 1) * 1000),
              t0 + i * 500));
  auto s = w.sample(t0 + 50'000, 7);
  CHECK(s.requests_per_minute == Approx(100));
  CHECK(s.error_rate == Approx(0.1));
  CHECK(s.average_response_time == Approx(50.5));
  CHECK(s.p95_response_time == Approx(95).epsilon(0.01));
  CHECK(s.p99_response_time == Approx(99).epsilon(0.01));
  CHECK(s.active_connections == 7);
  CHECK(s.interval_requests == 100);
  CHECK(s.interval_errors == 10);
  CHECK(s.interval_latency.count() == 100);
  // The interval histogram restarts; the window does not.
  auto again = w.sample(t0 + 50'000, 7);
  CHECK(again.interval_requests == 0);
  CHECK(again.requests_per_minute == Approx(100));
}

TEST_CASE("old requests slide out of the window") {
  api_window w;
  auto r = intern_route("/a");
  for (int i = 0; i < 60; ++i)
    w.add(rec(r, 200, 1000, i * 1000)); // one per second for a minute
  CHECK(w.sample(59'999, 0).requests_per_minute == Approx(60).margin(1));
  // 30 s later about half of them are still inside.
  CHECK(w.sample(90'000, 0).requests_per_minute == Approx(30).margin(3));
  // Two minutes later none are.
  auto late = w.sample(200'000, 0);
  CHECK(late.requests_per_minute == 0);
  CHECK(late.slowest_endpoints.empty());
  CHECK(w.route_entries() == 0);
}

TEST_CASE("slowest endpoints are the top five by average with counts") {
  api_window w;
  std::vector<const std::string*> routes;
  for (int i = 0; i < 8; ++i)
    routes.push_back(intern_route("/route/" + std::to_string(i)));
  for (int i = 0; i < 8; ++i)
    for (int n = 0; n <= i; ++n)
      w.add(rec(routes[i], 200, static_cast<uint32_t>((i + 1) * 10'000), 1000 + n));
  auto s = w.sample(2000, 0);
  REQUIRE(s.slowest_endpoints.size() == 5);
  CHECK(s.slowest_endpoints[0].path == "/route/7");
  CHECK(s.slowest_endpoints[0].average_time == Approx(80));
  CHECK(s.slowest_endpoints[0].count == 8);
  CHECK(s.slowest_endpoints[4].path == "/route/3");
  CHECK(s.slowest_endpoints[0].method == "GET");
}

TEST_CASE("route entries are bounded whatever the traffic") {
  api_window w;
  for (size_t i = 0; i < api_window::max_routes + 500; ++i)
    w.add(rec(intern_route("/bounded/" + std::to_string(i % 3000)), 200, 100, 5000));
  CHECK(w.route_entries() <= api_window::max_routes + 1);
  auto s = w.sample(5000, 0);
  CHECK(s.requests_per_minute == Approx(api_window::max_routes + 500));
}

TEST_CASE("interned routes are stable and bounded") {
  auto a = intern_route("/x/:id");
  CHECK(a == intern_route("/x/:id"));
  CHECK(*a == "/x/:id");
  CHECK(method_of("DELETE") == http_method::delete_);
  CHECK(method_name(http_method::put) == "PUT");
  CHECK(method_of("BREW") == http_method::other);
}

TEST_CASE("every sample carries the cumulative totals since start") {
  api_window w;
  auto r = intern_route("/totals");
  w.add(rec(r, 200, 2'000, 1000));
  w.add(rec(r, 503, 20'000, 1000));
  auto first = w.sample(2000, 0);
  REQUIRE(first.totals);
  REQUIRE(first.totals->series.size() == 1);
  CHECK(first.totals->series[0].count == 2);
  // Long after the window forgot them the totals still count them, and count on.
  w.add(rec(r, 200, 2'000, 500'000));
  auto later = w.sample(500'000, 0);
  CHECK(later.requests_per_minute == Approx(1));
  REQUIRE(later.totals);
  CHECK(later.totals->series[0].count == 3);
  CHECK(later.totals->series[0].statuses.size() == 2);
  CHECK(first.totals->series[0].count == 2); // a published total never changes
}
