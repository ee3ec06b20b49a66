// The WebSocket live feed (docs/live.md) end to end: the real daemon, a real WebSocket client,
// and what a browser would see — handshakes, frames, intervals, events, limits and slow
// clients.

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <chrono>
#include <cmath>
#include <csignal>
#include <fstream>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <sstream>
#include <thread>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/upstream_process.hpp"
#include "support/ws_client.hpp"

using namespace medianest::test;
namespace json = boost::json;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

const std::string live_path = "/api/v1/performance/live";

/// A daemon that samples four times a second: frames come often enough to count.
daemon_process fast_daemon(std::vector<std::string> extra = {}) {
  std::vector<std::string> args{"--sample-interval", "0.25"};
  args.insert(args.end(), extra.begin(), extra.end());
  return daemon_process{{args, {}, {}}};
}

ws_client::options with_header(const std::string& token) {
  ws_client::options opts;
  opts.headers = {{"Authorization", "Bearer " + token}};
  return opts;
}

ws_client::options with_query(const std::string& token) {
  ws_client::options opts;
  opts.target = live_path + "?token=" + token;
  return opts;
}

ws_client::options with_origin(const std::string& token, const std::string& origin) {
  auto opts = with_header(token);
  opts.headers.emplace_back("Origin", origin);
  return opts;
}

double unix_ms_now() {
  return std::chrono::duration<double, std::milli>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// The next frame within `timeout`, parsed; nothing on timeout or once the connection ended.
std::optional<json::object> next_frame(ws_client& c, std::chrono::milliseconds timeout) {
  auto text = c.read(timeout);
  if (!text)
    return std::nullopt;
  INFO(*text);
  auto doc = json::parse(*text);
  REQUIRE(doc.is_object());
  return doc.as_object();
}

/// The next frame of `type` (that `match` accepts), skipping the others; nothing within
/// `timeout`.
std::optional<json::object>
frame_of_type(ws_client& c, const std::string& type, std::chrono::milliseconds timeout,
              const std::function<bool(const json::object&)>& match = {}) {
  auto deadline = steady::now() + timeout;
  while (steady::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    auto frame = next_frame(c, std::max(left, 1ms));
    if (!frame)
      return std::nullopt;
    if (frame->at("type").as_string() == type && (!match || match(*frame)))
      return frame;
  }
  return std::nullopt;
}

/// How many frames of each type arrive within `period`.
std::map<std::string, int> frames_during(ws_client& c, std::chrono::milliseconds period) {
  std::map<std::string, int> out;
  auto deadline = steady::now() + period;
  while (steady::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    auto frame = next_frame(c, std::max(left, 1ms));
    if (!frame)
      break;
    ++out[std::string{frame->at("type").as_string()}];
  }
  return out;
}

json::object require_hello(ws_client& c) {
  INFO("status " << c.status() << " error: " << c.error() << " body: " << c.body());
  REQUIRE(c.accepted());
  auto hello = next_frame(c, 5s);
  REQUIRE(hello);
  REQUIRE(hello->at("type").as_string() == "hello");
  return hello->at("data").as_object();
}

/// The error envelope of a declined handshake.
json::object declined_error(const ws_client& c, unsigned status) {
  INFO("status " << c.status() << " error: " << c.error() << " body: " << c.body());
  REQUIRE(!c.accepted());
  REQUIRE(c.status() == status);
  auto doc = json::parse(c.body()).as_object();
  CHECK(doc.at("success") == false);
  return doc.at("error").as_object();
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

size_t occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
    ++n;
  return n;
}

} // namespace

TEST_CASE("the live feed refuses a missing or bad token with 401 and the error envelope") {
  daemon_process d;
  ws_client anonymous{d.port(), {}};
  auto err = declined_error(anonymous, 401);
  CHECK(err.at("code").as_string() == "UNAUTHORIZED");
  CHECK(err.at("statusCode").to_number<int>() == 401);
  ws_client forged{d.port(), with_header("eyJhbGciOiJIUzI1NiJ9.e30.bm90LWEtc2lnbmF0dXJl")};
  CHECK(declined_error(forged, 401).at("code").as_string() == "UNAUTHORIZED");
  ws_client forged_query{d.port(), with_query("garbage")};
  CHECK(declined_error(forged_query, 401).at("code").as_string() == "UNAUTHORIZED");
  // The daemon still serves after refusing upgrades.
  http_client c;
  CHECK(c.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("a token in the query or the Authorization header opens the feed with the role") {
  daemon_process d;
  ws_client user{d.port(), with_query(d.token("user"))};
  CHECK(user.status() == 101);
  auto hello = require_hello(user);
  CHECK(hello.at("role").as_string() == "user");
  CHECK(hello.at("interval").to_number<int64_t>() == 1000);
  CHECK(hello.at("minInterval").to_number<int64_t>() == 100);
  CHECK(hello.at("maxInterval").to_number<int64_t>() == 60000);
  ws_client admin{d.port(), with_header(d.token("admin"))};
  CHECK(require_hello(admin).at("role").as_string() == "admin");
  // Without Upgrade: websocket the same path is a plain GET, answered with how to connect.
  http_client c;
  auto plain = c.get(d.base_url() + live_path, {bearer(d.token("admin"))});
  INFO(plain.body);
  CHECK(plain.status == 400);
  CHECK(json::parse(plain.body).at("error").at("code").as_string() == "VALIDATION_ERROR");
}

TEST_CASE("every frame has a type a recent time and data and metrics depend on the role") {
  auto d = fast_daemon();
  ws_client admin{d.port(), with_header(d.token("admin"))};
  ws_client user{d.port(), with_query(d.token("user"))};
  for (auto* c : {&admin, &user}) {
    REQUIRE(c->accepted());
    // Read until a metrics frame, checking the envelope of every frame on the way.
    std::optional<json::object> metrics;
    auto deadline = steady::now() + 10s;
    while (!metrics && steady::now() < deadline) {
      auto frame = next_frame(*c, 5s);
      REQUIRE(frame);
      INFO(json::serialize(*frame));
      REQUIRE(frame->at("type").is_string());
      REQUIRE(frame->at("at").is_number());
      CHECK(std::abs(frame->at("at").to_number<double>() - unix_ms_now()) < 10'000);
      REQUIRE(frame->at("data").is_object());
      if (frame->at("type").as_string() == "metrics")
        metrics = frame->at("data").as_object();
    }
    REQUIRE(metrics);
    INFO(json::serialize(*metrics));
    if (c == &admin) {
      // The data of GET /metrics.
      for (const char* key : {"system", "api", "database", "cache"})
        CHECK(metrics->at(key).is_object());
      CHECK(metrics->at("system").at("memory").at("total").to_number<double>() > 0);
      CHECK(metrics->at("timestamp").is_string());
    } else {
      // Only what /summary shows a user.
      CHECK(metrics->size() == 1);
      REQUIRE(metrics->contains("currentMetrics"));
      auto& current = metrics->at("currentMetrics").as_object();
      CHECK(current.contains("memoryUsage"));
      CHECK(current.contains("cpuUsage"));
    }
  }
}

TEST_CASE("metrics frames come once a second by default and four times a second at 250 ms") {
  auto d = fast_daemon();
  ws_client c{d.port(), with_header(d.token("admin"))};
  require_hello(c);
  REQUIRE(frame_of_type(c, "metrics", 5s)); // the latest sample, sent at once
  auto by_default = frames_during(c, 3s)["metrics"];
  CHECK(by_default >= 2);
  CHECK(by_default <= 4);
  REQUIRE(c.send(R"({"type":"subscribe","interval":250})"));
  auto hello = frame_of_type(c, "hello", 5s);
  REQUIRE(hello);
  CHECK(hello->at("data").at("interval").to_number<int64_t>() == 250);
  // Ideally 8 (a sample every 250 ms); tolerant of a loaded machine.
  auto fast = frames_during(c, 2s)["metrics"];
  CHECK(fast >= 5);
  CHECK(fast <= 12);
}

TEST_CASE("an interval of 5000 ms sends at most one metrics frame in three seconds") {
  auto d = fast_daemon();
  ws_client c{d.port(), with_header(d.token("admin"))};
  require_hello(c);
  REQUIRE(frame_of_type(c, "metrics", 5s));
  REQUIRE(c.send(R"({"type":"subscribe","interval":5000})"));
  auto hello = frame_of_type(c, "hello", 5s);
  REQUIRE(hello);
  CHECK(hello->at("data").at("interval").to_number<int64_t>() == 5000);
  // Two frames are at least 4.5 s apart (the interval less the 10 % timer slack).
  CHECK(frames_during(c, 3s)["metrics"] <= 1);
}

TEST_CASE("invalid client messages get error frames naming the field and the feed stays open") {
  auto d = fast_daemon();
  ws_client c{d.port(), with_header(d.token("user"))};
  require_hello(c);
  struct bad {
    std::string message;
    std::string field;
  };
  for (const auto& [message, field] : std::vector<bad>{
         {R"({"type":"subscribe","interval":50})", "interval"},
         {R"({"type":"subscribe","interval":70000})", "interval"},
         {R"({"type":"subscribe","interval":"1000"})", "interval"},
         {R"({"type":"subscribe","interval":250.5})", "interval"},
         {R"({"type":"subscribe"})", "interval"},
         {"not json", "message"},
         {"[1,2]", "message"},
         {R"({"type":"unsubscribe","interval":1000})", "type"}}) {
    INFO(message);
    REQUIRE(c.send(message));
    auto error = frame_of_type(c, "error", 5s);
    REQUIRE(error);
    auto& data = error->at("data").as_object();
    CHECK(data.at("code").as_string() == "VALIDATION_ERROR");
    CHECK(data.at("field").as_string() == field);
    CHECK(!data.at("message").as_string().empty());
  }
  REQUIRE(c.send(R"({"type":"subscribe","interval":500})"));
  auto hello = frame_of_type(c, "hello", 5s);
  REQUIRE(hello);
  CHECK(hello->at("data").at("interval").to_number<int64_t>() == 500);
  CHECK(frame_of_type(c, "metrics", 5s));
  CHECK(!c.ended());
}

TEST_CASE("a client message over 4 KiB closes the feed with 1009") {
  daemon_process d;
  ws_client c{d.port(), with_header(d.token("user"))};
  require_hello(c);
  REQUIRE(c.send(R"({"type":"subscribe","interval":1000,"pad":")" + std::string(5000, 'x')
                 + R"("})"));
  REQUIRE(c.wait_until_ended(5s));
  INFO(c.error());
  CHECK(c.close_code() == 1009);
  http_client h;
  CHECK(h.get(d.base_url() + "/health").status == 200);
}

TEST_CASE("an alert that fires reaches admin and user clients as an alert frame") {
  auto d = fast_daemon();
  auto admin_token = d.token("admin");
  ws_client admin{d.port(), with_header(admin_token)};
  ws_client user{d.port(), with_query(d.token("user"))};
  require_hello(admin);
  require_hello(user);
  http_client c;
  // Memory is always above 1 % of the host: the alert fires after one second.
  auto put = c.request("PUT", d.base_url() + "/api/v1/performance/alerts",
                       {bearer(admin_token), "Content-Type: application/json"},
                       R"({"thresholds":{"memoryUsage":{"warning":1,"critical":99.9,)"
                       R"("forSeconds":1}}})");
  INFO(put.body);
  REQUIRE(put.status == 200);
  auto memory_firing = [](const json::object& f) {
    return f.at("data").at("metric").as_string() == "memoryUsage"
           && f.at("data").at("state").as_string() == "firing";
  };
  for (auto* client : {&admin, &user}) {
    auto alert = frame_of_type(*client, "alert", 15s, memory_firing);
    REQUIRE(alert);
    INFO(json::serialize(*alert));
    auto& data = alert->at("data").as_object();
    CHECK(data.at("id").as_string().starts_with("alt-"));
    CHECK(data.at("severity").as_string() == "warning");
    CHECK(data.at("value").to_number<double>() > 1);
  }
}

TEST_CASE("optimization frames reach admins only and end with the run completed") {
  auto d = fast_daemon({"--optimization-window", "1"});
  auto admin_token = d.token("admin");
  ws_client admin{d.port(), with_header(admin_token)};
  ws_client user{d.port(), with_header(d.token("user"))};
  require_hello(admin);
  require_hello(user);
  http_client c;
  auto started = c.request("POST", d.base_url() + "/api/v1/performance/optimize",
                           {bearer(admin_token), "Content-Type: application/json"},
                           R"({"optimizations":["memory_cleanup"]})");
  INFO(started.body);
  REQUIRE(started.status == 200);
  auto id = std::string{json::parse(started.body).at("data").at("optimizationId").as_string()};
  std::vector<std::string> statuses;
  auto deadline = steady::now() + 30s;
  while (steady::now() < deadline) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
    auto frame = frame_of_type(admin, "optimization", std::max(left, 1ms),
                               [&](const json::object& f) {
                                 return f.at("data").at("optimizationId").as_string() == id;
                               });
    if (!frame)
      break;
    auto& run = frame->at("data").as_object();
    statuses.emplace_back(run.at("status").as_string());
    CHECK(run.at("results").as_array().size() == 1);
    if (statuses.back() != "running")
      break;
  }
  INFO(::Catch::Detail::stringify(statuses));
  REQUIRE(statuses.size() >= 2);
  CHECK(statuses.front() == "running");
  CHECK(statuses.back() == "completed");
  // The user saw the same period (its frames waited in the socket) and more: metrics, never
  // an optimization.
  auto seen = frames_during(user, 2s);
  CHECK(seen["optimization"] == 0);
  CHECK(seen["metrics"] >= 1);
}

TEST_CASE("past live-max-clients a client is accepted then closed with 1013 until one leaves") {
  daemon_process d{{{"--live-max-clients", "2"}, {}, {}}};
  auto token = d.token("admin");
  auto first = std::make_unique<ws_client>(d.port(), with_header(token));
  ws_client second{d.port(), with_header(token)};
  require_hello(*first);
  require_hello(second);
  {
    ws_client third{d.port(), with_header(token)};
    INFO(third.error() << " " << third.body());
    REQUIRE(third.accepted()); // the handshake succeeds, so that a browser sees the reason
    REQUIRE(third.wait_until_ended(5s));
    CHECK(third.close_code() == 1013);
    CHECK(third.close_reason() == "too many live clients");
  }
  first->close();
  first.reset();
  // The server notices the departure on its own thread: retry briefly.
  bool admitted = eventually(
    [&] {
      ws_client next{d.port(), with_header(token)};
      auto frame = next_frame(next, 5s);
      return frame && frame->at("type").as_string() == "hello";
    },
    10s);
  CHECK(admitted);
  CHECK(frame_of_type(second, "metrics", 5s));
}

TEST_CASE("live-origin admits the listed origin and requests without one and refuses others") {
  daemon_process d{{{"--live-origin", "https://ok.example"}, {}, {}}};
  auto token = d.token("user");
  ws_client listed{d.port(), with_origin(token, "https://ok.example")};
  require_hello(listed);
  ws_client other{d.port(), with_origin(token, "https://evil.example")};
  CHECK(declined_error(other, 403).at("code").as_string() == "FORBIDDEN");
  ws_client without{d.port(), with_header(token)};
  require_hello(without);
}

TEST_CASE("clients that stop reading are dropped and the daemon's memory does not grow") {
  upstream_process upstream;
  auto d = fast_daemon({"--live-write-timeout", "1", "--upstream", upstream.base_url()});
  auto token = d.token("admin");
  http_client c;
  // Admin frames carry /metrics' five slowest routes. Proxied uploads to five deep routes
  // (12 segments of 60 letters, which fold_route keeps) make them those routes: frames of
  // about 4.5 KB instead of 1 KB, so that a stalled client's 128 KiB of kernel send buffer
  // fills in about 6 s at four frames a second.
  std::string segments;
  for (int i = 0; i < 10; ++i)
    segments += "/" + std::string(60, 'q');
  std::string upload(256 * 1024, 'z');
  for (int i = 1; i <= 5; ++i) {
    auto r = c.request("POST", d.base_url() + "/echo/r" + std::to_string(i) + segments,
                       {"Content-Type: application/octet-stream"}, upload);
    INFO(r.error);
    REQUIRE(r.status == 200);
  }
  ws_client normal{d.port(), with_header(token)};
  require_hello(normal);
  auto deadline = steady::now() + 10s;
  size_t frame_size = 0;
  while (frame_size < 4000 && steady::now() < deadline) {
    auto text = normal.read(5s);
    REQUIRE(text);
    if (text->find(R"("type":"metrics")") != std::string::npos)
      frame_size = text->size();
  }
  INFO("metrics frame of " << frame_size << " bytes");
  REQUIRE(frame_size >= 4000);

  constexpr size_t slow_count = 50;
  std::vector<std::unique_ptr<ws_client>> slow;
  for (size_t i = 0; i < slow_count; ++i) {
    auto opts = with_header(token);
    opts.receive_buffer = 4096;
    opts.read = false;
    slow.push_back(std::make_unique<ws_client>(d.port(), opts));
    REQUIRE(slow.back()->accepted());
    REQUIRE(slow.back()->send(R"({"type":"subscribe","interval":100})"));
  }
  // Every session exists now: what it holds for good (its stream, buffers, the socket) is in
  // the baseline. From here on a correct session holds one shared frame in flight and nothing
  // else; a session that queued what it cannot send would grow by 50 x 4 x 4.5 KB = 0.9 MB a
  // second once the kernel buffers are full (after about 6 s).
  auto baseline = proc_status_kb(d.pid(), "VmRSS");
  REQUIRE(baseline > 0);
  uint64_t peak = baseline;
  auto log_before = occurrences(d.log(), "client too slow");
  int normal_frames = 0, normal_frames_after_drops = 0;
  auto slowest_health = 0ms;
  size_t dropped = 0;
  auto started = steady::now();
  for (int second = 1; second <= 15; ++second) {
    // Keep reading the normal client until the next tick.
    auto tick = started + std::chrono::seconds(second);
    while (steady::now() < tick) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(tick - steady::now());
      auto text = normal.read(std::max(left, 1ms));
      if (!text)
        break;
      if (text->find(R"("type":"metrics")") != std::string::npos) {
        ++normal_frames;
        if (dropped == slow_count)
          ++normal_frames_after_drops;
      }
    }
    REQUIRE(!normal.ended());
    peak = std::max(peak, proc_status_kb(d.pid(), "VmRSS"));
    auto asked = steady::now();
    CHECK(c.get(d.base_url() + "/health").status == 200);
    slowest_health = std::max(slowest_health, std::chrono::duration_cast<std::chrono::milliseconds>(
                                                steady::now() - asked));
    dropped = occurrences(d.log(), "client too slow") - log_before;
    // At least ten seconds of samples, and two more once every slow client is gone.
    if (second >= 10 && dropped == slow_count && normal_frames_after_drops >= 2)
      break;
  }
  INFO("RSS " << baseline << " kB at the start, peak " << peak << " kB");
  CHECK(dropped == slow_count);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer's allocator quarantines freed memory: RSS says nothing about queueing here.
  WARN("sanitizer build: RSS growth " << peak - baseline << " kB not checked");
#else
  CHECK(peak - baseline < 4 * 1024);
#endif
  CHECK(slowest_health < 1000ms);
  CHECK(normal_frames >= 5);
  CHECK(normal_frames_after_drops >= 1);
  CHECK(!normal.ended());
}

TEST_CASE("a live client gets close code 1001 when the daemon stops") {
  daemon_process d;
  ws_client c{d.port(), with_header(d.token("user"))};
  require_hello(c);
  // stop() waits for the exit, which waits for the closing handshake this thread answers.
  auto stopped = std::async(std::launch::async, [&d] { return d.stop(); });
  CHECK(c.wait_until_ended(10s));
  CHECK(c.close_code() == 1001);
  CHECK(stopped.get() == 0);
}

TEST_CASE("a live client that never answers the close does not hold the daemon past the grace") {
  // docs/api-conventions.md: after --shutdown-grace remaining connections are dropped.
  daemon_process d{{{"--shutdown-grace", "1"}, {}, {}}};
  ws_client silent{d.port(), with_header(d.token("user"))};
  // Once its hello is here the session has joined the feed. From then on this thread does not
  // drive the client: the close frame waits unread in its socket and is never answered.
  require_hello(silent);
  auto asked = steady::now();
  auto code = d.stop(SIGTERM, 15s);
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - asked);
  INFO("the daemon took " << took.count() << " ms to exit");
  CHECK(code == 0);
  CHECK(took < 4s);
}

TEST_CASE("live clients count in activeConnections") {
  auto d = fast_daemon();
  auto token = d.token("admin");
  http_client c;
  auto active = [&] {
    auto r = c.get(d.base_url() + "/api/v1/performance/metrics", {bearer(token)});
    REQUIRE(r.status == 200);
    // Null until the api collector's first sample.
    auto doc = json::parse(r.body);
    const auto& v = doc.at("data").at("api").at("activeConnections");
    return v.is_number() ? v.to_number<int64_t>() : int64_t{-1};
  };
  // Only this test's own keep-alive HTTP connection.
  REQUIRE(eventually([&] { return active() == 1; }, 5s));
  auto one = std::make_unique<ws_client>(d.port(), with_header(token));
  ws_client two{d.port(), with_header(token)};
  ws_client three{d.port(), with_query(d.token("user"))};
  for (auto* client : {one.get(), &two, &three})
    require_hello(*client);
  CHECK(eventually([&] { return active() == 4; }, 5s));
  one->close();
  one.reset();
  CHECK(eventually([&] { return active() == 3; }, 5s));
}
