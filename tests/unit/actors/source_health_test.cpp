#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include <spdlog/spdlog.h>

#include "actors/source_health.hpp"
#include "support/captured_log.hpp"

using medianest::source_health;
using medianest::test::captured_log;
using namespace std::chrono_literals;

namespace {


bool contains(const std::string& line, const std::string& part) {
  return line.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("a new source is not failing and samples at its interval") {
  source_health h{"test source", 750ms};
  CHECK_FALSE(h.failing());
  CHECK(h.succeeded() == 750ms);
  CHECK_FALSE(h.failing());
}

TEST_CASE("back off doubles per consecutive failure up to the ten second cap") {
  captured_log log;
  source_health h{"test source", 1s};
  std::chrono::milliseconds expected = 1s;
  for (int i = 0; i < 8; ++i) {
    CHECK(h.failed("down") == std::min<std::chrono::milliseconds>(expected, 10s));
    CHECK(h.failing());
    expected *= 2;
  }
}

TEST_CASE("back off from an interval that does not divide the cap stops at the cap") {
  captured_log log;
  source_health h{"test source", 300ms};
  std::vector<std::chrono::milliseconds> got;
  for (int i = 0; i < 9; ++i)
    got.push_back(h.failed("down"));
  std::vector<std::chrono::milliseconds> expected{300ms,  600ms,  1200ms, 2400ms, 4800ms,
                                                  9600ms, 10s,    10s,    10s};
  CHECK(got == expected);
}

TEST_CASE("back off honours a custom cap") {
  captured_log log;
  source_health h{"test source", 100ms, 350ms};
  CHECK(h.failed("x") == 100ms);
  CHECK(h.failed("x") == 200ms);
  CHECK(h.failed("x") == 350ms);
  CHECK(h.failed("x") == 350ms);
}

TEST_CASE("an interval above the cap is capped on failure") {
  captured_log log;
  source_health h{"test source", 30s};
  CHECK(h.failed("x") == 10s);
  CHECK(h.succeeded() == 30s);
}

TEST_CASE("a success resets the back off to the interval") {
  captured_log log;
  source_health h{"test source", 1s};
  h.failed("down");
  h.failed("down");
  CHECK(h.failed("down") == 4s);
  REQUIRE(h.failing());
  CHECK(h.succeeded() == 1s);
  CHECK_FALSE(h.failing());
  // The count starts over: the next failure waits one interval again.
  CHECK(h.failed("down") == 1s);
  CHECK(h.failed("down") == 2s);
}

TEST_CASE("a changed reason does not reset the back off") {
  captured_log log;
  source_health h{"test source", 1s};
  CHECK(h.failed("first reason") == 1s);
  CHECK(h.failed("second reason") == 2s);
  CHECK(h.failed("third reason") == 4s);
}

TEST_CASE("a failure is logged once and again only when its reason changes") {
  captured_log log;
  source_health h{"db source", 1s};
  h.failed("connection refused");
  h.failed("connection refused");
  h.failed("connection refused");
  h.failed("timeout");
  h.failed("timeout");
  h.succeeded();
  h.succeeded();
  auto lines = log.lines();
  REQUIRE(lines.size() == 3);
  CHECK(contains(lines[0], "warning"));
  CHECK(contains(lines[0], "db source"));
  CHECK(contains(lines[0], "connection refused"));
  CHECK(contains(lines[1], "warning"));
  CHECK(contains(lines[1], "timeout"));
  CHECK(contains(lines[2], "info"));
  CHECK(contains(lines[2], "5 failed attempt"));
}
