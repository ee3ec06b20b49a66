#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>

#include "http/types.hpp"
#include "model/error.hpp"
#include "model/json.hpp"

#include <caf/sec.hpp>

using namespace medianest;

TEST_CASE("every code maps to its wire name and status") {
  struct row {
    errc code;
    const char* name;
    unsigned status;
  };
  for (auto [code, name, status] : std::vector<row>{
         {errc::unauthorized, "UNAUTHORIZED", 401},
         {errc::forbidden, "FORBIDDEN", 403},
         {errc::not_found, "NOT_FOUND", 404},
         {errc::method_not_allowed, "METHOD_NOT_ALLOWED", 405},
         {errc::validation_error, "VALIDATION_ERROR", 400},
         {errc::conflict, "CONFLICT", 409},
         {errc::payload_too_large, "PAYLOAD_TOO_LARGE", 413},
         {errc::rate_limited, "RATE_LIMITED", 429},
         {errc::internal_error, "INTERNAL_ERROR", 500},
         {errc::performance_degraded, "PERFORMANCE_DEGRADED", 503},
         {errc::resource_exhausted, "RESOURCE_EXHAUSTED", 503},
         {errc::circuit_breaker_open, "CIRCUIT_BREAKER_OPEN", 503},
         {errc::optimization_failed, "OPTIMIZATION_FAILED", 500},
       }) {
    CHECK(code_name(code) == name);
    CHECK(http_status(code) == status);
  }
}

TEST_CASE("the error envelope has the spec's shape") {
  api_error err{errc::performance_degraded, "System performance is currently degraded", {}, 30u};
  err.details["responseTime"] = 756;
  err.details["threshold"] = 500;
  err.details["retryAfter"] = 30;
  auto doc = boost::json::parse(error_envelope(err)).as_object();
  CHECK(doc.at("success").as_bool() == false);
  auto& e = doc.at("error").as_object();
  CHECK(e.at("code").as_string() == "PERFORMANCE_DEGRADED");
  CHECK(e.at("message").as_string() == "System performance is currently degraded");
  CHECK(e.at("statusCode").as_int64() == 503);
  CHECK(e.at("details").at("responseTime").as_int64() == 756);

  auto res = medianest::http::http_response::error(err);
  CHECK(res.status == 503);
  REQUIRE(res.headers.size() == 1);
  CHECK(res.headers[0].first == "Retry-After");
  CHECK(res.headers[0].second == "30");
}

TEST_CASE("an envelope without details omits the field") {
  auto doc = boost::json::parse(error_envelope({errc::not_found, "gone", {}, std::nullopt}));
  CHECK_FALSE(doc.at("error").as_object().contains("details"));
}

TEST_CASE("validation errors name the field") {
  auto err = validation_error("period", "period must be one of 1h, 24h, 7d, 30d");
  CHECK(err.code == errc::validation_error);
  CHECK(err.details.at("field").as_string() == "period");
}

TEST_CASE("an api_error survives the trip through caf::error") {
  api_error err{errc::conflict, "cache_strategy is already running", {}, 5u};
  err.details["type"] = "cache_strategy";
  auto back = from_caf_error(to_caf_error(err));
  CHECK(back.code == errc::conflict);
  CHECK(back.message == err.message);
  CHECK(back.details.at("type").as_string() == "cache_strategy");
  REQUIRE(back.retry_after);
  CHECK(*back.retry_after == 5u);
}

TEST_CASE("foreign caf errors become generic API errors") {
  CHECK(from_caf_error(caf::make_error(caf::sec::request_timeout)).code
        == errc::resource_exhausted);
  CHECK(from_caf_error(caf::make_error(caf::sec::runtime_error)).code == errc::internal_error);
}

TEST_CASE("the success envelope wraps data") {
  CHECK(success_envelope(R"({"a":1})") == R"({"success":true,"data":{"a":1}})");
}

TEST_CASE("numbers are written the way people read them") {
  boost::json::object o;
  o["usage"] = 25.5;
  o["whole"] = 50.0;
  o["int"] = 42;
  o["nan"] = std::nan("");
  o["text"] = "a\"b\n";
  CHECK(to_json(o) == R"({"usage":25.5,"whole":50,"int":42,"nan":null,"text":"a\"b\n"})");
}
