// docs/openapi.yaml (as embedded in the binary) against the router that serves the API: every
// route is documented with its access rule and every documented operation is a route; every
// error code is listed with its status; every reference resolves. (scripts/lint-openapi.sh
// validates the document as OpenAPI; tests/integration/openapi_test.cpp checks that the
// daemon serves it.)

#include <catch2/catch.hpp>

#include <set>
#include <string>

#include "http/api_routes.hpp"
#include "http/openapi_endpoint.hpp"
#include "model/error.hpp"
#include "support/openapi_outline.hpp"

using namespace medianest;
using namespace medianest::http;
using medianest::test::openapi_outline;
using medianest::test::read_openapi_outline;

namespace {

/// "/api/v1/performance/optimize/:id" → "/api/v1/performance/optimize/{id}".
std::string openapi_path(const std::string& pattern) {
  std::string out;
  for (const auto& segment : split_path(pattern)) {
    out += '/';
    if (segment.front() == ':')
      out += '{' + std::string{segment.substr(1)} + '}';
    else
      out += segment;
  }
  return out.empty() ? "/" : out;
}

std::shared_ptr<const router> api_router(bool prometheus_public) {
  auto services = std::make_shared<api_services>();
  services->prometheus_public = prometheus_public;
  return make_api_router(services);
}

std::string name_of(http::access a) {
  switch (a) {
    case http::access::open: return "open";
    case http::access::user: return "user";
    case http::access::admin: return "admin";
  }
  return "?";
}

/// The access levels a security requirement allows: `{}` anyone, `bearerAuth: [admin]`
/// admins, a scheme with no roles any authenticated user.
std::set<std::string> access_of(const std::vector<std::string>& alternatives) {
  std::set<std::string> out;
  for (const auto& alt : alternatives) {
    if (alt == "{}")
      out.insert("open");
    else if (alt.find("[admin]") != std::string::npos)
      out.insert("admin");
    else if (alt.find("[]") != std::string::npos)
      out.insert("user");
    else
      out.insert("unreadable: " + alt);
  }
  return out;
}

const openapi_outline& outline() {
  static const auto doc = read_openapi_outline(openapi_document());
  return doc;
}

} // namespace

TEST_CASE("the embedded OpenAPI document is docs/openapi.yaml, version 3.1") {
  auto doc = openapi_document();
  REQUIRE(doc.size() > 1000);
  CHECK(doc.substr(0, 15) == "openapi: 3.1.0\n");
  CHECK(outline().operations.size() > 10);
}

TEST_CASE("every route of the router is an operation of the OpenAPI document and vice versa") {
  auto table = api_router(false);
  std::set<std::string> routes;
  for (const auto& r : table->routes())
    routes.insert(r.method + ' ' + openapi_path(r.pattern));
  std::set<std::string> documented;
  for (const auto& op : outline().operations) {
    INFO(op.method << ' ' << op.path);
    CHECK(documented.insert(op.method + ' ' + op.path).second); // no operation twice
  }
  for (const auto& r : routes) {
    INFO("route without an operation in docs/openapi.yaml: " << r);
    CHECK(documented.count(r) == 1);
  }
  for (const auto& d : documented) {
    INFO("operation in docs/openapi.yaml that the router does not have: " << d);
    CHECK(routes.count(d) == 1);
  }
  CHECK(routes.count("GET /api/v1/performance/openapi.yaml") == 1);
}

TEST_CASE("every operation's security requirement matches its route's access rule") {
  REQUIRE(outline().security == std::vector<std::string>{"bearerAuth: [admin]"});
  std::map<std::string, std::set<std::string>> levels; // both --prometheus-public settings
  for (bool prometheus_public : {false, true}) {
    auto table = api_router(prometheus_public);
    for (const auto& r : table->routes())
      levels[r.method + ' ' + openapi_path(r.pattern)].insert(name_of(r.access));
  }
  for (const auto& op : outline().operations) {
    auto key = op.method + ' ' + op.path;
    INFO(key);
    auto documented = op.has_security ? (op.security.empty() ? std::set<std::string>{"open"}
                                                             : access_of(op.security))
                                      : access_of(outline().security);
    CHECK(documented == levels[key]);
    // A route that needs a token documents 401; one that needs an admin, 403.
    if (!documented.count("open") || documented.size() > 1)
      CHECK(op.responses.count("401") == 1);
    if (documented.count("admin"))
      CHECK(op.responses.count("403") == 1);
  }
}

TEST_CASE("the OpenAPI document lists every error code with its HTTP status") {
  const auto& lines = outline().lines;
  auto begin = std::find(lines.begin(), lines.end(), "    ErrorCode:");
  REQUIRE(begin != lines.end());
  std::set<std::string> enumerated;
  std::map<std::string, unsigned> tabled;
  static const std::regex row{R"(^\s*\| `([A-Z_]+)` \| (\d{3}) \|)"};
  static const std::regex item{R"(^ {8}- ([A-Z_]+)$)"};
  for (auto it = begin + 1; it != lines.end() && (it->size() < 5 || it->at(4) == ' '); ++it) {
    std::smatch m;
    if (std::regex_search(*it, m, row))
      tabled[m[1].str()] = static_cast<unsigned>(std::stoul(m[2].str()));
    else if (std::regex_match(*it, m, item))
      enumerated.insert(m[1].str());
  }
  std::set<std::string> codes;
  for (auto i = static_cast<uint8_t>(errc::unauthorized);
       i <= static_cast<uint8_t>(errc::optimization_failed); ++i) {
    auto code = static_cast<errc>(i);
    auto name = std::string{code_name(code)};
    INFO(name);
    codes.insert(name);
    CHECK(enumerated.count(name) == 1);
    REQUIRE(tabled.count(name) == 1);
    CHECK(tabled[name] == http_status(code));
  }
  CHECK(enumerated == codes);
  CHECK(tabled.size() == codes.size());
}

TEST_CASE("every $ref of the OpenAPI document names a component it defines") {
  // Redocly checks the references it follows; this also covers x-websocket, which it skips.
  const auto& doc = outline();
  REQUIRE(doc.refs.count("schemas/LiveServerFrame") == 1);
  REQUIRE(doc.refs.count("schemas/LiveClientMessage") == 1);
  for (const auto& ref : doc.refs) {
    INFO("#/components/" << ref);
    CHECK(doc.components.count(ref) == 1);
  }
}
