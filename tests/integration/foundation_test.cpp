#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <csignal>
#include <fstream>
#include <sys/stat.h>
#include <thread>

#include "http/auth.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

using namespace medianest;
using namespace medianest::test;

namespace {

const std::string metrics_path = "/api/v1/performance/metrics";
const std::string summary_path = "/api/v1/performance/summary";

boost::json::object error_of(const http_result& r) {
  INFO("body: " << r.body);
  auto doc = boost::json::parse(r.body).as_object();
  CHECK(doc.at("success").as_bool() == false);
  auto err = doc.at("error").as_object();
  CHECK(err.at("statusCode").as_int64() == r.status);
  return err;
}

std::string read_secret(const daemon_process& d) {
  std::ifstream in(d.data_dir() / "jwt-secret");
  std::string secret;
  std::getline(in, secret);
  return secret;
}

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

TEST_CASE("GET /health answers without a token with status / version and uptime") {
  daemon_process d;
  http_client c;
  auto r = c.get(d.base_url() + "/health");
  REQUIRE(r.status == 200);
  auto data = boost::json::parse(r.body).at("data").as_object();
  CHECK(data.at("status").as_string() == "ok");
  CHECK(data.at("version").as_string() == "0.1.0");
  CHECK(data.at("uptime").is_number());
  CHECK(r.header("content-type") == "application/json");
}

TEST_CASE("missing / garbage / badly signed / alg none and expired tokens get 401") {
  daemon_process d;
  http_client c;
  auto url = d.base_url() + metrics_path;
  auto secret = read_secret(d);
  REQUIRE(secret.size() >= 32);
  auto exp = unix_now() + 600;
  auto none_token = http::base64url_encode(R"({"alg":"none","typ":"JWT"})") + '.'
                    + http::base64url_encode(R"({"role":"admin","exp":)" + std::to_string(exp)
                                             + "}")
                    + '.';
  auto other_secret = http::mint_token("some-other-secret-some-other-secret",
                                       {"eve", http::role::admin, exp}, unix_now());
  auto expired = http::mint_token(secret, {"old", http::role::admin, unix_now() - 1},
                                  unix_now() - 100);
  std::vector<std::pair<std::string, std::vector<std::string>>> cases{
    {"missing", {}},
    {"garbage", {bearer("garbage")}},
    {"basic scheme", {"Authorization: Basic YWRtaW46YWRtaW4="}},
    {"bad signature", {bearer(other_secret)}},
    {"alg none", {bearer(none_token)}},
    {"expired", {bearer(expired)}},
  };
  for (const auto& [name, headers] : cases) {
    INFO(name);
    auto r = c.get(url, headers);
    CHECK(r.status == 401);
    CHECK(error_of(r).at("code").as_string() == "UNAUTHORIZED");
    CHECK(r.header("www-authenticate") == "Bearer");
  }
  // The log says why, but never holds a token.
  d.stop();
  auto log = d.log();
  CHECK(log.find(other_secret) == std::string::npos);
  CHECK(log.find(expired) == std::string::npos);
  CHECK(log.find(secret) == std::string::npos);
}

TEST_CASE("a user token on an admin endpoint gets 403 / on /summary it passes") {
  daemon_process d;
  http_client c;
  auto user = d.token("user");
  auto r = c.get(d.base_url() + metrics_path, {bearer(user)});
  CHECK(r.status == 403);
  CHECK(error_of(r).at("code").as_string() == "FORBIDDEN");
  auto summary = c.get(d.base_url() + summary_path, {bearer(user)});
  CHECK(summary.status != 401);
  CHECK(summary.status != 403);
  auto admin = c.get(d.base_url() + metrics_path, {bearer(d.token("admin"))});
  CHECK(admin.status != 401);
  CHECK(admin.status != 403);
}

TEST_CASE("the correlation id is echoed when sent and generated when not") {
  daemon_process d;
  http_client c;
  auto echoed = c.get(d.base_url() + "/health", {"X-Correlation-ID: req-42.abc"});
  CHECK(echoed.header("x-correlation-id") == "req-42.abc");
  auto generated = c.get(d.base_url() + "/health");
  auto id = generated.header("x-correlation-id");
  CHECK(id.size() == 36);
  CHECK(id != c.get(d.base_url() + "/health").header("x-correlation-id"));
  // An id that could inject log lines is replaced, not echoed.
  auto hostile = c.get(d.base_url() + "/health", {"X-Correlation-ID: a b\"c"});
  CHECK(hostile.header("x-correlation-id").size() == 36);
  // Errors carry it too, and the access log names it with the route template.
  auto missing = c.get(d.base_url() + "/nowhere", {"X-Correlation-ID: trace-404"});
  CHECK(missing.header("x-correlation-id") == "trace-404");
  auto by_id = c.get(d.base_url() + "/api/v1/performance/optimize/opt-xyz",
                     {"X-Correlation-ID: trace-template"});
  CHECK(by_id.status == 401);
  d.stop();
  auto log = d.log();
  CHECK(log.find("GET (unmatched) 404") != std::string::npos);
  CHECK(log.find("cid=trace-404") != std::string::npos);
  CHECK(log.find("GET /api/v1/performance/optimize/:id 401") != std::string::npos);
  CHECK(log.find("opt-xyz") == std::string::npos);
}

TEST_CASE("404 / 405 and 413 answer in the envelope") {
  daemon_process d;
  http_client c;
  auto admin = bearer(d.token("admin"));
  auto nf = c.get(d.base_url() + "/api/v1/performance/nothing", {admin});
  CHECK(nf.status == 404);
  CHECK(error_of(nf).at("code").as_string() == "NOT_FOUND");
  auto na = c.request("DELETE", d.base_url() + "/api/v1/performance/alerts", {admin});
  CHECK(na.status == 405);
  CHECK(error_of(na).at("code").as_string() == "METHOD_NOT_ALLOWED");
  CHECK(na.header("allow") == "GET, PUT");
  auto big = c.request("PUT", d.base_url() + "/api/v1/performance/alerts",
                       {admin, "Content-Type: application/json"},
                       std::string(2 * 1024 * 1024, 'x'));
  CHECK(big.status == 413);
  CHECK(error_of(big).at("code").as_string() == "PAYLOAD_TOO_LARGE");
  // A chunked body without a declared length is cut off at the limit as well.
  auto chunked = c.request("PUT", d.base_url() + "/api/v1/performance/alerts",
                           {admin, "Transfer-Encoding: chunked"},
                           std::string(1024 * 1024 + 10, 'y'));
  CHECK(chunked.status == 413);
  // The daemon keeps serving.
  CHECK(c.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("malformed HTTP gets a 400 envelope and the connection closes") {
  daemon_process d;
  auto reply = raw_exchange(d.port(), "GET /health HTTP/1.1\r\nHost x\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(reply.find("VALIDATION_ERROR") != std::string::npos);
  http_client c;
  CHECK(c.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("an absolute-form target is served as its origin form - one without a host is 400") {
  daemon_process d;
  auto token = d.token("admin");
  // RFC 9112 3.2.2: what a client sends to a proxy, a server must accept too.
  auto health = raw_exchange(d.port(), "GET http://127.0.0.1:" + std::to_string(d.port())
                                         + "/health HTTP/1.1\r\nHost: elsewhere\r\n"
                                           "Connection: close\r\n\r\n");
  CHECK(health.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(health.find("\"status\"") != std::string::npos);
  auto metrics = raw_exchange(d.port(), "GET HTTP://localhost" + metrics_path
                                          + "?x=1 HTTP/1.1\r\nHost: localhost\r\n"
                                            "Authorization: Bearer " + token + "\r\n"
                                            "Connection: close\r\n\r\n");
  CHECK(metrics.rfind("HTTP/1.1 200", 0) == 0);
  CHECK(metrics.find("\"system\"") != std::string::npos);

  auto hostless = raw_exchange(d.port(), "GET http:///health HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(hostless.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(hostless.find("VALIDATION_ERROR") != std::string::npos);
  http_client c;
  CHECK(c.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("GET live without a WebSocket upgrade says how to connect") {
  daemon_process d;
  http_client c;
  auto admin = bearer(d.token("admin"));
  auto r = c.get(d.base_url() + "/api/v1/performance/live", {admin});
  CHECK(r.status == 400);
  CHECK(error_of(r).at("code").as_string() == "VALIDATION_ERROR");
  CHECK(error_of(r).at("message").as_string().find("WebSocket") != std::string::npos);
}

TEST_CASE("the generated secret file is 0600 and reused across restarts") {
  auto dir = make_temp_dir("medianest-secret");
  std::string token;
  {
    daemon_process d{{{}, {}, dir}};
    struct stat st {};
    REQUIRE(::stat((dir / "jwt-secret").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    token = d.token("admin");
    CHECK(d.stop() == 0);
  }
  {
    daemon_process d{{{}, {}, dir}};
    http_client c;
    CHECK(c.get(d.base_url() + metrics_path, {bearer(token)}).status != 401);
    CHECK(d.stop() == 0);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("MEDIANEST_JWT_SECRET replaces the generated secret") {
  const std::string secret = "an-operator-chosen-secret-of-40-chars!!";
  daemon_process d{{{}, {{"MEDIANEST_JWT_SECRET", secret}}, {}}};
  CHECK_FALSE(std::filesystem::exists(d.data_dir() / "jwt-secret"));
  http_client c;
  auto token = http::mint_token(secret, {"ops", http::role::admin, unix_now() + 60}, unix_now());
  CHECK(c.get(d.base_url() + metrics_path, {bearer(token)}).status != 401);
  CHECK(c.get(d.base_url() + metrics_path, {bearer(d.token("admin"))}).status != 401);
}

TEST_CASE("SIGTERM finishes the request in flight / closes idle connections and exits 0") {
  daemon_process d;
  auto admin = d.token("admin");
  // An idle keep-alive connection must not hold the shutdown up.
  http_client idle;
  REQUIRE(idle.get(d.base_url() + "/health").status == 200);
  // A request whose body is still arriving when the signal comes.
  std::string head = "PUT /api/v1/performance/alerts HTTP/1.1\r\nHost: x\r\nAuthorization: "
                     "Bearer "
                     + admin + "\r\nContent-Length: 10\r\n\r\n01234";
  std::string reply;
  raw_connection conn{d.port()};
  REQUIRE(conn.connected());
  std::thread client([&] {
    conn.send(head);
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
    conn.send("56789");
    reply = conn.read_until_close(6000);
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  auto started = std::chrono::steady_clock::now();
  auto code = d.stop(SIGTERM, std::chrono::seconds(8));
  auto took = std::chrono::steady_clock::now() - started;
  client.join();
  CHECK(code == 0);
  CHECK(took < std::chrono::seconds(5));
  // The request completed (its body is not a JSON document: 400) before the daemon exited.
  CHECK(reply.rfind("HTTP/1.1 400", 0) == 0);
  CHECK(reply.find("Connection: close") != std::string::npos);
  auto log = d.log();
  CHECK(log.find("stopped accepting") != std::string::npos);
  CHECK(log.find("shutdown complete") != std::string::npos);
}

TEST_CASE("past the connection cap new connections get 503 RESOURCE_EXHAUSTED") {
  daemon_process d{{{"--max-connections", "2"}, {}, {}}};
  http_client a, b;
  REQUIRE(a.get(d.base_url() + "/health").status == 200);
  REQUIRE(b.get(d.base_url() + "/health").status == 200);
  auto reply = raw_exchange(d.port(), "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  CHECK(reply.rfind("HTTP/1.1 503", 0) == 0);
  CHECK(reply.find("RESOURCE_EXHAUSTED") != std::string::npos);
  CHECK(reply.find("Retry-After: 1") != std::string::npos);
  // Existing connections keep working.
  CHECK(a.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("a client that trickles its headers is cut off at the header timeout") {
  daemon_process d{{{"--header-timeout", "1"}, {}, {}}};
  auto started = std::chrono::steady_clock::now();
  auto reply = raw_exchange(d.port(), "GET /health HTTP/1.1\r\nHost: x\r\n", 5000);
  auto took = std::chrono::steady_clock::now() - started;
  CHECK(reply.empty());
  CHECK(took < std::chrono::milliseconds(3000));
  http_client c;
  CHECK(c.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("an idle keep-alive connection is closed one idle timeout after its last answer") {
  daemon_process d{{{"--idle-timeout", "1"}, {}, {}}};
  raw_connection conn{d.port()};
  REQUIRE(conn.connected());
  const std::string request = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  REQUIRE(conn.send(request));
  // Active for longer than one timeout: each request moves the deadline on.
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  REQUIRE(conn.send(request));
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  REQUIRE(conn.send(request));
  auto last_sent = std::chrono::steady_clock::now();
  auto replies = conn.read_until_close(5000);
  auto idle = std::chrono::steady_clock::now() - last_sent;
  size_t answers = 0;
  for (auto pos = replies.find("HTTP/1.1 200"); pos != std::string::npos;
       pos = replies.find("HTTP/1.1 200", pos + 1))
    ++answers;
  CHECK(answers == 3);
  CHECK(idle >= std::chrono::milliseconds(900));
  CHECK(idle < std::chrono::milliseconds(2500));
}

TEST_CASE("bad command lines exit 2 with a message - help and version exit 0") {
  int status = 0;
  auto out = run_command(std::string{MEDIANEST_BINARY} + " --bogus 2>&1", &status);
  CHECK(status == 2);
  CHECK(out.find("unknown option '--bogus'") != std::string::npos);
  run_command(std::string{MEDIANEST_BINARY} + " --listen nowhere 2>&1", &status);
  CHECK(status == 2);
  run_command("MEDIANEST_LOG_FORMAT=xml " + std::string{MEDIANEST_BINARY} + " 2>&1", &status);
  CHECK(status == 2);
  auto help = run_command(std::string{MEDIANEST_BINARY} + " --help", &status);
  CHECK(status == 0);
  CHECK(help.find("MEDIANEST_DATABASE") != std::string::npos);
  auto version = run_command(std::string{MEDIANEST_BINARY} + " --version", &status);
  CHECK(status == 0);
  CHECK(version == "medianest-perf 0.1.0");
}

TEST_CASE("a port already in use is a clear start-up failure with exit code 1") {
  daemon_process first;
  auto dir = make_temp_dir("medianest-busy");
  int status = 0;
  auto out = run_command(std::string{MEDIANEST_BINARY} + " --listen 127.0.0.1:"
                           + std::to_string(first.port()) + " --data-dir " + dir.string()
                           + " 2>&1",
                         &status);
  CHECK(status == 1);
  CHECK(out.find("cannot listen") != std::string::npos);
  std::filesystem::remove_all(dir);
}

TEST_CASE("log-format json writes one JSON object per line") {
  daemon_process d{{{"--log-format", "json"}, {}, {}}};
  http_client c;
  c.get(d.base_url() + "/health", {"X-Correlation-ID: json-log-test"});
  d.stop();
  std::istringstream lines(d.log());
  std::string line;
  int parsed = 0;
  bool saw_access = false;
  while (std::getline(lines, line)) {
    if (line.empty())
      continue;
    INFO(line);
    auto doc = boost::json::parse(line).as_object();
    CHECK(doc.contains("ts"));
    CHECK(doc.contains("level"));
    if (doc.at("logger").as_string() == "access"
        && std::string{doc.at("msg").as_string()}.find("json-log-test") != std::string::npos)
      saw_access = true;
    ++parsed;
  }
  CHECK(parsed >= 3);
  CHECK(saw_access);
}
