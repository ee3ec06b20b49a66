// Bad input, as one table: every route of the daemon's router called the way a careless or
// hostile client calls it — malformed JSON, wrong types, bodies and headers over the limits,
// invalid UTF-8, path traversal, query floods, unknown parameters, broken framing. Each case
// gets its documented answer in the error envelope (valid JSON whatever bytes came in), and the
// daemon answers GET /health after every one. Then the connection-level attacks: thousands of
// idle connections and slowloris clients.
//
// Requests are written byte for byte on a raw socket: no client library normalises the paths
// ("/../") or escapes the bytes the cases are about.

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string_view>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "http/api_routes.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

using namespace medianest;
using namespace medianest::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

const std::string api = "/api/v1/performance";

// -- raw HTTP -------------------------------------------------------------------------------

/// An HTTP/1.1 response as it came off the wire.
struct raw_response {
  unsigned status = 0;
  std::multimap<std::string, std::string> headers; // names lower-cased
  std::string body;

  std::string header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string{} : it->second;
  }
};

/// Parses the first response of `raw` (the daemon sends Content-Length on every answer).
raw_response parse_response(const std::string& raw) {
  raw_response out;
  if (raw.rfind("HTTP/1.1 ", 0) != 0 || raw.size() < 12)
    return out;
  out.status = static_cast<unsigned>(std::stoul(raw.substr(9, 3)));
  auto end = raw.find("\r\n\r\n");
  if (end == std::string::npos)
    return out;
  size_t pos = raw.find("\r\n") + 2;
  while (pos < end) {
    auto eol = raw.find("\r\n", pos);
    auto line = raw.substr(pos, eol - pos);
    pos = eol + 2;
    auto colon = line.find(':');
    if (colon == std::string::npos)
      continue;
    auto name = line.substr(0, colon);
    std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) {
      return static_cast<char>(std::tolower(c));
    });
    auto value = line.substr(colon + 1);
    while (!value.empty() && value.front() == ' ')
      value.erase(0, 1);
    out.headers.emplace(name, value);
  }
  out.body = raw.substr(end + 4);
  if (auto length = out.header("content-length"); !length.empty())
    out.body.resize(std::min<size_t>(out.body.size(), std::stoul(length)));
  return out;
}

/// Sends `bytes` on a new connection (whether or not the daemon reads them all) and reads the
/// answer until the daemon closes.
raw_response exchange(uint16_t port, const std::string& bytes, int timeout_ms = 10000) {
  raw_connection conn{port};
  REQUIRE(conn.connected());
  conn.send(bytes); // the daemon may answer (and stop reading) before the last byte
  return parse_response(conn.read_until_close(timeout_ms));
}

// -- the table ------------------------------------------------------------------------------

/// One row: a request and the answer it must get.
struct bad_case {
  std::string name;
  std::string method;
  /// The request target exactly as sent: path and query, any bytes.
  std::string target;
  std::string body;
  /// Extra header lines ("Name: value").
  std::vector<std::string> headers;
  unsigned status = 200;
  /// The error code expected in the envelope; empty: a success.
  std::string code;
  /// The expected `details.field` of a VALIDATION_ERROR; empty: not checked.
  std::string field;
  /// Sent with the admin token.
  bool with_token = true;
  /// The body carries its own framing (chunked): no Content-Length is added.
  bool framed = false;
  /// More checks on the answer.
  std::function<void(const raw_response&)> extra;
};

bad_case expect(std::string name, std::string method, std::string target, unsigned status,
                std::string code = {}, std::string field = {}) {
  bad_case c;
  c.name = std::move(name);
  c.method = std::move(method);
  c.target = std::move(target);
  c.status = status;
  c.code = std::move(code);
  c.field = std::move(field);
  return c;
}

bad_case with_body(bad_case c, std::string body) {
  c.body = std::move(body);
  return c;
}

bad_case with_headers(bad_case c, std::vector<std::string> headers) {
  c.headers = std::move(headers);
  return c;
}

bad_case without_token(bad_case c) {
  c.with_token = false;
  return c;
}

bad_case and_check(bad_case c, std::function<void(const raw_response&)> extra) {
  c.extra = std::move(extra);
  return c;
}

bad_case put_alerts(std::string name, std::string body, std::string field) {
  return with_body(expect(std::move(name), "PUT", api + "/alerts", 400, "VALIDATION_ERROR",
                          std::move(field)),
                   std::move(body));
}

bad_case post_optimize(std::string name, std::string body, std::string field) {
  return with_body(expect(std::move(name), "POST", api + "/optimize", 400, "VALIDATION_ERROR",
                          std::move(field)),
                   std::move(body));
}

std::string request_bytes(const bad_case& c, const std::string& token) {
  std::string out = c.method + ' ' + c.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  if (c.with_token)
    out += "Authorization: Bearer " + token + "\r\n";
  for (const auto& h : c.headers)
    out += h + "\r\n";
  if (!c.framed && (!c.body.empty() || c.method == "PUT" || c.method == "POST"))
    out += "Content-Length: " + std::to_string(c.body.size()) + "\r\n";
  out += "Connection: close\r\n\r\n";
  return out + c.body;
}

/// Every route of the router, with a target that reaches it and the status it answers an
/// admin who sends nothing odd (the baseline the bad cases are compared with).
struct route_target {
  std::string method;
  std::string target;
  unsigned normal_status;
  /// Whether the route reads the query string (and so refuses unknown parameters).
  bool takes_query;
};

const std::vector<route_target>& every_route() {
  static const std::vector<route_target> routes{
    {"GET", "/health", 200, false},
    {"GET", api + "/metrics", 200, false},
    {"GET", api + "/resources", 200, false},
    {"GET", api + "/summary", 200, false},
    {"GET", api + "/history", 200, true},
    {"GET", api + "/alerts", 200, false},
    {"PUT", api + "/alerts", 400, false}, // no body: not a JSON document
    {"GET", api + "/alerts/events", 200, true},
    {"GET", api + "/alerts/deliveries", 200, true},
    {"POST", api + "/optimize", 400, false}, // no body
    {"GET", api + "/optimize", 200, true},
    {"GET", api + "/optimize/opt-000000000000", 404, false},
    {"GET", api + "/prometheus", 200, false},
    {"GET", api + "/live", 400, false}, // not a WebSocket upgrade
    {"GET", "/dashboard", 200, false},
    {"GET", "/dashboard/app.js", 200, false},
    {"GET", api + "/openapi.yaml", 200, false},
  };
  return routes;
}

std::string code_for(unsigned status) {
  switch (status) {
    case 200: return {};
    case 400: return "VALIDATION_ERROR";
    case 404: return "NOT_FOUND";
    default: return "?";
  }
}

/// No answer may carry a file from outside the daemon (path traversal).
void no_foreign_file(const raw_response& r) {
  CHECK(r.body.find("root:") == std::string::npos);
  CHECK(r.body.find("/bin/") == std::string::npos);
}

std::string repeat(const std::string& s, size_t n) {
  std::string out;
  out.reserve(s.size() * n);
  for (size_t i = 0; i < n; ++i)
    out += s;
  return out;
}

std::vector<bad_case> bad_cases() {
  std::vector<bad_case> t;
  const std::string alerts = api + "/alerts";
  const std::string history = api + "/history";
  const std::string events = api + "/alerts/events";

  // -- malformed JSON bodies ---------------------------------------------------------------
  for (const auto& [what, body] : std::vector<std::pair<std::string, std::string>>{
         {"empty", ""},
         {"unclosed object", "{"},
         {"missing value", R"({"enabled":})"},
         {"not JSON at all", "enabled=true"},
         {"trailing garbage", R"({"enabled":true}x)"},
         {"two documents", R"({} {})"},
         {"single quotes", R"({'enabled':true})"},
         {"trailing comma", R"({"enabled":true,})"},
         {"comment", R"({/* c */"enabled":true})"},
         {"nested 100000 deep", std::string(100000, '[') + std::string(100000, ']')},
         {"bare string", R"("x")"},
         {"NUL byte", std::string("{\"enabled\":\0true}", 17)},
       }) {
    t.push_back(put_alerts("PUT /alerts: " + what, body, "body"));
    t.push_back(post_optimize("POST /optimize: " + what, body, "body"));
  }
  t.push_back(put_alerts("PUT /alerts: array instead of object", "[]", "body"));
  t.push_back(post_optimize("POST /optimize: array instead of object", "[]", "body"));
  t.push_back(put_alerts("PUT /alerts: null", "null", "body"));
  t.push_back(post_optimize("POST /optimize: number", "42", "body"));
  // A JSON body on a route that takes none is ignored.
  t.push_back(with_body(expect("GET /metrics with a malformed body", "GET", api + "/metrics", 200),
                        "{"));
  t.push_back(with_body(expect("GET /health with a body", "GET", "/health", 200), "[[["));

  // -- wrong JSON types, field by field -----------------------------------------------------
  t.push_back(put_alerts("enabled as a string", R"({"enabled":"yes"})", "enabled"));
  t.push_back(put_alerts("enabled as a number", R"({"enabled":1})", "enabled"));
  t.push_back(put_alerts("thresholds as an array", R"({"thresholds":[]})", "thresholds"));
  t.push_back(put_alerts("a threshold as a number", R"({"thresholds":{"responseTime":5}})",
                         "thresholds.responseTime"));
  t.push_back(put_alerts("warning as a string",
                         R"({"thresholds":{"responseTime":{"warning":"500"}}})",
                         "thresholds.responseTime.warning"));
  t.push_back(put_alerts("critical as a boolean",
                         R"({"thresholds":{"cpuUsage":{"critical":true}}})",
                         "thresholds.cpuUsage.critical"));
  t.push_back(put_alerts("warning negative", R"({"thresholds":{"memoryUsage":{"warning":-1}}})",
                         "thresholds.memoryUsage.warning"));
  t.push_back(put_alerts("warning null", R"({"thresholds":{"memoryUsage":{"warning":null}}})",
                         "thresholds.memoryUsage.warning"));
  t.push_back(put_alerts("a fraction over 1", R"({"thresholds":{"errorRate":{"critical":5}}})",
                         "thresholds.errorRate.critical"));
  t.push_back(put_alerts("forSeconds as a string",
                         R"({"thresholds":{"memoryUsage":{"forSeconds":"1"}}})",
                         "thresholds.memoryUsage.forSeconds"));
  t.push_back(put_alerts("forSeconds fractional",
                         R"({"thresholds":{"memoryUsage":{"forSeconds":1.5}}})",
                         "thresholds.memoryUsage.forSeconds"));
  t.push_back(put_alerts("unit changed", R"({"thresholds":{"cpuUsage":{"unit":"ms"}}})",
                         "thresholds.cpuUsage.unit"));
  t.push_back(put_alerts("unknown threshold", R"({"thresholds":{"diskUsage":{"warning":1}}})",
                         "thresholds.diskUsage"));
  t.push_back(put_alerts("notifications as a string", R"({"notifications":"x"})",
                         "notifications"));
  t.push_back(put_alerts("email as a string", R"({"notifications":{"email":"a@b.example"}})",
                         "notifications.email"));
  t.push_back(put_alerts("email item as a number", R"({"notifications":{"email":[1]}})",
                         "notifications.email[0]"));
  t.push_back(put_alerts("email with a NUL", R"({"notifications":{"email":["a\u0000@b.example"]}})",
                         "notifications.email[0]"));
  t.push_back(put_alerts("email with a second recipient",
                         R"({"notifications":{"email":["a@b.example, c@d.example"]}})",
                         "notifications.email[0]"));
  t.push_back(put_alerts("webhook as a number", R"({"notifications":{"webhook":5}})",
                         "notifications.webhook"));
  t.push_back(put_alerts("webhook not http", R"({"notifications":{"webhook":"file:///etc/passwd"}})",
                         "notifications.webhook"));
  t.push_back(put_alerts("discord as a string", R"({"notifications":{"discord":"true"}})",
                         "notifications.discord"));
  t.push_back(put_alerts("unknown top-level field", R"({"thresholdz":{}})", "thresholdz"));
  t.push_back(post_optimize("optimizations as a string", R"({"optimizations":"cache_strategy"})",
                            "optimizations"));
  t.push_back(post_optimize("optimization type as a number", R"({"optimizations":[1]})",
                            "optimizations[0]"));
  t.push_back(post_optimize("unknown optimization type", R"({"optimizations":["rm -rf"]})",
                            "optimizations[0]"));
  t.push_back(post_optimize("empty optimization list", R"({"optimizations":[]})",
                            "optimizations"));
  t.push_back(post_optimize("aggressive as a string",
                            R"({"optimizations":["memory_cleanup"],"aggressive":"no"})",
                            "aggressive"));
  t.push_back(post_optimize("unknown field", R"({"optimizations":["memory_cleanup"],"x":1})", "x"));
  t.push_back(post_optimize("no optimizations", "{}", "optimizations"));

  // -- invalid UTF-8 --------------------------------------------------------------------------
  // In a body: not a JSON text (RFC 8259 requires UTF-8).
  t.push_back(put_alerts("invalid UTF-8 in a body string",
                         "{\"notifications\":{\"webhook\":\"http://h.example/\xff\xfe\"}}",
                         "body"));
  t.push_back(put_alerts("overlong UTF-8 in a body string",
                         "{\"notifications\":{\"email\":[\"\xc0\xaf@b.example\"]}}", "body"));
  t.push_back(put_alerts("invalid UTF-8 in a key", "{\"\xff\":1}", "body"));
  t.push_back(put_alerts("a lone surrogate escape", R"({"notifications":{"email":["\ud800@b.example"]}})",
                         "body"));
  t.push_back(post_optimize("invalid UTF-8 in an optimization type",
                            "{\"optimizations\":[\"\xff\"]}", "body"));
  // In the query and the path: the error message quotes the value, and must stay valid JSON.
  t.push_back(expect("history period percent-encoded 0xFF", "GET", history + "?period=%FF%FE",
                     400, "VALIDATION_ERROR", "period"));
  t.push_back(expect("history period raw 0xFF", "GET", history + "?period=\xff\xfe", 400,
                     "VALIDATION_ERROR", "period"));
  t.push_back(expect("history metric truncated sequence", "GET", history + "?metric=%C3%28", 400,
                     "VALIDATION_ERROR", "metric"));
  t.push_back(expect("history invalid UTF-8 parameter name", "GET", history + "?%FF=1", 400,
                     "VALIDATION_ERROR"));
  t.push_back(expect("events limit 0xFF", "GET", events + "?limit=%FF", 400, "VALIDATION_ERROR",
                     "limit"));
  t.push_back(expect("optimize id 0xFF", "GET", api + "/optimize/%FF%FE", 404, "NOT_FOUND"));
  t.push_back(expect("optimize id raw 0xFF", "GET", api + "/optimize/\xff\xfe", 404, "NOT_FOUND"));
  t.push_back(expect("dashboard file raw 0xFF", "GET", "/dashboard/\xff\xfe", 404, "NOT_FOUND"));
  t.push_back(expect("unknown path raw 0xFF", "GET", api + "/\xc3\x28", 404, "NOT_FOUND"));
  t.push_back(and_check(
    with_headers(expect("invalid UTF-8 correlation id", "GET", "/health", 200),
                 {"X-Correlation-ID: \xff\xfe"}),
    [](const raw_response& r) { CHECK(r.header("x-correlation-id").size() == 36); }));

  // -- path traversal: nothing outside the embedded files is ever served ----------------------
  for (const auto& target : std::vector<std::string>{
         "/dashboard/../../etc/passwd",
         "/dashboard/../../../../../../etc/passwd",
         "/dashboard/%2e%2e/%2e%2e/etc/passwd",
         "/dashboard/%2E%2E/%2E%2E/etc/passwd",
         "/dashboard/..%2f..%2fetc%2fpasswd",
         "/dashboard/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
         "/dashboard/..%5c..%5cetc%5cpasswd",
         "/dashboard/..\\..\\etc\\passwd",
         "/dashboard/%252e%252e/%252e%252e/etc/passwd",
         "/dashboard/%c0%ae%c0%ae/%c0%ae%c0%ae/etc/passwd",
         "/dashboard/..",
         "/dashboard/.",
         "/dashboard/./app.js",
         "/dashboard/app.js/../../../etc/passwd",
         "/dashboard//etc/passwd",
         "/dashboard/%2fetc%2fpasswd",
         "/dashboard/app.js%00.html",
         "/dashboard/~root",
         "/dashboard/index.html/..",
         "/../../../etc/passwd",
         "/%2e%2e/%2e%2e/etc/passwd",
         api + "/openapi.yaml/../../../../etc/passwd",
         api + "/%2e%2e/%2e%2e/%2e%2e/etc/passwd",
         api + "/../../../etc/passwd",
         api + "/optimize/..%2f..%2f..%2fetc%2fpasswd",
         "http://localhost/dashboard/../../etc/passwd",
         "http://localhost/../../../etc/passwd",
       })
    t.push_back(and_check(expect("traversal " + target, "GET", target, 404, "NOT_FOUND"),
                          no_foreign_file));
  // An absolute-form target is not a way around the routes either.
  t.push_back(and_check(without_token(expect("absolute-form target", "GET",
                                             "file:///etc/passwd", 404, "NOT_FOUND")),
                        no_foreign_file));

  // -- queries: unknown parameters, floods, duplicates, bad encoding, length ----------------
  const std::string flood = repeat("a=1&", 3000); // 12 KB: within the 16 KiB header limit
  const std::string query_64k = repeat("q", 64 * 1024);
  for (const auto& r : every_route()) {
    if (r.method != "GET")
      continue;
    // A route that reads parameters names the first it does not know; the others ignore the
    // query (a cache-busting "?_=…" must not break /health).
    auto unknown_status = r.takes_query ? 400u : r.normal_status;
    auto unknown_code = r.takes_query ? std::string{"VALIDATION_ERROR"} : code_for(r.normal_status);
    auto field_of = [&](const std::string& key) {
      return r.takes_query ? key : r.normal_status == 400 ? "Upgrade" : "";
    };
    t.push_back(expect("unknown parameter on " + r.target, "GET", r.target + "?bogus=1",
                       unknown_status, unknown_code, field_of("bogus")));
    t.push_back(expect("3000 parameters on " + r.target, "GET", r.target + '?' + flood,
                       unknown_status, unknown_code, field_of("a")));
    t.push_back(expect("64 KiB query on " + r.target, "GET", r.target + '?' + query_64k, 413,
                       "PAYLOAD_TOO_LARGE"));
  }
  t.push_back(expect("history period given 1500 times", "GET",
                     history + '?' + repeat("period=1h&", 1500), 400, "VALIDATION_ERROR",
                     "period"));
  t.push_back(expect("history empty period", "GET", history + "?period=", 400,
                     "VALIDATION_ERROR", "period"));
  t.push_back(expect("history bad percent-encoding", "GET", history + "?period=%ZZ", 400,
                     "VALIDATION_ERROR", "period"));
  t.push_back(expect("history truncated percent-encoding", "GET", history + "?period=1h%", 400,
                     "VALIDATION_ERROR", "period"));
  t.push_back(expect("history unknown period", "GET", history + "?period=2h", 400,
                     "VALIDATION_ERROR", "period"));
  t.push_back(expect("history unknown granularity", "GET", history + "?granularity=1s", 400,
                     "VALIDATION_ERROR", "granularity"));
  t.push_back(expect("history forecast not a boolean", "GET", history + "?forecast=1", 400,
                     "VALIDATION_ERROR", "forecast"));
  t.push_back(expect("history metric with SQL", "GET",
                     history + "?metric=cpu%27%3B%20DROP%20TABLE%20rollups%3B--", 400,
                     "VALIDATION_ERROR", "metric"));
  // `limit` (parse_int_param): digits only, 0 to its maximum; a repeated one counts once,
  // the last value winning.
  t.push_back(expect("events limit 2000 times", "GET", events + '?' + repeat("limit=5&", 2000),
                     200));
  for (const auto& [what, value] : std::vector<std::pair<std::string, std::string>>{
         {"negative", "-1"}, {"over the maximum", "1001"}, {"a word", "ten"},
         {"exponent", "1e3"}, {"with a NUL", "5%00"}, {"with a space", "%205"},
         {"plus sign", "%2B5"}, {"huge", "99999999999999999999999"}, {"empty", ""}})
    t.push_back(expect("events limit " + what, "GET", events + "?limit=" + value, 400,
                       "VALIDATION_ERROR", "limit"));
  t.push_back(expect("deliveries limit over the maximum", "GET",
                     api + "/alerts/deliveries?limit=1001", 400, "VALIDATION_ERROR", "limit"));
  t.push_back(expect("optimize list limit over the maximum", "GET", api + "/optimize?limit=101",
                     400, "VALIDATION_ERROR", "limit"));

  // -- bodies over 1 MiB, on every route ----------------------------------------------------
  const std::string over_limit((1 << 20) + 1, 'x');
  for (const auto& r : every_route())
    t.push_back(and_check(with_body(expect("1 MiB + 1 body on " + r.method + ' ' + r.target,
                                           r.method, r.target, 413, "PAYLOAD_TOO_LARGE"),
                                    over_limit),
                          [](const raw_response& r) {
                            CHECK(r.header("connection") == "close");
                          }));
  // Exactly 1 MiB is allowed through to validation.
  t.push_back(put_alerts("PUT /alerts exactly 1 MiB", std::string(1 << 20, ' '), "body"));
  {
    bad_case chunked = expect("chunked body over 1 MiB", "PUT", alerts, 413, "PAYLOAD_TOO_LARGE");
    chunked.headers = {"Transfer-Encoding: chunked"};
    chunked.framed = true;
    std::string chunk(64 * 1024, 'y');
    char size[16];
    std::snprintf(size, sizeof size, "%zx\r\n", chunk.size());
    for (int i = 0; i < 17; ++i)
      chunked.body += size + chunk + "\r\n";
    chunked.body += "0\r\n\r\n";
    t.push_back(chunked);
  }
  t.push_back(with_headers(expect("declared 5 MB with Expect 100-continue", "PUT", alerts, 413,
                                  "PAYLOAD_TOO_LARGE"),
                           {"Content-Length: 5000000", "Expect: 100-continue"}));
  t.back().framed = true;

  // -- headers: one huge, thousands small ----------------------------------------------------
  const std::string huge_header = "X-Filler: " + std::string(17 * 1024, 'h');
  for (const auto& r : every_route())
    t.push_back(with_headers(expect("17 KiB header on " + r.method + ' ' + r.target, r.method,
                                    r.target, 413, "PAYLOAD_TOO_LARGE"),
                             {huge_header}));
  {
    std::vector<std::string> many;
    for (int i = 0; i < 5000; ++i)
      many.push_back("X-H" + std::to_string(i) + ": v");
    t.push_back(with_headers(expect("5000 headers", "GET", api + "/metrics", 413,
                                    "PAYLOAD_TOO_LARGE"),
                             many));
    many.resize(1000); // about 10 KB: within the limit, served
    t.push_back(with_headers(expect("1000 headers", "GET", api + "/metrics", 200), many));
  }
  t.push_back(with_headers(without_token(expect("an 8 KiB bearer token", "GET", api + "/metrics",
                                                401, "UNAUTHORIZED")),
                           {"Authorization: Bearer " + std::string(8 * 1024, 'a')}));
  t.push_back(with_headers(without_token(expect("a bearer token of invalid UTF-8", "GET",
                                                api + "/metrics", 401, "UNAUTHORIZED")),
                           {"Authorization: Bearer \xff\xfe.\xff.\xff"}));

  // -- methods and framing ------------------------------------------------------------------
  t.push_back(and_check(expect("DELETE /alerts", "DELETE", alerts, 405, "METHOD_NOT_ALLOWED"),
                        [](const raw_response& r) { CHECK(r.header("allow") == "GET, PUT"); }));
  t.push_back(expect("POST /health", "POST", "/health", 405, "METHOD_NOT_ALLOWED"));
  t.push_back(expect("HEAD /health", "HEAD", "/health", 405, "METHOD_NOT_ALLOWED"));
  t.push_back(expect("PUT /optimize/:id", "PUT", api + "/optimize/x", 405, "METHOD_NOT_ALLOWED"));
  t.push_back(expect("an unknown method", "BREW", "/health", 405, "METHOD_NOT_ALLOWED"));
  for (const auto& [what, headers] : std::vector<std::pair<std::string, std::vector<std::string>>>{
         {"negative Content-Length", {"Content-Length: -1"}},
         {"Content-Length overflowing", {"Content-Length: 99999999999999999999999"}},
         {"two different Content-Lengths", {"Content-Length: 5", "Content-Length: 6"}},
         {"Content-Length and chunked", {"Content-Length: 5", "Transfer-Encoding: chunked"}},
         {"an unknown transfer coding", {"Transfer-Encoding: gzip"}},
         {"a control character in a header", {"X-A: a\x01z"}},
       }) {
    bad_case c = expect("framing: " + what, "PUT", alerts, 400, "VALIDATION_ERROR", "request");
    c.headers = headers;
    c.framed = true;
    c.body = "hello";
    t.push_back(c);
  }
  {
    bad_case c = expect("framing: a bad chunk size", "PUT", alerts, 400, "VALIDATION_ERROR",
                        "request");
    c.headers = {"Transfer-Encoding: chunked"};
    c.framed = true;
    c.body = "zz\r\nabc\r\n0\r\n\r\n";
    t.push_back(c);
  }
  return t;
}

void check_answer(const bad_case& c, const raw_response& r) {
  INFO("status " << r.status << ", body: " << r.body.substr(0, 400));
  REQUIRE(r.status == c.status);
  CHECK_FALSE(r.header("x-correlation-id").empty());
  if (c.method == "HEAD") {
    CHECK(r.body.empty()); // a HEAD answer has a header only
  } else if (c.code.empty()) {
    if (r.header("content-type") == "application/json")
      CHECK(json::parse(r.body).at("success").as_bool());
  } else {
    CHECK(r.header("content-type") == "application/json");
    // Boost.JSON refuses invalid UTF-8: whatever bytes the request had, the answer is JSON.
    json::error_code ec;
    auto doc = json::parse(r.body, ec);
    REQUIRE_FALSE(ec);
    CHECK(doc.at("success").as_bool() == false);
    const auto& err = doc.at("error").as_object();
    CHECK(err.at("code").as_string() == c.code);
    CHECK(err.at("statusCode").as_int64() == c.status);
    CHECK_FALSE(err.at("message").as_string().empty());
    if (!c.field.empty()) {
      REQUIRE(err.contains("details"));
      CHECK(err.at("details").at("field").as_string() == c.field);
    }
  }
  if (r.status == 429 || r.status == 503)
    CHECK_FALSE(r.header("retry-after").empty());
  no_foreign_file(r);
  if (c.extra)
    c.extra(r);
}

/// Waits until the first snapshot is published (before it, /metrics answers 503).
void wait_ready(daemon_process& d, const std::string& token) {
  http_client c;
  auto deadline = steady::now() + 15s;
  while (steady::now() < deadline) {
    if (c.get(d.base_url() + api + "/metrics", {bearer(token)}).status == 200)
      return;
    std::this_thread::sleep_for(50ms);
  }
  FAIL("the daemon never published its first snapshot");
}

/// Raises this process' descriptor limit (the daemon, started afterwards, inherits it).
void raise_descriptor_limit(rlim_t wanted) {
  rlimit lim{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
  if (lim.rlim_cur < wanted) {
    lim.rlim_cur = std::min(wanted, lim.rlim_max);
    ::setrlimit(RLIMIT_NOFILE, &lim);
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &lim) == 0);
  }
  if (lim.rlim_cur < wanted)
    WARN("descriptor limit " << lim.rlim_cur << " is below " << wanted);
}

/// A TCP connection that the test drives byte by byte without blocking.
struct tcp_peer {
  int fd = -1;
  bool closed = false;
  std::string received;

  explicit tcp_peer(uint16_t port) {
    fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd >= 0 && ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      fd = -1;
    }
    closed = fd < 0;
  }
  ~tcp_peer() {
    if (fd >= 0)
      ::close(fd);
  }
  tcp_peer(const tcp_peer&) = delete;
  tcp_peer& operator=(const tcp_peer&) = delete;

  /// Reads what has arrived without waiting; notes a close or reset by the peer.
  void poll_input() {
    char buf[4096];
    while (!closed) {
      auto n = ::recv(fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) {
        received.append(buf, static_cast<size_t>(n));
        continue;
      }
      if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
        closed = true;
      return;
    }
  }
  /// Sends without waiting; a failure means the peer has gone.
  void send_byte(char c) {
    if (!closed && ::send(fd, &c, 1, MSG_DONTWAIT | MSG_NOSIGNAL) != 1
        && errno != EAGAIN && errno != EWOULDBLOCK)
      closed = true;
  }
  /// Sends all of `bytes` in one call, so that they arrive together.
  void send_all(std::string_view bytes) {
    if (!closed && ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL)
                     != static_cast<ssize_t>(bytes.size()))
      closed = true;
  }
};

/// One GET /health on a new connection: its status and how long it took.
std::pair<long, steady::duration> timed_health(const daemon_process& d) {
  http_client fresh;
  auto started = steady::now();
  auto r = fresh.get(d.base_url() + "/health");
  return {r.status, steady::now() - started};
}

} // namespace

TEST_CASE("bad input table - every route answers its documented error and the daemon keeps serving") {
  daemon_process d;
  auto token = d.token("admin");
  wait_ready(d, token);
  auto cases = bad_cases();
  INFO(cases.size() << " cases");

  // The table reaches every route of the router.
  auto services = std::make_shared<http::api_services>();
  auto routes = http::make_api_router(services);
  std::set<std::string> covered;
  for (const auto& c : cases) {
    auto path = c.target.substr(0, c.target.find('?'));
    auto match = routes->match(c.method, path);
    if (match.found)
      covered.insert(c.method + ' ' + match.found->pattern);
  }
  for (const auto& r : routes->routes()) {
    INFO(r.method << ' ' << r.pattern);
    CHECK(covered.count(r.method + ' ' + r.pattern) == 1);
  }

  http_client health;
  auto started = steady::now();
  for (const auto& c : cases) {
    INFO(c.name);
    auto r = exchange(d.port(), request_bytes(c, token));
    check_answer(c, r);
    REQUIRE(health.get(d.base_url() + "/health").status == 200);
  }
  INFO("the table took " << std::chrono::duration<double>(steady::now() - started).count() << " s");
  // The unchanged configuration: no bad PUT changed anything.
  http_client c;
  auto cfg = c.get(d.base_url() + api + "/alerts", {bearer(token)});
  REQUIRE(cfg.status == 200);
  CHECK(json::parse(cfg.body).at("data").at("thresholds").at("responseTime").at("warning")
          .to_number<double>()
        == 500);
  CHECK(d.running());
  d.stop();
  // A warning at most: no request above made the daemon log an error.
  auto log = d.log();
  CHECK(log.find(" error [") == std::string::npos);
  CHECK(log.find(" critical [") == std::string::npos);
  CHECK(log.find("threw") == std::string::npos);
}

TEST_CASE("a HEAD request gets its header without a body and the connection stays usable") {
  daemon_process d;
  raw_connection conn{d.port()};
  REQUIRE(conn.connected());
  REQUIRE(conn.send("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n"
                    "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  auto raw = conn.read_until_close(5000);
  INFO(raw);
  auto head = parse_response(raw);
  CHECK(head.status == 405);
  CHECK(head.header("allow") == "GET");
  CHECK_FALSE(head.header("content-length").empty());
  // The next answer starts right after the HEAD answer's header.
  auto second = raw.find("\r\n\r\n") + 4;
  REQUIRE(second < raw.size());
  auto get = parse_response(raw.substr(second));
  CHECK(get.status == 200);
  CHECK(json::parse(get.body).at("success").as_bool());
}

TEST_CASE("thousands of idle connections do not lock out a connected client or a new one") {
  raise_descriptor_limit(8192);
  constexpr size_t cap = 1000;
  constexpr size_t flood = 3000;
  daemon_process d{{{"--max-connections", std::to_string(cap)}, {}, {}}};
  http_client regular;
  REQUIRE(regular.get(d.base_url() + "/health").status == 200); // holds one slot, keep-alive

  auto flood_started = steady::now();
  std::vector<std::unique_ptr<tcp_peer>> idle;
  for (size_t i = 0; i < flood; ++i) {
    idle.push_back(std::make_unique<tcp_peer>(d.port()));
    REQUIRE_FALSE(idle.back()->closed);
  }
  INFO("opened " << flood << " connections in "
                 << std::chrono::duration<double>(steady::now() - flood_started).count() << " s");

  // The connected client is served at once while they sit there.
  for (int i = 0; i < 5; ++i) {
    auto before = steady::now();
    REQUIRE(regular.get(d.base_url() + "/health").status == 200);
    CHECK(steady::now() - before < 2s);
  }
  // Past the cap the newcomers are told 503 RESOURCE_EXHAUSTED and closed. Once the silent
  // ones have held their slots for a second, a new connection takes the slot of the oldest.
  size_t refused = 0, held = 0, dropped = 0;
  auto silent = [&] {
    size_t n = 0;
    for (auto& peer : idle) {
      peer->poll_input();
      n += !peer->closed && peer->received.empty() ? 1 : 0;
    }
    return n;
  };
  // The answers to those past the cap arrive; at most cap - 1 (the regular client has one)
  // remain without one.
  auto deadline = steady::now() + 10s;
  while (silent() > cap - 1 && steady::now() < deadline)
    std::this_thread::sleep_for(100ms);
  for (auto& peer : idle) {
    if (peer->received.rfind("HTTP/1.1 503", 0) == 0) {
      ++refused;
      CHECK(peer->received.find("RESOURCE_EXHAUSTED") != std::string::npos);
      CHECK(peer->received.find("Retry-After: 1") != std::string::npos);
    } else if (peer->closed) {
      ++dropped;
    } else {
      ++held;
    }
  }
  INFO("refused " << refused << ", held " << held << ", dropped " << dropped);
  CHECK(refused > 0);
  CHECK(held <= cap - 1);
  CHECK(refused + held + dropped == flood);

  // A new client gets a slot (that of the oldest silent connection) within a few seconds.
  std::this_thread::sleep_for(1100ms); // the silent grace of server_state
  auto [status, took] = timed_health(d);
  CHECK(status == 200);
  CHECK(took < 2s);
  // The silent connection that gave up its slot was closed without an answer.
  auto closed_silently = [&] {
    size_t n = 0;
    for (auto& peer : idle) {
      peer->poll_input();
      n += peer->closed && peer->received.empty() ? 1 : 0;
    }
    return n;
  };
  auto close_deadline = steady::now() + 3s;
  while (closed_silently() <= dropped && steady::now() < close_deadline)
    std::this_thread::sleep_for(50ms);
  CHECK(closed_silently() > dropped);
  idle.clear();
  CHECK(regular.get(d.base_url() + "/health").status == 200);
  // Every slot comes back once they are gone.
  auto back = steady::now() + 10s;
  while (steady::now() < back && timed_health(d).first != 200)
    std::this_thread::sleep_for(50ms);
  CHECK(timed_health(d).first == 200);
  CHECK(d.running());
}

TEST_CASE("a client whose header arrives whole and whose body trickles is cut off at the header timeout") {
  daemon_process d{{{"--header-timeout", "2"}, {}, {}}};
  // The header in one segment, so that the daemon's first read holds all of it.
  tcp_peer peer(d.port());
  REQUIRE_FALSE(peer.closed);
  auto started = steady::now();
  peer.send_all("PUT " + api + "/alerts HTTP/1.1\r\nHost: x\r\n"
                "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n");
  auto next_byte = started + 1s;
  while (!peer.closed && steady::now() < started + 8s) {
    if (steady::now() >= next_byte) {
      peer.send_byte(' ');
      next_byte += 1s;
    }
    peer.poll_input();
    std::this_thread::sleep_for(20ms);
  }
  auto after = steady::now() - started;
  INFO("closed after " << std::chrono::duration<double>(after).count() << " s");
  REQUIRE(peer.closed); // not left to the 60 s idle timeout
  CHECK(after >= 1500ms);
  CHECK(after < 5s);
  CHECK(peer.received.empty()); // dropped, never served
  CHECK(timed_health(d).first == 200);
}

TEST_CASE("slowloris clients trickling headers or bodies are cut off at the header timeout while a normal client is served fast") {
  raise_descriptor_limit(4096);
  constexpr size_t slow_clients = 200;
  daemon_process d{{{"--header-timeout", "2"}, {}, {}}};
  // Half trickle their header, half send a whole header and then trickle the body: a request
  // must arrive completely within the header timeout of its first byte.
  const std::string header_trickle = "GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: "
                                     + std::string(100, 's'); // never ends within the test
  const std::string body_header = "PUT " + api + "/alerts HTTP/1.1\r\nHost: x\r\n"
                                  "Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n";
  const std::string body_trickle(100, ' ');

  std::vector<std::unique_ptr<tcp_peer>> slow;
  for (size_t i = 0; i < slow_clients; ++i) {
    slow.push_back(std::make_unique<tcp_peer>(d.port()));
    REQUIRE_FALSE(slow.back()->closed);
  }
  auto body_client = [](size_t i) { return i % 2 == 1; };
  std::vector<steady::time_point> closed_at(slow_clients, steady::time_point::max());
  auto started = steady::now();
  auto all_closed = [&] {
    return std::all_of(closed_at.begin(), closed_at.end(),
                       [](auto t) { return t != steady::time_point::max(); });
  };
  // One thread plays every slow client, one header byte each per second, until the daemon has
  // dropped them all (or 8 s have passed).
  std::thread trickler([&] {
    size_t next = 0;
    auto next_byte = steady::now();
    while (!all_closed() && steady::now() < started + 8s) {
      if (steady::now() >= next_byte && next < header_trickle.size()) {
        for (size_t i = 0; i < slow.size(); ++i) {
          if (!body_client(i)) {
            slow[i]->send_byte(header_trickle[next]);
          } else if (next == 0) {
            for (char ch : body_header) // the whole header at once
              slow[i]->send_byte(ch);
          } else {
            slow[i]->send_byte(body_trickle[next]);
          }
        }
        ++next;
        next_byte += 1s;
      }
      for (size_t i = 0; i < slow.size(); ++i) {
        slow[i]->poll_input();
        if (slow[i]->closed && closed_at[i] == steady::time_point::max())
          closed_at[i] = steady::now();
      }
      std::this_thread::sleep_for(20ms);
    }
  });
  // Meanwhile a normal client, on new connections each time, is served fast.
  std::vector<double> latencies_ms;
  while (steady::now() - started < 3s) {
    auto [status, took] = timed_health(d);
    CHECK(status == 200);
    latencies_ms.push_back(std::chrono::duration<double, std::milli>(took).count());
    std::this_thread::sleep_for(100ms);
  }
  // Every slow client is dropped about one header timeout after its first byte.
  trickler.join();
  auto slowest = *std::max_element(latencies_ms.begin(), latencies_ms.end());
  INFO("normal client: " << latencies_ms.size() << " requests, slowest " << slowest << " ms");
  CHECK(slowest < 1000);
  size_t answered = 0;
  for (size_t i = 0; i < slow.size(); ++i) {
    INFO("slow client " << i);
    REQUIRE(closed_at[i] != steady::time_point::max());
    auto after = closed_at[i] - started;
    CHECK(after >= 1500ms); // not before the timeout (first byte at ~0 s, 2 s allowed)
    CHECK(after < 6s);
    if (!slow[i]->received.empty())
      ++answered;
  }
  CHECK(answered == 0); // dropped, never served
  auto [status, took] = timed_health(d);
  CHECK(status == 200);
  CHECK(d.running());
}
