#include <catch2/catch.hpp>

#include <chrono>
#include <string>

#include "model/time.hpp"

using medianest::iso8601;
using medianest::parse_iso8601;
using medianest::sys_ms;
using namespace std::chrono;

namespace {

sys_ms at(year_month_day date, hours h = hours{0}, minutes m = minutes{0},
          seconds s = seconds{0}, milliseconds ms = milliseconds{0}) {
  return time_point_cast<milliseconds>(sys_days{date}) + h + m + s + ms;
}

} // namespace

TEST_CASE("parse_iso8601 reads back what iso8601 writes", "[time]") {
  const sys_ms times[] = {
    sys_ms{},                                                                  // the epoch
    at(2025y / January / 15, 12h, 0min, 0s),                                   // the docs' example
    at(2024y / February / 29, 23h, 59min, 59s, 999ms),                         // a leap day
    at(2000y / February / 29, 0h, 0min, 0s, 1ms),                              // a leap century
    at(1999y / December / 31, 23h, 59min, 59s, 999ms),                         // before a new year
    at(2038y / January / 19, 3h, 14min, 8s),                                   // past 32-bit time_t
    at(2026y / July / 4, 7h, 5min, 3s, 42ms),
    time_point_cast<milliseconds>(system_clock::now()),
  };
  for (auto t : times) {
    auto text = iso8601(t);
    INFO(text);
    auto back = parse_iso8601(text);
    REQUIRE(back);
    CHECK(*back == t);
    CHECK(iso8601(*back) == text);
  }
}

TEST_CASE("parse_iso8601 reads each field", "[time]") {
  auto t = parse_iso8601("2024-02-29T13:45:07.089Z");
  REQUIRE(t);
  CHECK(*t == at(2024y / February / 29, 13h, 45min, 7s, 89ms));
  CHECK(parse_iso8601("1970-01-01T00:00:00.000Z") == sys_ms{});
  CHECK(parse_iso8601("9999-12-31T23:59:59.999Z")
        == at(9999y / December / 31, 23h, 59min, 59s, 999ms));
}

TEST_CASE("parse_iso8601 rejects strings of another shape", "[time]") {
  for (const char* text : {
         "",
         "2025-01-15",
         "2025-01-15T12:00:00Z",         // no milliseconds
         "2025-01-15T12:00:00.00Z",      // two digits of milliseconds
         "2025-01-15T12:00:00.0000Z",    // four
         "2025-01-15T12:00:00.000",      // no Z
         "2025-01-15T12:00:00.000+00:00",
         "2025-01-15 12:00:00.000Z",     // a space for the T
         "2025-01-15t12:00:00.000Z",     // lowercase t
         "2025-01-15T12:00:00.000z",     // lowercase z
         "2025/01/15T12:00:00.000Z",
         "2025-1-15T12:00:00.000Z",
         "2025-01-15T12:0a:00.000Z",     // a letter among the digits
         "+025-01-15T12:00:00.000Z",
         "-025-01-15T12:00:00.000Z",
         " 2025-01-15T12:00:00.000Z",
         "2025-01-15T12:00:00.000Z ",
         "2025-01-15T12:00:00,000Z",
       }) {
    INFO('"' << text << '"');
    CHECK_FALSE(parse_iso8601(text));
  }
  // A NUL inside the text is not a digit either.
  CHECK_FALSE(parse_iso8601(std::string("2025-01-15T12:00:00.00\0Z", 24)));
}

TEST_CASE("parse_iso8601 rejects dates and times that do not exist", "[time]") {
  for (const char* text : {
         "2026-02-30T00:00:00.000Z",  // February 30
         "2025-02-29T00:00:00.000Z",  // not a leap year
         "1900-02-29T00:00:00.000Z",  // a century that is not a leap year
         "2025-04-31T00:00:00.000Z",
         "2025-13-01T00:00:00.000Z",
         "2025-00-10T00:00:00.000Z",
         "2025-01-00T00:00:00.000Z",
         "2025-01-32T00:00:00.000Z",
         "2025-01-15T24:00:00.000Z",  // hour 24
         "2025-01-15T25:00:00.000Z",
         "2025-01-15T12:60:00.000Z",
         "2025-01-15T12:00:60.000Z",  // no leap seconds either
         "2025-01-15T99:99:99.000Z",
       }) {
    INFO(text);
    CHECK_FALSE(parse_iso8601(text));
  }
  // The last valid values of each field are accepted.
  CHECK(parse_iso8601("2024-02-29T23:59:59.999Z"));
  CHECK(parse_iso8601("2025-12-31T00:00:00.000Z"));
}
