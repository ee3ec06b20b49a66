#include <catch2/catch.hpp>

#include <string>

#include "model/request_totals.hpp"

using namespace medianest;

namespace {

request_record rec(const std::string* route, uint16_t status, uint32_t us,
                   http_method m = http_method::get) {
  return {route, m, status, us, 1000};
}

const request_series* find(const request_totals& t, const std::string& route, http_method m) {
  for (const auto& s : t.series)
    if (s.route == route && s.method == m)
      return &s;
  return nullptr;
}

} // namespace

TEST_CASE("durations land in the first bucket whose bound is at least the duration") {
  request_totals_builder b;
  auto r = intern_route("/t");
  for (uint32_t us : {0u, 5'000u, 5'001u, 10'000'000u, 10'000'001u, 4'000'000'000u})
    b.add(rec(r, 200, us));
  auto t = b.snapshot();
  REQUIRE(t->series.size() == 1);
  const auto& s = t->series[0];
  CHECK(s.buckets[0] == 2);                              // 0 and 5 ms
  CHECK(s.buckets[1] == 1);                              // 5.001 ms
  CHECK(s.buckets[duration_bounds_us.size() - 1] == 1);  // exactly 10 s
  CHECK(s.buckets.back() == 2);                          // over 10 s: +Inf
  CHECK(s.count == 6);
  CHECK(s.sum_us == 0ull + 5'000 + 5'001 + 10'000'000 + 10'000'001 + 4'000'000'000ull);
}

TEST_CASE("totals count per status and are sorted by route method and status") {
  request_totals_builder b;
  auto z = intern_route("/z");
  auto a = intern_route("/a");
  b.add(rec(z, 500, 1));
  b.add(rec(a, 404, 1, http_method::post));
  b.add(rec(a, 200, 1));
  b.add(rec(a, 200, 1));
  b.add(rec(a, 201, 1));
  auto t = b.snapshot();
  REQUIRE(t->series.size() == 3);
  CHECK(t->series[0].route == "/a");
  CHECK(t->series[0].method == http_method::get);
  CHECK(t->series[1].route == "/a");
  CHECK(t->series[1].method == http_method::post);
  CHECK(t->series[2].route == "/z");
  const auto& get_a = t->series[0].statuses;
  REQUIRE(get_a.size() == 2);
  CHECK(get_a[0].status == 200);
  CHECK(get_a[0].count == 2);
  CHECK(get_a[1].status == 201);
  CHECK(get_a[1].count == 1);
}

TEST_CASE("a snapshot is reused until something new is counted and stays immutable") {
  request_totals_builder b;
  auto r = intern_route("/r");
  b.add(rec(r, 200, 1));
  auto first = b.snapshot();
  CHECK(b.snapshot() == first);
  b.add(rec(r, 200, 1));
  auto second = b.snapshot();
  CHECK(second != first);
  CHECK(first->series[0].count == 1);
  CHECK(second->series[0].count == 2);
}

TEST_CASE("route method pairs past the bound are counted under the other route with their method") {
  request_totals_builder b;
  for (size_t i = 0; i < request_totals_builder::max_series; ++i)
    b.add(rec(intern_route("/bound/" + std::to_string(i)), 200, 1));
  CHECK(b.series_count() == request_totals_builder::max_series);
  for (int i = 0; i < 50; ++i) {
    b.add(rec(intern_route("/past/" + std::to_string(i)), 200, 1));
    b.add(rec(intern_route("/past/" + std::to_string(i)), 200, 1, http_method::put));
  }
  CHECK(b.series_count() == request_totals_builder::max_series + 2);
  auto t = b.snapshot();
  auto other_get = find(*t, "(other)", http_method::get);
  auto other_put = find(*t, "(other)", http_method::put);
  REQUIRE(other_get);
  REQUIRE(other_put);
  CHECK(other_get->count == 50);
  CHECK(other_put->count == 50);
  // A route seen before the bound keeps its own series.
  b.add(rec(intern_route("/bound/7"), 200, 1));
  CHECK(find(*b.snapshot(), "/bound/7", http_method::get)->count == 2);
}

TEST_CASE("statuses past the bound are counted under their class") {
  request_totals_builder b;
  // 4 distinct statuses on each of 1024 routes fill the bound of (series, status) pairs.
  for (size_t i = 0; i < request_totals_builder::max_statuses / 4; ++i)
    for (uint16_t status : {200, 301, 404, 500})
      b.add(rec(intern_route("/s/" + std::to_string(i)), status, 1));
  auto r = intern_route("/s/0");
  b.add(rec(r, 503, 1));
  b.add(rec(r, 504, 1));
  b.add(rec(r, 404, 1)); // known already: still its own counter
  auto t = b.snapshot();
  auto s = find(*t, "/s/0", http_method::get);
  REQUIRE(s);
  REQUIRE(s->statuses.size() == 5);
  CHECK(s->statuses[0].status == 5); // the "5xx" class sorts first
  CHECK(s->statuses[0].count == 2);
  CHECK(status_label(s->statuses[0].status) == "5xx");
  CHECK(s->statuses[3].status == 404);
  CHECK(s->statuses[3].count == 2);
  CHECK(status_label(404) == "404");
}
