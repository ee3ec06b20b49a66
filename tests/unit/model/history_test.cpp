#include <catch2/catch.hpp>

#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "model/forecast.hpp"
#include "model/history.hpp"
#include "model/query_string.hpp"

using medianest::api_error;
using medianest::errc;
using medianest::find_metric;
using medianest::history_from;
using medianest::history_query;
using medianest::history_summary;
using medianest::merge_rows;
using medianest::parse_history_query;
using medianest::render_history;
using medianest::rollup_row;
namespace json = boost::json;

namespace {

history_query parsed(std::string_view qs) {
  auto r = parse_history_query(qs);
  INFO("query string: " << qs);
  if (auto* err = std::get_if<api_error>(&r))
    FAIL("unexpected error: " << err->message);
  return std::get<history_query>(r);
}

/// The error of a query string that must be refused.
api_error refused(std::string_view qs) {
  auto r = parse_history_query(qs);
  INFO("query string: " << qs);
  REQUIRE(std::holds_alternative<api_error>(r));
  return std::get<api_error>(r);
}

std::string field_of(const api_error& err) {
  auto it = err.details.find("field");
  if (it == err.details.end() || !it->value().is_string())
    return "<no field>";
  return std::string{it->value().as_string()};
}

rollup_row row_at(int64_t start, uint64_t count, double sum, const std::string& tag = "stored") {
  rollup_row r;
  r.metric = "cpu";
  r.resolution = 60;
  r.start = start;
  r.count = count;
  r.sum = sum;
  r.sketch = tag; // marks where the row came from
  return r;
}

double num(const json::value& v) {
  return v.to_number<double>();
}

} // namespace

// -- parse_history_query ------------------------------------------------------------------

TEST_CASE("an empty history query gets the documented defaults") {
  auto q = parsed("");
  CHECK(q.period == "24h");
  CHECK(q.period_seconds == 86400);
  CHECK(q.metric == "response_time");
  CHECK(q.granularity == "5m");
  CHECK(q.resolution == 300);
  CHECK_FALSE(q.forecast);
}

TEST_CASE("every valid history parameter is taken") {
  auto q = parsed("period=7d&metric=cpu&granularity=1h&forecast=true");
  CHECK(q.period == "7d");
  CHECK(q.period_seconds == 7 * 86400);
  CHECK(q.metric == "cpu");
  CHECK(q.granularity == "1h");
  CHECK(q.resolution == 3600);
  CHECK(q.forecast);

  CHECK(parsed("period=1h").period_seconds == 3600);
  CHECK(parsed("period=30d").period_seconds == 30 * 86400);
  CHECK(parsed("granularity=1m").resolution == 60);
  CHECK(parsed("granularity=5m").resolution == 300);
  CHECK_FALSE(parsed("forecast=false").forecast);
  for (auto m : {"response_time", "memory", "cpu", "cache_hit_rate", "error_rate",
                 "requests_per_minute", "disk"})
    CHECK(parsed(std::string{"metric="} + m).metric == m);
  // Empty parts between ampersands are nothing.
  CHECK(parsed("&&period=1h&").period == "1h");
}

TEST_CASE("the cache key of a history query changes with every field that changes the answer") {
  auto a = parsed("period=1h&metric=cpu&granularity=1m");
  auto b = parsed("period=1h&metric=cpu&granularity=1m&forecast=true");
  auto c = parsed("period=24h&metric=cpu&granularity=1m");
  auto d = parsed("period=1h&metric=memory&granularity=1m");
  auto e = parsed("period=1h&metric=cpu&granularity=5m");
  CHECK(a.key() != b.key());
  CHECK(a.key() != c.key());
  CHECK(a.key() != d.key());
  CHECK(a.key() != e.key());
  CHECK(a.key() == parsed("granularity=1m&metric=cpu&period=1h").key());
}

TEST_CASE("a route metric is percent decoded") {
  CHECK(parsed("metric=route:GET%20/api/items").metric == "route:GET /api/items");
  CHECK(parsed("metric=route%3AGET%20%2Fx").metric == "route:GET /x");
  CHECK(parsed("metric=route:GET+/x").metric == "route:GET /x");
}

TEST_CASE("each invalid history value is a validation error naming its parameter") {
  struct bad {
    const char* qs;
    const char* field;
  };
  const bad cases[] = {
    {"period=2h", "period"},
    {"period=24H", "period"},
    {"period=1d", "period"},
    {"granularity=10m", "granularity"},
    {"granularity=1s", "granularity"},
    {"metric=bogus", "metric"},
    {"metric=route:", "metric"},
    {"metric=Response_Time", "metric"},
    {"forecast=yes", "forecast"},
    {"forecast=1", "forecast"},
    {"forecast=TRUE", "forecast"},
  };
  for (const auto& c : cases) {
    INFO(c.qs);
    auto err = refused(c.qs);
    CHECK(err.code == errc::validation_error);
    CHECK(field_of(err) == c.field);
    CHECK_FALSE(err.message.empty());
  }
  // The message quotes what was given.
  CHECK(refused("period=2h").message.find("'2h'") != std::string::npos);
}

TEST_CASE("an unknown history parameter is a validation error naming it") {
  auto err = refused("period=1h&resolution=1m");
  CHECK(err.code == errc::validation_error);
  CHECK(field_of(err) == "resolution");
  CHECK(err.message.find("resolution") != std::string::npos);
  CHECK(field_of(refused("Period=1h")) == "Period");
}

TEST_CASE("a repeated history parameter is a validation error naming it") {
  for (auto qs : {"period=1h&period=24h", "period=1h&period=1h", "metric=cpu&forecast=true&metric=cpu"}) {
    INFO(qs);
    auto err = refused(qs);
    CHECK(err.code == errc::validation_error);
    CHECK(field_of(err) == (std::string{qs}.rfind("metric", 0) == 0 ? "metric" : "period"));
  }
}

TEST_CASE("an empty history parameter is a validation error naming it") {
  struct bad {
    const char* qs;
    const char* field;
  };
  const bad cases[] = {
    {"period=", "period"},
    {"metric=", "metric"},
    {"granularity=", "granularity"},
    {"forecast", "forecast"}, // a key without '=' has an empty value
    {"period=1h&forecast=", "forecast"},
  };
  for (const auto& c : cases) {
    INFO(c.qs);
    auto err = refused(c.qs);
    CHECK(err.code == errc::validation_error);
    CHECK(field_of(err) == c.field);
  }
}

TEST_CASE("bad percent encoding in a history query is a validation error") {
  for (auto qs : {"metric=%zz", "metric=route:GET%2", "metric=%", "period=1h&%G1=1", "metric=%4"}) {
    INFO(qs);
    auto err = refused(qs);
    CHECK(err.code == errc::validation_error);
    CHECK(field_of(err) != "<no field>");
    CHECK(err.message.find("percent-encoding") != std::string::npos);
  }
}

// The brief for these tests asks for details.field to name the parameter whose value is badly
// encoded; parse_history_query names "query" instead (see the report). Kept as an expected
// failure so that the day it is fixed, this test says so.
TEST_CASE("bad percent encoding in a value names that parameter") {
  CHECK(field_of(refused("metric=%zz")) == "metric");
  CHECK(field_of(refused("period=1h&granularity=%G1")) == "granularity");
}

TEST_CASE("parse_query_string decodes pairs and rejects malformed escapes") {
  std::vector<std::pair<std::string, std::string>> out;
  REQUIRE(medianest::parse_query_string("a=1&b=x%20y&c&d=p+q&e=%41%62", out));
  REQUIRE(out.size() == 5);
  CHECK(out[0] == std::pair<std::string, std::string>{"a", "1"});
  CHECK(out[1] == std::pair<std::string, std::string>{"b", "x y"});
  CHECK(out[2] == std::pair<std::string, std::string>{"c", ""});
  CHECK(out[3] == std::pair<std::string, std::string>{"d", "p q"});
  CHECK(out[4] == std::pair<std::string, std::string>{"e", "Ab"});
  CHECK_FALSE(medianest::parse_query_string("a=%", out));
  CHECK_FALSE(medianest::parse_query_string("a=%2", out));
  CHECK_FALSE(medianest::parse_query_string("a=%x1", out));
  CHECK_FALSE(medianest::parse_query_string("%zz=1", out));
  REQUIRE(medianest::parse_query_string("a=b=c", out));
  CHECK(out.at(0).second == "b=c");
}

// -- history_from -------------------------------------------------------------------------

TEST_CASE("history_from is the bucket holding now minus the period") {
  const int64_t now = 1'700'000'123; // 2023-11-14T22:15:23Z
  struct expectation {
    const char* qs;
    int64_t from;
  };
  const expectation cases[] = {
    // now - 24h = 1'699'913'723: its 5m bucket starts at 22:15:00 the day before.
    {"", 1'699'913'700},
    {"granularity=1m", 1'699'913'700},
    {"granularity=1h", 1'699'912'800},
    // now - 1h = 1'699'996'523 (21:15:23): 21:15:00 at 1m and 5m, 21:00 at 1h.
    {"period=1h&granularity=1m", 1'699'996'500},
    {"period=1h&granularity=5m", 1'699'996'500},
    {"period=1h&granularity=1h", 1'699'995'600},
    {"period=7d&granularity=1h", 1'699'395'323 - 1'699'395'323 % 3600},
  };
  for (const auto& c : cases) {
    INFO(c.qs);
    auto q = parsed(c.qs);
    auto from = history_from(q, now);
    CHECK(from == c.from);
    // The first bucket overlaps the period's start.
    CHECK(from <= now - q.period_seconds);
    CHECK(from + q.resolution > now - q.period_seconds);
    CHECK(from % q.resolution == 0);
  }
}

// -- merge_rows ---------------------------------------------------------------------------

TEST_CASE("merge_rows lets pending buckets override stored ones and keeps them ascending") {
  std::vector<rollup_row> stored{row_at(0, 1, 1), row_at(60, 2, 2), row_at(120, 3, 3),
                                 row_at(180, 4, 4)};
  // Pending rows arrive in any order: one replaces a stored bucket, others are new.
  std::vector<rollup_row> pending{row_at(300, 9, 9, "pending"), row_at(120, 30, 30, "pending"),
                                  row_at(240, 7, 7, "pending")};
  auto merged = merge_rows(stored, pending, 0);
  REQUIRE(merged.size() == 6);
  const int64_t starts[] = {0, 60, 120, 180, 240, 300};
  for (size_t i = 0; i < merged.size(); ++i)
    CHECK(merged[i].start == starts[i]);
  CHECK(merged[2].count == 30);
  CHECK(merged[2].sketch == "pending");
  CHECK(merged[1].sketch == "stored");
  CHECK(merged[4].sketch == "pending");
}

TEST_CASE("merge_rows drops rows before from and empty buckets") {
  std::vector<rollup_row> stored{row_at(-60, 5, 5), row_at(0, 1, 1), row_at(60, 0, 0),
                                 row_at(120, 3, 3)};
  std::vector<rollup_row> pending{row_at(-120, 8, 8, "pending"), row_at(180, 0, 0, "pending"),
                                  row_at(240, 4, 4, "pending")};
  auto merged = merge_rows(stored, pending, 0);
  REQUIRE(merged.size() == 3);
  CHECK(merged[0].start == 0);
  CHECK(merged[1].start == 120);
  CHECK(merged[2].start == 240);
  for (const auto& r : merged)
    CHECK(r.count > 0);

  // from is inclusive; an empty input gives an empty output.
  auto from_120 = merge_rows(stored, pending, 120);
  REQUIRE(from_120.size() == 2);
  CHECK(from_120[0].start == 120);
  CHECK(merge_rows({}, {}, 0).empty());
  auto only_pending = merge_rows({}, pending, 0);
  REQUIRE(only_pending.size() == 1);
  CHECK(only_pending[0].start == 240);
}

// -- render_history -----------------------------------------------------------------------

TEST_CASE("render_history is JSON with the points and the summary") {
  auto q = parsed("period=1h&metric=response_time&granularity=1m");
  auto info = find_metric("response_time");
  REQUIRE(info);
  rollup_row a = row_at(1'700'000'040, 4, 50.0);
  a.metric = "response_time";
  a.p95 = 20.123;
  a.p99 = 25.456;
  rollup_row b = row_at(1'700'000'100, 3, 10.0);
  b.metric = "response_time";
  b.p95 = 5.0;
  b.p99 = 6.0;
  history_summary s{8.571428, 1.5, 30.25, 20.0, 25.0, 7};
  auto text = render_history(q, *info, {a, b}, s, std::nullopt);
  json::value doc;
  REQUIRE_NOTHROW(doc = json::parse(text));
  auto& o = doc.as_object();
  CHECK(o.at("period").as_string() == "1h");
  CHECK(o.at("metric").as_string() == "response_time");
  CHECK(o.at("granularity").as_string() == "1m");
  CHECK(o.at("unit").as_string() == "ms");
  CHECK_FALSE(o.contains("forecast"));
  auto& points = o.at("dataPoints").as_array();
  REQUIRE(points.size() == 2);
  auto& p0 = points[0].as_object();
  CHECK(p0.at("timestamp").as_string() == "2023-11-14T22:14:00.000Z");
  CHECK(num(p0.at("value")) == Approx(12.5)); // 50 / 4
  CHECK(num(p0.at("p95")) == Approx(20.12));
  CHECK(num(p0.at("p99")) == Approx(25.46));
  CHECK(p0.at("count").as_int64() == 4);
  auto& p1 = points[1].as_object();
  CHECK(p1.at("timestamp").as_string() == "2023-11-14T22:15:00.000Z");
  CHECK(num(p1.at("value")) == Approx(3.33)); // 10 / 3, two decimals
  CHECK(p1.at("count").as_int64() == 3);
  auto& sum = o.at("summary").as_object();
  CHECK(num(sum.at("average")) == Approx(8.57));
  CHECK(num(sum.at("min")) == Approx(1.5));
  CHECK(num(sum.at("max")) == Approx(30.25));
  CHECK(num(sum.at("p95")) == Approx(20.0));
  CHECK(num(sum.at("p99")) == Approx(25.0));
  CHECK(sum.at("count").as_int64() == 7);
  // Plain numbers, never exponent notation.
  CHECK(text.find("E1") == std::string::npos);
}

TEST_CASE("render_history keeps four decimals for fractions") {
  auto q = parsed("metric=cache_hit_rate");
  auto info = find_metric("cache_hit_rate");
  REQUIRE(info);
  rollup_row r = row_at(1'700'000'100, 3, 2.0); // mean 0.666666…
  history_summary s{0.66666, 0.5, 0.8, 0.79991, 0.8, 3};
  auto doc = json::parse(render_history(q, *info, {r}, s, std::nullopt));
  CHECK(doc.at("unit").as_string() == "fraction");
  CHECK(num(doc.at("dataPoints").at(0).at("value")) == Approx(0.6667));
  CHECK(num(doc.at("summary").at("p95")) == Approx(0.7999));
}

TEST_CASE("render_history escapes a metric name with quotes and backslashes") {
  history_query q;
  q.metric = "route:GET /a\"b\\c\n";
  auto info = find_metric(q.metric);
  REQUIRE(info);
  auto text = render_history(q, *info, {}, history_summary{}, std::nullopt);
  json::value doc;
  REQUIRE_NOTHROW(doc = json::parse(text));
  CHECK(doc.at("metric").as_string() == "route:GET /a\"b\\c\n");
  CHECK(doc.at("dataPoints").as_array().empty());
  CHECK(doc.at("summary").at("count").as_int64() == 0);
}

TEST_CASE("render_history says when a forecast is asked for but not available") {
  auto q = parsed("metric=cpu&forecast=true");
  auto info = find_metric("cpu");
  REQUIRE(info);
  auto doc = json::parse(render_history(q, *info, {}, history_summary{}, std::nullopt));
  auto& f = doc.at("forecast").as_object();
  CHECK_FALSE(f.at("available").as_bool());
  CHECK(f.at("reason").as_string().size() > 0);
}

TEST_CASE("render_history shows a forecast with its points and crossings") {
  auto q = parsed("metric=memory&forecast=true&granularity=1h");
  auto info = find_metric("memory");
  REQUIRE(info);
  medianest::forecast_result f;
  f.alpha = 0.5;
  f.beta = 0.25;
  f.level = 70;
  f.trend = 1.0 / 3600; // one point an hour
  f.points = {{1'700'002'800, 71.0}, {1'700'006'400, 72.0}};
  f.warning = medianest::threshold_crossing{80.0, 1'700'036'000, false};
  f.critical = std::nullopt;
  auto doc = json::parse(render_history(q, *info, {}, history_summary{}, f));
  auto& fo = doc.at("forecast").as_object();
  CHECK(fo.at("available").as_bool());
  CHECK(fo.at("method").as_string() == "holt-linear");
  CHECK(num(fo.at("alpha")) == Approx(0.5));
  CHECK(num(fo.at("beta")) == Approx(0.25));
  CHECK(num(fo.at("trendPerHour")) == Approx(1.0));
  REQUIRE(fo.at("points").as_array().size() == 2);
  CHECK(fo.at("points").at(0).at("timestamp").as_string() == "2023-11-14T23:00:00.000Z");
  CHECK(num(fo.at("points").at(1).at("value")) == Approx(72.0));
  auto& w = fo.at("warning").as_object();
  CHECK(num(w.at("threshold")) == Approx(80.0));
  CHECK_FALSE(w.at("alreadyExceeded").as_bool());
  CHECK(w.at("crossesAt").as_string() == "2023-11-15T08:13:20.000Z");
  CHECK(fo.at("critical").is_null());
}
