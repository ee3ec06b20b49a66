// GET /api/v1/performance/openapi.yaml as the real daemon serves it, and the document against
// the daemon's real answers: every documented operation, called as an admin, a user and
// without a token, answers with a status the document lists for it.

#include <catch2/catch.hpp>

#include <fstream>
#include <iterator>
#include <map>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/openapi_outline.hpp"

using namespace medianest::test;

namespace {

std::string source_openapi_yaml() {
  std::ifstream in{std::string{MEDIANEST_SOURCE_DIR} + "/docs/openapi.yaml", std::ios::binary};
  REQUIRE(in);
  return {std::istreambuf_iterator<char>{in}, std::istreambuf_iterator<char>{}};
}

/// A value for each path parameter of the document's paths.
std::string concrete(const std::string& path) {
  static const std::map<std::string, std::string> values{
    {"{id}", "opt-000000000000"}, // a run that does not exist: 404
    {"{file}", "app.js"}};
  std::string out = path;
  for (const auto& [name, value] : values)
    if (auto pos = out.find(name); pos != std::string::npos)
      out.replace(pos, name.size(), value);
  INFO(path);
  REQUIRE(out.find('{') == std::string::npos); // a new parameter needs a value above
  return out;
}

} // namespace

TEST_CASE("GET /api/v1/performance/openapi.yaml serves docs/openapi.yaml byte for byte, without a token") {
  daemon_process d;
  http_client c;
  auto url = d.base_url() + "/api/v1/performance/openapi.yaml";
  auto r = c.get(url);
  REQUIRE(r.status == 200);
  CHECK(r.header("content-type") == "application/yaml");
  CHECK(r.header("cache-control") == "no-cache");
  CHECK(r.header("x-content-type-options") == "nosniff");
  CHECK_FALSE(r.header("x-correlation-id").empty());
  CHECK(r.body == source_openapi_yaml());
  // A token that is not valid changes nothing: the document is public.
  auto with_bad_token = c.get(url, {"Authorization: Bearer not-a-jwt"});
  CHECK(with_bad_token.status == 200);
  CHECK(with_bad_token.body == r.body);
  auto post = c.request("POST", url, {"Content-Type: application/json"}, "{}");
  CHECK(post.status == 405);
  CHECK(post.header("allow") == "GET");
}

TEST_CASE("every documented operation answers an admin, a user and no token with a documented status") {
  daemon_process d;
  http_client c;
  auto outline = read_openapi_outline(source_openapi_yaml());
  REQUIRE_FALSE(outline.operations.empty());
  const std::map<std::string, std::string> callers{
    {"admin", bearer(d.token("admin"))}, {"user", bearer(d.token("user"))}, {"nobody", ""}};
  for (const auto& op : outline.operations) {
    for (const auto& [who, auth] : callers) {
      std::vector<std::string> headers{"Content-Type: application/json"};
      if (!auth.empty())
        headers.push_back(auth);
      // PUT /alerts with {} changes nothing; POST /optimize with {} is a validation error.
      auto body = op.method == "GET" ? std::string{} : std::string{"{}"};
      auto r = c.request(op.method, d.base_url() + concrete(op.path), headers, body);
      INFO(op.method << ' ' << op.path << " as " << who << ": " << r.status << ' ' << r.body);
      CHECK(op.responses.count(std::to_string(r.status)) == 1);
      CHECK_FALSE(r.header("x-correlation-id").empty());
    }
  }
}
