// GET /dashboard and its files, as the real daemon serves them: open access, content types,
// the Content-Security-Policy, and files that reach nothing but the daemon itself.
// (dashboard_browser_test.cpp opens the page in headless Chromium.)

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <regex>
#include <set>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/upstream_process.hpp"

using namespace medianest::test;
namespace json = boost::json;

namespace {

const std::string expected_csp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// The files the page consists of and the type each must be served with.
const std::vector<std::pair<std::string, std::string>> dashboard_files{
  {"/dashboard", "text/html; charset=utf-8"},
  {"/dashboard/index.html", "text/html; charset=utf-8"},
  {"/dashboard/app.js", "text/javascript; charset=utf-8"},
  {"/dashboard/app.css", "text/css; charset=utf-8"}};

/// Every src="…" and href="…" value of an HTML document.
std::vector<std::string> references_of(const std::string& html) {
  std::vector<std::string> out;
  static const std::regex attr{R"re(\b(?:src|href)\s*=\s*"([^"]*)")re", std::regex::icase};
  for (std::sregex_iterator it(html.begin(), html.end(), attr), end; it != end; ++it)
    out.push_back((*it)[1].str());
  return out;
}

void check_headers(const http_result& r, const std::string& content_type) {
  CHECK(r.status == 200);
  CHECK(r.header("content-type") == content_type);
  CHECK(r.header("content-security-policy") == expected_csp);
  CHECK(r.header("x-content-type-options") == "nosniff");
  CHECK(r.header("cache-control") == "no-cache");
  CHECK(r.headers.count("content-security-policy") == 1);
}

} // namespace

TEST_CASE("GET /dashboard and its files are served without a token, typed and under a strict CSP") {
  daemon_process d;
  http_client c;
  for (const auto& [path, type] : dashboard_files) {
    INFO(path);
    auto r = c.get(d.base_url() + path);
    check_headers(r, type);
    CHECK_FALSE(r.body.empty());
    // A token that is not valid changes nothing: the page asks for its own.
    auto with_bad_token = c.get(d.base_url() + path, {"Authorization: Bearer not-a-jwt"});
    CHECK(with_bad_token.status == 200);
    CHECK(with_bad_token.body == r.body);
  }
  // A trailing slash is the same page.
  CHECK(c.get(d.base_url() + "/dashboard/").status == 200);
}

TEST_CASE("the dashboard page references only its own same-origin files, each of which is served") {
  daemon_process d;
  http_client c;
  auto page = c.get(d.base_url() + "/dashboard");
  REQUIRE(page.status == 200);
  auto refs = references_of(page.body);
  std::set<std::string> served;
  for (const auto& ref : refs) {
    INFO("reference " << ref);
    if (ref.rfind("data:", 0) == 0) // the empty favicon: allowed by img-src data:
      continue;
    REQUIRE(ref.rfind("/dashboard/", 0) == 0);
    auto r = c.get(d.base_url() + ref);
    CHECK(r.status == 200);
    served.insert(ref);
  }
  CHECK(served.count("/dashboard/app.js") == 1);
  CHECK(served.count("/dashboard/app.css") == 1);
}

TEST_CASE("no dashboard file names another origin or carries inline script or style") {
  daemon_process d;
  http_client c;
  for (const auto& [path, type] : dashboard_files) {
    INFO(path);
    auto r = c.get(d.base_url() + path);
    REQUIRE(r.status == 200);
    // No URL of another host (no CDN: the machines have no internet), not even in a comment.
    CHECK(r.body.find("http://") == std::string::npos);
    CHECK(r.body.find("https://") == std::string::npos);
    if (type.rfind("text/html", 0) != 0)
      continue;
    for (const auto& ref : references_of(r.body))
      CHECK(ref.rfind("//", 0) != 0); // protocol-relative: another origin as well
    // The CSP forbids inline code; the page must not need it.
    CHECK_FALSE(std::regex_search(r.body, std::regex{R"(<script(?![^>]*\bsrc=)[^>]*>)"}));
    CHECK_FALSE(std::regex_search(r.body, std::regex{R"(<style\b)", std::regex::icase}));
    CHECK_FALSE(std::regex_search(r.body, std::regex{R"(\sstyle\s*=)", std::regex::icase}));
    CHECK_FALSE(std::regex_search(r.body, std::regex{R"(\son[a-z]+\s*=)", std::regex::icase}));
  }
}

TEST_CASE("an unknown dashboard file is 404 and other methods are 405") {
  daemon_process d;
  http_client c;
  for (const std::string path :
       {"/dashboard/nope.js", "/dashboard/app.js.map", "/dashboard/..%2Fapi", "/dashboard/app.js/x"}) {
    INFO(path);
    auto r = c.get(d.base_url() + path);
    CHECK(r.status == 404);
    auto doc = json::parse(r.body).as_object();
    CHECK(doc.at("error").at("code").as_string() == "NOT_FOUND");
  }
  auto post = c.request("POST", d.base_url() + "/dashboard", {}, "x");
  CHECK(post.status == 405);
  CHECK(post.header("allow") == "GET");
}

TEST_CASE("in gateway mode the daemon serves /dashboard itself instead of proxying it") {
  upstream_process up;
  daemon_process d{{{"--upstream", up.base_url()}, {}, {}}};
  http_client c;
  auto r = c.get(d.base_url() + "/dashboard");
  check_headers(r, "text/html; charset=utf-8");
  CHECK(r.body.find("/dashboard/app.js") != std::string::npos);
}
