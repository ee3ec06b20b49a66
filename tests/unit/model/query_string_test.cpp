#include <catch2/catch.hpp>

#include <string>
#include <variant>

#include "model/query_string.hpp"

using medianest::api_error;
using medianest::errc;
using medianest::parse_int_param;

namespace {

/// The field named by the refusal of `limit` in `query` (max 1000, default 100).
std::string refused_field(std::string_view query) {
  auto r = parse_int_param(query, "limit", 100, 1000);
  INFO("query string: " << query);
  REQUIRE(std::holds_alternative<api_error>(r));
  const auto& err = std::get<api_error>(r);
  CHECK(err.code == errc::validation_error);
  return std::string{err.details.at("field").as_string()};
}

int64_t accepted(std::string_view query) {
  auto r = parse_int_param(query, "limit", 100, 1000);
  INFO("query string: " << query);
  REQUIRE(std::holds_alternative<int64_t>(r));
  return std::get<int64_t>(r);
}

} // namespace

TEST_CASE("parse_int_param takes plain digits from 0 to the maximum, the default otherwise") {
  CHECK(accepted("") == 100);
  CHECK(accepted("limit=0") == 0);
  CHECK(accepted("limit=1000") == 1000);
  CHECK(accepted("limit=007") == 7);
  CHECK(accepted("limit=5&limit=6") == 6);
}

// Caught by the digits-only invariant of fuzz/query_params_fuzz.cpp: strtoll stopped at a
// decoded NUL ("%00" was 0, "5%00x" was 5) and skipped spaces and a sign (" 5", "+5" and
// "-0" passed; a '+' in a query decodes to a space).
TEST_CASE("parse_int_param refuses anything but digits in the value") {
  for (auto q : {"limit=%00", "limit=5%00", "limit=5%00x", "limit=+5", "limit=%205", "limit=%2B5", "limit=-0",
                 "limit=-1", "limit=1e3", "limit=0x10", "limit=", "limit", "limit=1001",
                 "limit=99999999999999999999999"})
    CHECK(refused_field(q) == "limit");
}

TEST_CASE("parse_int_param names an unknown parameter or a bad escape") {
  CHECK(refused_field("limit=5&offset=2") == "offset");
  CHECK(refused_field("limit=%zz") == "limit");
  CHECK(refused_field("%zz=1") == "query");
}
