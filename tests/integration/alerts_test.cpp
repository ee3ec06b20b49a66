#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>
#include <utility>
#include <vector>
#include <unistd.h>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/http_sink.hpp"
#include "support/scratch_database.hpp"

using namespace medianest::test;
namespace json = boost::json;

namespace {

const std::string alerts_path = "/api/v1/performance/alerts";

json::object data_of(const http_result& r) {
  INFO(r.body);
  INFO(r.error);
  REQUIRE(r.status == 200);
  return json::parse(r.body).at("data").as_object();
}

http_result put_alerts(http_client& c, daemon_process& d, const std::string& token,
                       const std::string& body) {
  return c.request("PUT", d.base_url() + alerts_path,
                   {bearer(token), "Content-Type: application/json"}, body);
}

/// Memory is always above 1 % of the host: an alert that fires at once.
const std::string fire_on_memory =
  R"({"thresholds":{"memoryUsage":{"warning":1,"critical":99.9,"forSeconds":1}}})";
/// And never above 98 %: the same alert resolves.
const std::string resolve_memory =
  R"({"thresholds":{"memoryUsage":{"warning":98,"critical":99.9,"forSeconds":1}}})";

std::vector<json::object> events_of(http_client& c, daemon_process& d, const std::string& token) {
  auto data = data_of(c.get(d.base_url() + alerts_path + "/events", {bearer(token)}));
  std::vector<json::object> out;
  for (const auto& e : data.at("events").as_array())
    out.push_back(e.as_object());
  return out;
}

} // namespace

TEST_CASE("GET /alerts returns the spec defaults and PUT merges a partial document") {
  daemon_process d;
  http_client c;
  auto token = d.token("admin");
  auto defaults = data_of(c.get(d.base_url() + alerts_path, {bearer(token)}));
  CHECK(defaults.at("enabled").as_bool());
  auto& rt = defaults.at("thresholds").at("responseTime").as_object();
  CHECK(rt.at("warning").to_number<double>() == 500);
  CHECK(rt.at("critical").to_number<double>() == 1000);
  CHECK(rt.at("unit").as_string() == "ms");
  CHECK(defaults.at("thresholds").at("cacheHitRate").at("warning").to_number<double>() == 0.7);
  auto& qt = defaults.at("thresholds").at("queryTime").as_object();
  CHECK(qt.at("warning").to_number<double>() == 100);
  CHECK(qt.at("critical").to_number<double>() == 500);
  CHECK(qt.at("unit").as_string() == "ms");
  CHECK(qt.at("forSeconds").to_number<int64_t>() == 60);
  // The spec's own PUT example.
  auto r = put_alerts(c, d, token, R"({
    "enabled": true,
    "thresholds": {"responseTime": {"warning": 400, "critical": 800}},
    "notifications": {"email": ["admin@medianest.app", "ops@medianest.app"],
                      "webhook": "https://hooks.slack.com/services/T000/B000/SECRETSECRET"}})");
  auto merged = data_of(r);
  CHECK(merged.at("thresholds").at("responseTime").at("warning").to_number<double>() == 400);
  CHECK(merged.at("thresholds").at("responseTime").at("critical").to_number<double>() == 800);
  CHECK(merged.at("thresholds").at("responseTime").at("unit").as_string() == "ms");
  CHECK(merged.at("thresholds").at("memoryUsage").at("warning").to_number<double>() == 80);
  CHECK(merged.at("thresholds").at("queryTime").at("warning").to_number<double>() == 100);
  CHECK(merged.at("notifications").at("email").as_array().size() == 2);
  // Secrets are never echoed.
  CHECK(r.body.find("SECRETSECRET") == std::string::npos);
  CHECK(merged.at("notifications").at("webhook").as_string() == "https://hooks.slack.com/services/...");
  auto again = c.get(d.base_url() + alerts_path, {bearer(token)});
  CHECK(again.body.find("SECRETSECRET") == std::string::npos);
  CHECK(c.get(d.base_url() + alerts_path, {bearer(d.token("user"))}).status == 403);
}

TEST_CASE("PUT /alerts refuses invalid documents naming the field and changes nothing") {
  daemon_process d;
  http_client c;
  auto token = d.token("admin");
  struct bad {
    std::string body;
    std::string field;
  };
  for (const auto& [body, field] : std::vector<bad>{
         {"not json", "body"},
         {R"({"thresholds":{"responseTime":{"warning":"fast"}}})", "thresholds.responseTime.warning"},
         {R"({"thresholds":{"cpuUsage":{"warning":-5}}})", "thresholds.cpuUsage.warning"},
         {R"({"thresholds":{"queryTime":{"warning":600}}})", "thresholds.queryTime"},
         {R"({"thresholds":{"responseTime":{"warning":900,"critical":800}}})", "thresholds.responseTime"},
         {R"({"notifications":{"email":["not-an-address"]}})", "notifications.email[0]"},
         {R"({"notifications":{"webhook":"ftp://example.com/x"}})", "notifications.webhook"},
         {R"({"colour":"blue"})", "colour"}}) {
    INFO(body);
    auto r = put_alerts(c, d, token, body);
    CHECK(r.status == 400);
    auto err = json::parse(r.body).at("error").as_object();
    CHECK(err.at("code").as_string() == "VALIDATION_ERROR");
    CHECK(std::string{err.at("details").at("field").as_string()}.find(field) == 0);
  }
  auto unchanged = data_of(c.get(d.base_url() + alerts_path, {bearer(token)}));
  CHECK(unchanged.at("thresholds").at("responseTime").at("warning").to_number<double>() == 500);
}

TEST_CASE("the alert configuration survives a restart") {
  auto dir = make_temp_dir("medianest-alerts");
  {
    daemon_process d{{{}, {}, dir}};
    http_client c;
    REQUIRE(put_alerts(c, d, d.token("admin"),
                       R"({"thresholds":{"cpuUsage":{"warning":70,"critical":90},)"
                       R"("queryTime":{"warning":250,"critical":900}}})")
              .status
            == 200);
    CHECK(d.stop() == 0);
  }
  {
    daemon_process d{{{}, {}, dir}};
    http_client c;
    // The first request after the start is a partial PUT: it merges into what was stored
    // (the evaluator waits for its load), not into the defaults.
    REQUIRE(put_alerts(c, d, d.token("admin"), R"({"thresholds":{"queryTime":{"critical":950}}})")
              .status
            == 200);
    auto cfg = data_of(c.get(d.base_url() + alerts_path, {bearer(d.token("admin"))}));
    CHECK(cfg.at("thresholds").at("cpuUsage").at("warning").to_number<double>() == 70);
    CHECK(cfg.at("thresholds").at("cpuUsage").at("critical").to_number<double>() == 90);
    CHECK(cfg.at("thresholds").at("queryTime").at("warning").to_number<double>() == 250);
    CHECK(cfg.at("thresholds").at("queryTime").at("critical").to_number<double>() == 950);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("concurrent partial PUTs on one daemon all take effect") {
  daemon_process d;
  auto token = d.token("admin");
  // Each merges into what the one before it stored, not into the configuration from before
  // them all.
  const std::vector<std::pair<std::string, std::string>> changes{
    {"cpuUsage", R"({"thresholds":{"cpuUsage":{"warning":71,"critical":91}}})"},
    {"memoryUsage", R"({"thresholds":{"memoryUsage":{"warning":72,"critical":92}}})"},
    {"queryTime", R"({"thresholds":{"queryTime":{"warning":273,"critical":903}}})"},
    {"responseTime", R"({"thresholds":{"responseTime":{"warning":274,"critical":904}}})"},
  };
  std::vector<long> statuses(changes.size());
  {
    std::vector<std::jthread> clients;
    for (size_t i = 0; i < changes.size(); ++i)
      clients.emplace_back([&, i] {
        http_client c;
        statuses[i] = put_alerts(c, d, token, changes[i].second).status;
      });
  }
  http_client c;
  auto cfg = data_of(c.get(d.base_url() + alerts_path, {bearer(token)}));
  for (size_t i = 0; i < changes.size(); ++i) {
    INFO(changes[i].first);
    CHECK(statuses[i] == 200);
    auto warning = cfg.at("thresholds").at(changes[i].first).at("warning").to_number<double>();
    CHECK(warning == (i < 2 ? 71.0 + static_cast<double>(i) : 271.0 + static_cast<double>(i)));
  }
}

TEST_CASE("a PUT /alerts on one daemon reaches another that shares its PostgreSQL") {
  scratch_database database{"alerts_shared_" + std::to_string(::getpid())};
  auto db_url = database.url();
  {
    daemon_process first{{{"--database", db_url, "--instance", "first"}, {}, {}}};
    daemon_process second{{{"--database", db_url, "--instance", "second"}, {}, {}}};
    http_client c;
    auto warning_on = [&](daemon_process& d) {
      auto cfg = data_of(c.get(d.base_url() + alerts_path, {bearer(d.token("admin"))}));
      return cfg.at("thresholds").at("cpuUsage").at("warning").to_number<double>();
    };
    REQUIRE(warning_on(second) != 61);
    REQUIRE(put_alerts(c, first, first.token("admin"),
                       R"({"thresholds":{"cpuUsage":{"warning":61,"critical":91}}})")
              .status
            == 200);
    // The other daemon re-reads the stored configuration every 5 s.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (warning_on(second) != 61 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(warning_on(second) == 61);
    auto cfg = data_of(c.get(second.base_url() + alerts_path, {bearer(second.token("admin"))}));
    CHECK(cfg.at("thresholds").at("cpuUsage").at("critical").to_number<double>() == 91);
    CHECK(second.log().find("changed in the database") != std::string::npos);
    // And back: the second daemon's change reaches the first, which keeps its own PUT's
    // other fields as stored.
    REQUIRE(put_alerts(c, second, second.token("admin"),
                       R"({"thresholds":{"cpuUsage":{"warning":62}}})")
              .status
            == 200);
    deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (warning_on(first) != 62 && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    CHECK(warning_on(first) == 62);
    CHECK(data_of(c.get(first.base_url() + alerts_path, {bearer(first.token("admin"))}))
            .at("thresholds").at("cpuUsage").at("critical").to_number<double>()
          == 91);
  }
}

TEST_CASE("an alert fires and resolves once each with webhook and Discord payloads") {
  http_sink sink;
  daemon_process d{{{"--sample-interval", "0.25", "--discord-webhook", sink.url("/discord")}, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  REQUIRE(put_alerts(c, d, token,
                     R"({"notifications":{"webhook":")" + sink.url("/slack") + R"(","discord":true}})")
            .status
          == 200);
  REQUIRE(put_alerts(c, d, token, fire_on_memory).status == 200);
  REQUIRE(sink.wait_for(1, "/slack", 10000));
  REQUIRE(sink.wait_for(1, "/discord", 10000));
  auto slack = json::parse(sink.received("/slack").at(0).body).as_object();
  CHECK(slack.at("text").as_string().find("memoryUsage") != json::string::npos);
  CHECK(sink.received("/slack").at(0).content_type.find("application/json") == 0);
  auto discord = json::parse(sink.received("/discord").at(0).body).as_object();
  CHECK(discord.at("embeds").as_array().size() >= 1);
  // The active alert shows in /summary and in the log.
  auto summary = data_of(c.get(d.base_url() + "/api/v1/performance/summary", {bearer(token)}));
  REQUIRE(summary.at("alerts").as_array().size() == 1);
  CHECK(summary.at("alerts").at(0).at("metric").as_string() == "memoryUsage");
  CHECK(summary.at("alerts").at(0).at("state").as_string() == "firing");
  REQUIRE(put_alerts(c, d, token, resolve_memory).status == 200);
  REQUIRE(sink.wait_for(2, "/slack", 10000));
  REQUIRE(sink.wait_for(2, "/discord", 10000));
  auto resolved = json::parse(sink.received("/slack").at(1).body).as_object();
  CHECK(resolved.at("text").as_string().find("RESOLVED") != json::string::npos);
  // Exactly one notification per state change, however many samples pass.
  std::this_thread::sleep_for(std::chrono::seconds(2));
  CHECK(sink.received("/slack").size() == 2);
  CHECK(sink.received("/discord").size() == 2);
  auto events = events_of(c, d, token);
  REQUIRE(events.size() == 2);
  CHECK(events[0].at("state").as_string() == "resolved");
  CHECK(events[1].at("state").as_string() == "firing");
  CHECK(events[0].at("id") == events[1].at("id"));
  CHECK(events[0].at("resolvedAt").is_string());
}

TEST_CASE("a queryTime alert fires on the database section's average query time") {
  http_sink sink;
  daemon_process d{{{"--sample-interval", "0.25"}, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  REQUIRE(put_alerts(c, d, token, R"({"notifications":{"webhook":")" + sink.url("/slack") + R"("}})")
            .status
          == 200);
  // The daemon's own queries take more than 0 ms: past a warning of 0 at once.
  REQUIRE(put_alerts(c, d, token,
                     R"({"thresholds":{"queryTime":{"warning":0,"critical":1e9,"forSeconds":0}}})")
            .status
          == 200);
  REQUIRE(sink.wait_for(1, "/slack", 10000));
  auto slack = json::parse(sink.received("/slack").at(0).body).as_object();
  INFO(slack.at("text").as_string());
  CHECK(slack.at("text").as_string().find("FIRING warning: queryTime ") != json::string::npos);
  CHECK(slack.at("text").as_string().find(" ms &gt; 0") != json::string::npos);
  auto events = events_of(c, d, token);
  REQUIRE(events.size() >= 1);
  CHECK(events.back().at("metric").as_string() == "queryTime");
  CHECK(events.back().at("severity").as_string() == "warning");
  CHECK(events.back().at("value").to_number<double>() > 0);
}

TEST_CASE("with the webhook sink down delivery is retried and succeeds once it is back") {
  http_sink sink{0, false}; // its port is chosen but nothing listens yet
  daemon_process d{{{"--sample-interval", "0.25", "--notify-retry-base-ms", "200"}, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  REQUIRE(put_alerts(c, d, token, R"({"notifications":{"webhook":")" + sink.url("/hook") + R"("}})")
            .status
          == 200);
  REQUIRE(put_alerts(c, d, token, fire_on_memory).status == 200);
  std::this_thread::sleep_for(std::chrono::seconds(3));
  sink.start();
  REQUIRE(sink.wait_for(1, "/hook", 20000));
  std::this_thread::sleep_for(std::chrono::seconds(1));
  CHECK(sink.received("/hook").size() == 1);
  auto log = data_of(c.get(d.base_url() + alerts_path + "/deliveries", {bearer(token)}));
  auto& attempts = log.at("deliveries").as_array();
  REQUIRE(attempts.size() >= 2);
  CHECK(attempts.at(0).at("ok").as_bool()); // newest first: the success
  CHECK_FALSE(attempts.at(attempts.size() - 1).at("ok").as_bool());
  CHECK(attempts.at(0).at("attempt").to_number<int64_t>() >= 2);
  // The destination is shown masked, never in clear.
  CHECK(attempts.at(0).at("destination").as_string().find("/hook") == json::string::npos);
}

TEST_CASE("an e-mail alert reaches a real SMTP server") {
  auto port = free_port();
  auto maildir = make_temp_dir("medianest-maildir");
  auto pid_text = run_command("(/usr/bin/python3 -m aiosmtpd -n -l 127.0.0.1:" + std::to_string(port)
                              + " -c aiosmtpd.handlers.Mailbox " + (maildir / "box").string()
                              + " >/dev/null 2>&1 & echo $!)");
  auto smtp_pid = std::stoi(pid_text);
  for (int i = 0; i < 100 && run_command("bash -c 'exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + "' 2>&1").size(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    daemon_process d{{{"--sample-interval", "0.25", "--smtp-url",
                       "smtp://127.0.0.1:" + std::to_string(port), "--smtp-from",
                       "perf@medianest.test"},
                      {},
                      {}}};
    http_client c;
    auto token = d.token("admin");
    REQUIRE(put_alerts(c, d, token, R"({"notifications":{"email":["ops@medianest.test"]}})").status
            == 200);
    REQUIRE(put_alerts(c, d, token, fire_on_memory).status == 200);
    std::string message;
    for (int i = 0; i < 100 && message.empty(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      for (auto sub : {"new", "cur"}) {
        auto dir = maildir / "box" / sub;
        if (!std::filesystem::exists(dir))
          continue;
        for (const auto& f : std::filesystem::directory_iterator(dir)) {
          std::ifstream in(f.path());
          message.assign(std::istreambuf_iterator<char>(in), {});
        }
      }
    }
    INFO(message);
    CHECK(message.find("memoryUsage") != std::string::npos);
    CHECK(message.find("ops@medianest.test") != std::string::npos);
    CHECK(message.find("FIRING") != std::string::npos);
  }
  ::kill(smtp_pid, SIGTERM);
  std::filesystem::remove_all(maildir);
}

namespace {

bool maps_library(pid_t pid, const std::string& name) {
  std::ifstream maps{"/proc/" + std::to_string(pid) + "/maps"};
  std::string line;
  while (std::getline(maps, line))
    if (line.find(name) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST_CASE("libcurl is loaded when a notification destination is configured not before") {
  daemon_process d;
  http_client c;
  auto token = d.token("admin");
  // Settle: the daemon has served and sampled; nothing needs libcurl yet.
  REQUIRE(c.get(d.base_url() + alerts_path, {bearer(token)}).status == 200);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  CHECK_FALSE(maps_library(d.pid(), "libcurl"));
  // A webhook that never gets a request: thresholds nothing can cross.
  auto r = put_alerts(c, d, token, R"({"thresholds":{"memoryUsage":{"warning":99.8,"critical":99.9}},
                                       "notifications":{"webhook":"http://127.0.0.1:9/never"}})");
  REQUIRE(r.status == 200);
  bool loaded = false;
  for (int i = 0; i < 100 && !loaded; ++i) {
    loaded = maps_library(d.pid(), "libcurl");
    if (!loaded)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  CHECK(loaded);
  CHECK(events_of(c, d, token).empty());
  CHECK(d.log().find("notifications cannot be sent") == std::string::npos);
}
