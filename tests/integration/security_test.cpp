// Security checks against the real daemon: the JWT secret file's mode, no token or secret in
// any log line (text and JSON, at trace level), the failed-authentication limit
// (--auth-fail-limit), and SQL reached only through bound parameters (metacharacters round-trip
// or are refused; the tables survive).
//
// Covered elsewhere, not repeated here:
// - the generated secret file is 0600 and reused: foundation_test.cpp ("the generated secret
//   file is 0600 and reused across restarts");
// - the WebSocket Origin allow-list (--live-origin): live_test.cpp ("live-origin admits the
//   listed origin and requests without one and refuses others": 403 FORBIDDEN for another
//   origin);
// - the dashboard's Content-Security-Policy: dashboard_test.cpp ("GET /dashboard and its files
//   are served without a token, typed and under a strict CSP").

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/auth.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/http_sink.hpp"
#include "support/ws_client.hpp"

using namespace medianest;
using namespace medianest::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

const std::string api = "/api/v1/performance";

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Polls `done` every 50 ms for at most `limit`.
bool eventually(const std::function<bool()>& done, std::chrono::milliseconds limit) {
  auto deadline = steady::now() + limit;
  while (!done()) {
    if (steady::now() >= deadline)
      return false;
    std::this_thread::sleep_for(50ms);
  }
  return true;
}

json::object error_of(const http_result& r) {
  INFO("status " << r.status << " body: " << r.body);
  auto doc = json::parse(r.body).as_object();
  CHECK(doc.at("success").as_bool() == false);
  auto err = doc.at("error").as_object();
  CHECK(err.at("statusCode").as_int64() == r.status);
  return err;
}

/// One request over a connection whose source address is `source` (any 127.0.0.0/8 address
/// reaches the daemon on 127.0.0.1): a second client address on one machine. Returns the
/// status, 0 if none came.
long status_from(const std::string& source, uint16_t port, const std::string& path,
                 const std::string& token) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  REQUIRE(::inet_pton(AF_INET, source.c_str(), &from.sin_addr) == 1);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) == 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) == 0);
  std::string request = "GET " + path + " HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + token
                        + "\r\nConnection: close\r\n\r\n";
  REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL)
          == static_cast<ssize_t>(request.size()));
  std::string reply;
  char buf[4096];
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    reply.append(buf, static_cast<size_t>(n));
  ::close(fd);
  if (reply.rfind("HTTP/1.1 ", 0) != 0)
    return 0;
  return std::stol(reply.substr(9, 3));
}

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

/// Runs `sql` on the daemon's SQLite file, opened read-only by the sqlite3 shell.
std::string sqlite_query(const std::filesystem::path& db, const std::string& sql) {
  int status = 0;
  auto out = run_command("sqlite3 -readonly '" + db.string() + "' \"" + sql + "\" 2>&1", &status);
  INFO(sql << " -> " << out);
  REQUIRE(status == 0);
  return out;
}

} // namespace

// -- the JWT secret file ------------------------------------------------------------------------

TEST_CASE("a pre-existing secret file readable by others is tightened to 0600 and still used") {
  auto dir = make_temp_dir("medianest-secret-mode");
  const std::string secret = "a-secret-written-by-an-operator-0123456789";
  {
    std::ofstream out(dir / "jwt-secret");
    out << secret << '\n';
  }
  REQUIRE(::chmod((dir / "jwt-secret").c_str(), 0644) == 0);
  {
    daemon_process d{{{}, {}, dir}};
    struct stat st {};
    REQUIRE(::stat((dir / "jwt-secret").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0600);
    // The file's secret is the one in force: a token minted with it is accepted.
    http_client c;
    auto token = http::mint_token(secret, {"ops", http::role::admin, unix_now() + 60}, unix_now());
    CHECK(c.get(d.base_url() + api + "/alerts", {bearer(token)}).status == 200);
    CHECK(d.stop() == 0);
    auto log = d.log();
    CHECK(log.find("tightening it to 0600") != std::string::npos);
    CHECK(log.find(secret) == std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

// -- no secret in the logs --------------------------------------------------------------------

TEST_CASE("no token password or secret reaches any log line at trace level - text and JSON") {
  for (std::string format : {"text", "json"}) {
    INFO("--log-format " << format);
    const std::string jwt_secret = "log-scan-jwt-secret-Zq81-" + format + "-0123456789abcdef";
    const std::string hook_secret = "hook-secret-Xk29";
    const std::string discord_secret = "discord-secret-Pw47";
    const std::string smtp_password = "smtp-pass-Lm63";
    const std::string redis_password = "redis-pass-Vb15";
    http_sink sink;          // Discord: delivered
    http_sink failing_sink;  // the webhook: refused, so that failures are logged too
    failing_sink.respond_with(500);
    auto closed_port = std::to_string(free_port());
    daemon_process d{{{"--log-level", "trace", "--log-format", format, "--sample-interval", "0.25",
                       "--notify-retry-base-ms", "50", "--discord-webhook",
                       sink.url("/api/webhooks/123456/" + discord_secret)},
                      {{"MEDIANEST_JWT_SECRET", jwt_secret},
                       {"MEDIANEST_SMTP_URL",
                        "smtp://alerts:" + smtp_password + "@127.0.0.1:" + closed_port},
                       {"MEDIANEST_REDIS", "redis://:" + redis_password + "@127.0.0.1:" + closed_port}},
                      {}}};
    auto now = unix_now();
    auto admin = http::mint_token(jwt_secret, {"ops", http::role::admin, now + 600}, now);
    auto user = http::mint_token(jwt_secret, {"viewer", http::role::user, now + 600}, now);
    auto forged = http::mint_token("not-the-daemon-secret-not-the-daemon-secret",
                                   {"eve", http::role::admin, now + 600}, now);
    auto expired = http::mint_token(jwt_secret, {"old", http::role::admin, now - 10}, now - 100);
    http_client c;
    // Valid, forged, expired and malformed tokens, in the header and in queries.
    CHECK(c.get(d.base_url() + api + "/alerts", {bearer(admin)}).status == 200);
    CHECK(c.get(d.base_url() + api + "/summary", {bearer(user)}).status != 401);
    CHECK(c.get(d.base_url() + api + "/metrics", {bearer(user)}).status == 403);
    CHECK(c.get(d.base_url() + api + "/metrics", {bearer(forged)}).status == 401);
    CHECK(c.get(d.base_url() + api + "/metrics", {bearer(expired)}).status == 401);
    CHECK(c.get(d.base_url() + api + "/metrics?token=" + admin).status == 401);
    CHECK(c.get(d.base_url() + api + "/history?period=" + admin, {bearer(admin)}).status == 400);
    // The live feed with the token in the query: accepted, and refused when forged.
    {
      ws_client::options opts;
      opts.target = api + "/live?token=" + admin;
      ws_client live{d.port(), opts};
      CHECK(live.accepted());
      CHECK(live.read(5s).has_value());
      live.close();
      opts.target = api + "/live?token=" + forged;
      ws_client refused{d.port(), opts};
      CHECK(refused.status() == 401);
    }
    // A webhook with a secret in its query string, the Discord webhook, and e-mail through
    // an SMTP URL with a password: an alert that fires makes each of them be used (and fail).
    auto put = [&](const std::string& body) {
      return c.request("PUT", d.base_url() + api + "/alerts",
                       {bearer(admin), "Content-Type: application/json"}, body);
    };
    auto hook = failing_sink.url("/services/T000/B000?token=" + hook_secret);
    REQUIRE(put(R"({"notifications":{"webhook":")" + hook
                + R"(","discord":true,"email":["ops@medianest.test"]}})")
              .status
            == 200);
    auto shown = c.get(d.base_url() + api + "/alerts", {bearer(admin)});
    CHECK(shown.body.find(hook_secret) == std::string::npos);
    REQUIRE(put(R"({"thresholds":{"memoryUsage":{"warning":1,"critical":99.9,"forSeconds":1}}})")
              .status
            == 200);
    CHECK(sink.wait_for(1, "/api/webhooks/123456/" + discord_secret, 15000));
    // The webhook and e-mail have failed, and said so in the log; Discord was notified.
    CHECK(eventually(
      [&] {
        auto log = d.log();
        return log.find("webhook http://127.0.0.1:" + std::to_string(failing_sink.port())
                        + "/services/... failed")
                 != std::string::npos
               && log.find("email ops@medianest.test failed") != std::string::npos
               && log.find("notified discord") != std::string::npos;
      },
      15s));
    auto deliveries = c.get(d.base_url() + api + "/alerts/deliveries", {bearer(admin)});
    CHECK(deliveries.status == 200);
    CHECK(deliveries.body.find(hook_secret) == std::string::npos);
    CHECK(deliveries.body.find(discord_secret) == std::string::npos);
    d.stop();

    auto log = d.log();
    CHECK(log.size() > 1000); // trace level wrote plenty
    for (const auto& [what, secret] : std::vector<std::pair<std::string, std::string>>{
           {"admin token", admin},
           {"user token", user},
           {"forged token", forged},
           {"expired token", expired},
           {"admin token signature", admin.substr(admin.rfind('.') + 1)},
           {"forged token signature", forged.substr(forged.rfind('.') + 1)},
           {"JWT secret", jwt_secret},
           {"webhook secret", hook_secret},
           {"Discord webhook token", discord_secret},
           {"SMTP password", smtp_password},
           {"Redis password", redis_password}}) {
      INFO(what);
      CHECK(log.find(secret) == std::string::npos);
    }
    if (format == "json") {
      std::istringstream lines(log);
      std::string line;
      while (std::getline(lines, line))
        if (!line.empty()) {
          INFO(line);
          json::error_code ec;
          json::parse(line, ec);
          CHECK_FALSE(ec);
        }
    }
  }
}

// -- failed authentications are rate-limited per address ----------------------------------------

TEST_CASE("repeated auth failures from one address get 429 with Retry-After until the lockout ends") {
  // Three failures within a minute lock the address out for two seconds.
  daemon_process d{{{"--auth-fail-limit", "3/60:2"}, {}, {}}};
  http_client c;
  auto url = d.base_url() + api + "/metrics";
  auto admin = d.token("admin");
  auto forged = http::mint_token("not-the-daemon-secret-not-the-daemon-secret",
                                 {"eve", http::role::admin, unix_now() + 600}, unix_now());
  REQUIRE(c.get(d.base_url() + api + "/alerts", {bearer(admin)}).status == 200);
  // A request without any credential is not a guess: it is not counted.
  for (int i = 0; i < 5; ++i)
    CHECK(c.get(url).status == 401);
  CHECK(c.get(url, {bearer("garbage")}).status == 401);
  CHECK(c.get(url, {"Authorization: Basic YWRtaW46YWRtaW4="}).status == 401);
  // A valid token on a route its role may not use is not an authentication failure.
  CHECK(c.get(url, {bearer(d.token("user"))}).status == 403);
  auto third = c.get(url, {bearer(forged)});
  CHECK(third.status == 401); // the third failure is answered, and locks the address out
  auto locked_at = steady::now();

  auto refused = c.get(url, {bearer(forged)});
  REQUIRE(refused.status == 429);
  auto err = error_of(refused);
  CHECK(err.at("code").as_string() == "RATE_LIMITED");
  CHECK(err.at("details").at("retryAfter").as_int64() >= 1);
  CHECK(err.at("details").at("retryAfter").as_int64() <= 2);
  auto retry_after = std::stol(refused.header("retry-after"));
  CHECK(retry_after >= 1);
  CHECK(retry_after <= 2);
  CHECK_FALSE(refused.header("x-correlation-id").empty());
  // A valid token from the locked-out address is refused as well: guessing cannot go on.
  CHECK(c.get(url, {bearer(admin)}).status == 429);
  CHECK(c.get(d.base_url() + api + "/summary", {bearer(admin)}).status == 429);
  // So is the live feed, with the token in the header or the query.
  {
    ws_client::options opts;
    opts.target = api + "/live?token=" + admin;
    ws_client live{d.port(), opts};
    CHECK_FALSE(live.accepted());
    CHECK(live.status() == 429);
  }
  // Open routes and requests without credentials are answered as usual.
  CHECK(c.get(d.base_url() + "/health").status == 200);
  CHECK(c.get(d.base_url() + "/health", {bearer(forged)}).status == 200);
  CHECK(c.get(url).status == 401);
  // Another address is not affected.
  CHECK(status_from("127.0.0.2", d.port(), api + "/metrics", admin) == 200);
  CHECK(status_from("127.0.0.2", d.port(), api + "/metrics", "garbage") == 401);

  // After the lockout the address is served again, and starts over with a full allowance.
  REQUIRE(eventually([&] { return c.get(url, {bearer(admin)}).status == 200; }, 5s));
  CHECK(steady::now() - locked_at >= 1500ms);
  CHECK(c.get(url, {bearer(forged)}).status == 401);
  CHECK(c.get(url, {bearer(forged)}).status == 401);
  CHECK(c.get(url, {bearer(admin)}).status == 200);

  d.stop();
  auto log = d.log();
  // One warning per lockout, naming the address and never a token.
  CHECK(occurrences(log, "locked out") == 1);
  CHECK(log.find("client 127.0.0.1 locked out for 2 s after 3 failed authentications")
        != std::string::npos);
  CHECK(log.find(forged) == std::string::npos);
  CHECK(log.find(admin) == std::string::npos);
}

TEST_CASE("failed live-feed tokens in the query count toward the lockout") {
  daemon_process d{{{"--auth-fail-limit", "2/60:30"}, {}, {}}};
  auto admin = d.token("admin");
  for (int i = 0; i < 2; ++i) {
    ws_client::options opts;
    opts.target = api + "/live?token=not-a-jwt";
    ws_client bad{d.port(), opts};
    CHECK(bad.status() == 401);
  }
  http_client c;
  auto r = c.get(d.base_url() + api + "/metrics", {bearer(admin)});
  CHECK(r.status == 429);
  CHECK(std::stol(r.header("retry-after")) > 20);
}

TEST_CASE("auth-fail-limit off never locks an address out") {
  daemon_process d{{{"--auth-fail-limit", "off"}, {}, {}}};
  http_client c;
  auto url = d.base_url() + api + "/metrics";
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.get(url, {bearer("garbage")}).status == 401);
  CHECK(c.get(url, {bearer(d.token("admin"))}).status == 200);
}

TEST_CASE("the default limit locks out after 10 failures and the flag and variable are documented") {
  daemon_process d;
  http_client c;
  auto url = d.base_url() + api + "/metrics";
  for (int i = 0; i < 10; ++i)
    REQUIRE(c.get(url, {bearer("garbage")}).status == 401);
  auto r = c.get(url, {bearer(d.token("admin"))});
  CHECK(r.status == 429);
  CHECK(std::stol(r.header("retry-after")) > 50); // 60 s
  CHECK(std::stol(r.header("retry-after")) <= 60);
  int status = 0;
  auto help = run_command(std::string{MEDIANEST_BINARY} + " --help", &status);
  CHECK(status == 0);
  CHECK(help.find("--auth-fail-limit N/SECONDS[:LOCKOUT]") != std::string::npos);
  CHECK(help.find("MEDIANEST_AUTH_FAIL_LIMIT") != std::string::npos);
  run_command(std::string{MEDIANEST_BINARY} + " --auth-fail-limit lots 2>&1", &status);
  CHECK(status == 2);
}

// -- SQL only through bound parameters ----------------------------------------------------------

TEST_CASE("SQL metacharacters in every value that reaches SQL round-trip or are refused and the tables survive") {
  auto dir = make_temp_dir("medianest-sql-meta");
  const std::vector<std::string> nasty{
    "'; DROP TABLE alert_events; --",
    "\" OR 1=1; --",
    "x' OR '1'='1",
    "back\\slash\\' --",
    "semi;colon/*comment*/",
  };
  auto pct = [](const std::string& s) {
    std::string out;
    static const char* hex = "0123456789ABCDEF";
    for (unsigned char ch : s) {
      if (std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.') {
        out += static_cast<char>(ch);
      } else {
        out += '%';
        out += hex[ch >> 4];
        out += hex[ch & 15];
      }
    }
    return out;
  };
  auto json_string = [](const std::string& s) {
    json::value v = json::string(s);
    return json::serialize(v);
  };
  std::string email_kept;
  {
    daemon_process d{{{"--sample-interval", "0.25", "--flush-interval", "1"}, {}, dir}};
    http_client c;
    auto admin = bearer(d.token("admin"));
    // Something in every table first: a fired alert (alert_events), a notification attempt
    // (deliveries), history roll-ups, an optimization run.
    auto put = [&](const std::string& body) {
      return c.request("PUT", d.base_url() + api + "/alerts",
                       {admin, "Content-Type: application/json"}, body);
    };
    REQUIRE(put(R"({"notifications":{"webhook":"http://127.0.0.1:9/hook"},)"
                R"("thresholds":{"memoryUsage":{"warning":1,"critical":99.9,"forSeconds":1}}})")
              .status
            == 200);
    auto run = c.request("POST", d.base_url() + api + "/optimize",
                         {admin, "Content-Type: application/json"},
                         R"({"optimizations":["memory_cleanup"]})");
    REQUIRE(run.status < 300);
    auto run_id = std::string{json::parse(run.body).at("data").at("optimizationId").as_string()};
    REQUIRE(eventually(
      [&] {
        auto events = c.get(d.base_url() + api + "/alerts/events", {admin});
        return events.status == 200
               && !json::parse(events.body).at("data").at("events").as_array().empty();
      },
      15s));

    for (const auto& value : nasty) {
      INFO(value);
      // /history: a route metric is any text after "route:", looked up with a bound value.
      auto metric = "route:GET " + value;
      auto h = c.get(d.base_url() + api + "/history?period=1h&metric=" + pct(metric), {admin});
      CHECK(h.status == 200);
      if (h.status == 200)
        CHECK(json::parse(h.body).at("data").at("metric").as_string() == metric);
      // Named metrics and the other parameters are refused before any SQL.
      auto bad_metric = c.get(d.base_url() + api + "/history?metric=" + pct(value), {admin});
      CHECK(bad_metric.status == 400);
      CHECK(error_of(bad_metric).at("details").at("field").as_string() == "metric");
      CHECK(c.get(d.base_url() + api + "/history?period=" + pct(value), {admin}).status == 400);
      // Optimization ids are looked up with a bound value.
      auto by_id = c.get(d.base_url() + api + "/optimize/" + pct(value), {admin});
      CHECK(by_id.status == 404);
      CHECK(error_of(by_id).at("code").as_string() == "NOT_FOUND");
      CHECK(c.get(d.base_url() + api + "/optimize/" + run_id + pct(value), {admin}).status == 404);
      // The logs' limit takes digits only.
      for (const auto& path : {"/alerts/events", "/alerts/deliveries", "/optimize"})
        CHECK(c.get(d.base_url() + api + path + "?limit=" + pct("5" + value), {admin}).status
              == 400);
      // An optimization type is one of a list.
      auto opt = c.request("POST", d.base_url() + api + "/optimize",
                           {admin, "Content-Type: application/json"},
                           R"({"optimizations":[)" + json_string(value) + "]}");
      CHECK(opt.status == 400);
    }
    // With a NUL byte too.
    auto nul = c.get(d.base_url() + api + "/optimize/x%00'%3B--", {admin});
    CHECK(nul.status == 404);
    CHECK(c.get(d.base_url() + api + "/history?period=1h&metric=route:GET%20%2Fa%00'b", {admin})
            .status
          == 200);

    // The alert configuration is stored as one bound document: quotes and backslashes in
    // e-mail addresses and the webhook URL come back as they were sent, after a restart too.
    email_kept = "o'brien+x--y@example.com";
    auto webhook = std::string{R"(http://127.0.0.1:9/a'b/c?q=';DROP%20TABLE%20alert_config;--)"};
    auto r = put(R"({"notifications":{"email":[)" + json_string(email_kept) + R"(],"webhook":)"
                 + json_string(webhook) + "}}");
    CHECK(r.status == 200);
    auto refused = put(R"({"notifications":{"email":[)" + json_string(nasty[0]) + "]}}");
    CHECK(refused.status == 400); // not an e-mail address
    auto stored = sqlite_query(d.data_dir() / "medianest.db",
                               "SELECT document FROM alert_config WHERE id = 1");
    CHECK(stored.find("o'brien+x--y@example.com") != std::string::npos);
    CHECK(stored.find("a'b/c?q=';DROP%20TABLE%20alert_config;--") != std::string::npos);
    CHECK(d.stop() == 0);
  }
  auto db = dir / "medianest.db";
  for (const auto& table : {"alert_config", "alert_events", "deliveries", "rollups",
                            "rollup_sketches", "optimization_runs", "schema_migrations"}) {
    INFO(table);
    auto count = sqlite_query(db, std::string{"SELECT count(*) FROM "} + table);
    CHECK(std::stol(count) > 0);
  }
  {
    daemon_process d{{{}, {}, dir}};
    http_client c;
    auto cfg = c.get(d.base_url() + api + "/alerts", {bearer(d.token("admin"))});
    REQUIRE(cfg.status == 200);
    auto emails = json::parse(cfg.body).at("data").at("notifications").at("email").as_array();
    REQUIRE(emails.size() == 1);
    CHECK(emails.at(0).as_string() == email_kept);
  }
  std::filesystem::remove_all(dir);
}
