#include <catch2/catch.hpp>

#include "http/router.hpp"

using namespace medianest::http;

namespace {

router sample_router() {
  router r;
  auto nop = [](request_context, responder) {};
  r.add("GET", "/health", access::open, nop);
  r.add("GET", "/api/v1/performance/optimize/:id", access::admin, nop);
  r.add("POST", "/api/v1/performance/optimize", access::admin, nop);
  r.add("GET", "/api/v1/performance/alerts", access::admin, nop);
  r.add("PUT", "/api/v1/performance/alerts", access::admin, nop);
  return r;
}

} // namespace

TEST_CASE("matches literal routes and tolerates one trailing slash") {
  auto r = sample_router();
  auto m = r.match("GET", "/health");
  REQUIRE(m.found);
  CHECK(m.found->pattern == "/health");
  CHECK(r.match("GET", "/health/").found);
  CHECK_FALSE(r.match("GET", "/health//").found);
  CHECK_FALSE(r.match("GET", "//health").found);
  CHECK_FALSE(r.match("GET", "/healthz").found);
  CHECK_FALSE(r.match("GET", "").found);
}

TEST_CASE("binds template parameters") {
  auto r = sample_router();
  auto m = r.match("GET", "/api/v1/performance/optimize/opt-abc123");
  REQUIRE(m.found);
  CHECK(m.found->pattern == "/api/v1/performance/optimize/:id");
  REQUIRE(m.params.size() == 1);
  CHECK(m.params[0].first == "id");
  CHECK(m.params[0].second == "opt-abc123");
  CHECK_FALSE(r.match("GET", "/api/v1/performance/optimize/a/b").found);
}

TEST_CASE("a known path under another method is 405 material with an Allow list") {
  auto r = sample_router();
  auto m = r.match("DELETE", "/api/v1/performance/alerts");
  CHECK_FALSE(m.found);
  CHECK(m.path_known);
  CHECK(m.allowed == "GET, PUT");
  CHECK(*m.pattern == "/api/v1/performance/alerts");
  auto get = r.match("GET", "/api/v1/performance/optimize");
  CHECK_FALSE(get.found);
  CHECK(get.path_known);
  CHECK(get.allowed == "POST");
}

TEST_CASE("an unknown path is neither found nor known") {
  auto r = sample_router();
  auto m = r.match("GET", "/api/v1/performance/nothing");
  CHECK_FALSE(m.found);
  CHECK_FALSE(m.path_known);
  CHECK(m.params.empty());
}

TEST_CASE("split_path drops empty segments") {
  auto parts = split_path("/a/b/c/");
  REQUIRE(parts.size() == 3);
  CHECK(parts[0] == "a");
  CHECK(parts[2] == "c");
  CHECK(split_path("/").empty());
}
