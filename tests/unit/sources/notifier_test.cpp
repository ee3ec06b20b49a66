#include <catch2/catch.hpp>

#include <chrono>
#include <cstdint>
#include <random>
#include <regex>
#include <map>
#include <set>
#include <thread>
#include <string>
#include <vector>

#include <boost/json.hpp>

#include "model/alerts.hpp"
#include "model/time.hpp"
#include "sources/notifier.hpp"

#include "loopback_peers.hpp"

using namespace medianest;
using namespace medianest::sources;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

// -- fixtures --------------------------------------------------------------------------------------

const sys_ms started = sys_ms{1736942400000ms};   // 2025-01-15T12:00:00.000Z
const sys_ms resolved = sys_ms{1736942700000ms};  // 2025-01-15T12:05:00.000Z

alert_event firing_critical() {
  alert_event e;
  e.id = "alt-1a2b3c";
  e.metric = "responseTime";
  e.severity = "critical";
  e.state = "firing";
  e.value = 1234;
  e.threshold = 1000;
  e.started_at = started;
  e.at = started;
  return e;
}

alert_event resolved_critical() {
  alert_event e = firing_critical();
  e.state = "resolved";
  e.value = 800;
  e.resolved_at = resolved;
  e.at = resolved;
  return e;
}

alert_event firing_warning() {
  alert_event e = firing_critical();
  e.severity = "warning";
  e.value = 620;
  e.threshold = 500;
  return e;
}

json::object parse_object(const std::string& text) {
  boost::system::error_code ec;
  json::value v = json::parse(text, ec);
  INFO(text);
  REQUIRE_FALSE(ec);
  REQUIRE(v.is_object());
  return v.as_object();
}

std::string str(const json::value& v) {
  return json::value_to<std::string>(v);
}

/// Slack fields as title → value.
std::map<std::string, std::string> slack_fields(const json::object& attachment) {
  std::map<std::string, std::string> out;
  for (const auto& f : attachment.at("fields").as_array()) {
    const auto& o = f.as_object();
    REQUIRE(o.at("short").is_bool());
    out[str(o.at("title"))] = str(o.at("value"));
  }
  return out;
}

/// Discord fields as name → value; every one inline.
std::map<std::string, std::string> discord_fields(const json::object& embed) {
  std::map<std::string, std::string> out;
  for (const auto& f : embed.at("fields").as_array()) {
    const auto& o = f.as_object();
    CHECK(o.at("inline") == json::value(true));
    out[str(o.at("name"))] = str(o.at("value"));
  }
  return out;
}

/// The header block of a message as lines (CRLF removed; continuation lines unfolded).
std::vector<std::string> header_lines(const std::string& message) {
  const auto end = message.find("\r\n\r\n");
  REQUIRE(end != std::string::npos);
  std::vector<std::string> lines;
  std::size_t pos = 0;
  while (pos < end) {
    auto next = message.find("\r\n", pos);
    if (next > end)
      next = end;
    std::string line = message.substr(pos, next - pos);
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t') && !lines.empty())
      lines.back() += line;
    else
      lines.push_back(line);
    pos = next + 2;
  }
  return lines;
}

std::string header_value(const std::vector<std::string>& lines, std::string_view name) {
  for (const auto& line : lines) {
    const auto colon = line.find(':');
    if (colon != std::string::npos && test_peers::iequals(line.substr(0, colon), name))
      return line.substr(std::min(colon + 2, line.size()));
  }
  return {};
}

/// Every LF is preceded by CR, and every CR followed by LF.
bool crlf_only(const std::string& text) {
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n' && (i == 0 || text[i - 1] != '\r'))
      return false;
    if (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'))
      return false;
  }
  return true;
}

} // namespace

// -- payloads ----------------------------------------------------------------------------------------

TEST_CASE("alert summary shows each metric in its unit and direction", "[notify]") {
  CHECK(alert_summary(firing_critical()) == "FIRING critical: responseTime 1234 ms > 1000");
  CHECK(alert_summary(resolved_critical()) ==
        "RESOLVED critical: responseTime 800 ms (threshold 1000 ms)");

  alert_event e = firing_critical();
  e.metric = "errorRate";
  e.value = 0.125;
  e.threshold = 0.1;
  CHECK(alert_summary(e) == "FIRING critical: errorRate 12.5% > 10%");

  e.metric = "cacheHitRate";
  e.severity = "warning";
  e.value = 0.6234;
  e.threshold = 0.7;
  CHECK(alert_summary(e) == "FIRING warning: cacheHitRate 62.34% < 70%");

  e.metric = "memoryUsage";
  e.value = 91.5;
  e.threshold = 90;
  CHECK(alert_summary(e) == "FIRING warning: memoryUsage 91.5% > 90%");

  e.metric = "responseTime:Search";
  e.value = 1000.456;
  e.threshold = 1000;
  CHECK(alert_summary(e) == "FIRING warning: responseTime:Search 1000.46 ms > 1000");

  e.metric = "queryTime";
  e.value = 123.456;
  e.threshold = 100;
  CHECK(alert_summary(e) == "FIRING warning: queryTime 123.46 ms > 100");
  e.state = "resolved";
  e.value = 80;
  CHECK(alert_summary(e) == "RESOLVED warning: queryTime 80 ms (threshold 100 ms)");
}

TEST_CASE("notification details show queryTime value and threshold in ms", "[notify]") {
  alert_event e = firing_critical();
  e.metric = "queryTime";
  e.value = 612.5;
  e.threshold = 500;
  const json::object p = parse_object(slack_payload(e, ""));
  const auto fields = slack_fields(p.at("attachments").at(0).as_object());
  CHECK(fields.at("Metric") == "queryTime");
  CHECK(fields.at("Value") == "612.5 ms");
  CHECK(fields.at("Threshold") == "&gt; 500 ms");
  CHECK(str(p.at("text")) == "[MediaNest Perf] FIRING critical: queryTime 612.5 ms &gt; 500");
}

TEST_CASE("slack payload is valid JSON with the fields of firing and resolved alerts", "[notify]") {
  SECTION("firing critical") {
    const json::object p = parse_object(slack_payload(firing_critical(), "prod-1"));
    // Slack wants > escaped as an entity in message text.
    CHECK(str(p.at("text")) ==
          "[MediaNest Perf] FIRING critical: responseTime 1234 ms &gt; 1000 on prod-1");
    const auto& attachments = p.at("attachments").as_array();
    REQUIRE(attachments.size() == 1);
    const auto& a = attachments[0].as_object();
    CHECK(str(a.at("color")) == "#d00000");
    CHECK(a.at("ts").to_number<std::int64_t>() == 1736942400);
    const auto fields = slack_fields(a);
    CHECK(fields.at("Metric") == "responseTime");
    CHECK(fields.at("Value") == "1234 ms");
    CHECK(fields.at("Threshold") == "&gt; 1000 ms");
    CHECK(fields.at("Severity") == "critical");
    CHECK(fields.at("State") == "firing");
    CHECK(fields.at("Started at") == "2025-01-15T12:00:00.000Z");
    CHECK(fields.at("Instance") == "prod-1");
    CHECK(fields.at("Alert ID") == "alt-1a2b3c");
    CHECK(fields.count("Resolved at") == 0);
  }
  SECTION("firing warning is amber") {
    const json::object p = parse_object(slack_payload(firing_warning(), ""));
    CHECK(str(p.at("text")) == "[MediaNest Perf] FIRING warning: responseTime 620 ms &gt; 500");
    const auto& a = p.at("attachments").as_array()[0].as_object();
    CHECK(str(a.at("color")) == "#f0a000");
    CHECK(slack_fields(a).count("Instance") == 0);
  }
  SECTION("resolved is green and carries the resolution time") {
    const json::object p = parse_object(slack_payload(resolved_critical(), "prod-1"));
    CHECK(str(p.at("text")).rfind("[MediaNest Perf] RESOLVED critical: responseTime 800 ms", 0) == 0);
    const auto& a = p.at("attachments").as_array()[0].as_object();
    CHECK(str(a.at("color")) == "#2eb886");
    const auto fields = slack_fields(a);
    CHECK(fields.at("Resolved at") == "2025-01-15T12:05:00.000Z");
    CHECK(fields.at("State") == "resolved");
  }
  SECTION("markup in the instance name is escaped") {
    const json::object p = parse_object(slack_payload(firing_critical(), "<!channel> & co"));
    CHECK(str(p.at("text")).find("&lt;!channel&gt; &amp; co") != std::string::npos);
    CHECK(str(p.at("text")).find("<!channel>") == std::string::npos);
  }
}

TEST_CASE("discord payload is valid JSON with embeds for firing and resolved alerts", "[notify]") {
  SECTION("firing critical") {
    const json::object p = parse_object(discord_payload(firing_critical(), "prod-1"));
    CHECK(str(p.at("content")) ==
          "[MediaNest Perf] FIRING critical: responseTime 1234 ms > 1000 on prod-1");
    const auto& embeds = p.at("embeds").as_array();
    REQUIRE(embeds.size() == 1);
    const auto& embed = embeds[0].as_object();
    CHECK(str(embed.at("title")) == "FIRING critical: responseTime");
    CHECK(str(embed.at("description")).find("responseTime 1234 ms > 1000") != std::string::npos);
    CHECK(embed.at("color").to_number<std::int64_t>() == 0xd00000);
    CHECK(str(embed.at("timestamp")) == "2025-01-15T12:00:00.000Z");
    const auto fields = discord_fields(embed);
    CHECK(fields.at("Metric") == "responseTime");
    CHECK(fields.at("Value") == "1234 ms");
    CHECK(fields.at("Threshold") == "> 1000 ms");
    CHECK(fields.at("Severity") == "critical");
    CHECK(fields.at("Started at") == "2025-01-15T12:00:00.000Z");
    CHECK(fields.count("Resolved at") == 0);
    // No @everyone/@here pings whatever the text holds.
    CHECK(p.at("allowed_mentions").at("parse").as_array().empty());
  }
  SECTION("warning and resolved colours") {
    CHECK(parse_object(discord_payload(firing_warning(), ""))
            .at("embeds").as_array()[0].at("color").to_number<std::int64_t>() == 0xf0a000);
    const json::object p = parse_object(discord_payload(resolved_critical(), ""));
    const auto& embed = p.at("embeds").as_array()[0].as_object();
    CHECK(embed.at("color").to_number<std::int64_t>() == 0x2eb886);
    CHECK(str(embed.at("timestamp")) == "2025-01-15T12:05:00.000Z");
    CHECK(discord_fields(embed).at("Resolved at") == "2025-01-15T12:05:00.000Z");
  }
  SECTION("a huge instance name stays within Discord's limits and valid UTF-8") {
    std::string instance;
    for (int i = 0; i < 1500; ++i)
      instance += "\xC3\xA9";  // é, two bytes
    const json::object p = parse_object(discord_payload(firing_critical(), instance));
    CHECK(str(p.at("content")).size() <= 2000);
    for (const auto& [name, value] : discord_fields(p.at("embeds").as_array()[0].as_object()))
      CHECK(value.size() <= 1024);
  }
}

TEST_CASE("email message has the headers and CRLF line endings", "[notify]") {
  const std::vector<std::string> to{"ops@example.com", "Oncall <oncall@example.com>"};
  const std::string m = email_message(firing_critical(), "prod-1", "perf@example.com", to);
  INFO(m);
  CHECK(crlf_only(m));
  const auto lines = header_lines(m);
  CHECK(header_value(lines, "From") == "perf@example.com");
  CHECK(header_value(lines, "To") == "ops@example.com, Oncall <oncall@example.com>");
  CHECK(header_value(lines, "Subject") ==
        "[MediaNest Perf] FIRING critical: responseTime 1234 ms > 1000");
  CHECK(std::regex_match(header_value(lines, "Date"),
                         std::regex(R"([A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000)")));
  CHECK(std::regex_match(header_value(lines, "Message-ID"), std::regex(R"(<[^<>@ ]+@example\.com>)")));
  CHECK(header_value(lines, "MIME-Version") == "1.0");
  CHECK(header_value(lines, "Content-Type") == "text/plain; charset=utf-8");
  for (const auto& line : lines)
    CHECK(line.size() <= 998);

  const std::string body = m.substr(m.find("\r\n\r\n") + 4);
  CHECK(body.find("responseTime") != std::string::npos);
  CHECK(body.find("1234 ms") != std::string::npos);
  CHECK(body.find("> 1000 ms") != std::string::npos);
  CHECK(body.find("2025-01-15T12:00:00.000Z") != std::string::npos);
  CHECK(body.find("prod-1") != std::string::npos);
  CHECK(body.find("alt-1a2b3c") != std::string::npos);
  CHECK(body.size() >= 2);
  CHECK(body.substr(body.size() - 2) == "\r\n");

  SECTION("resolved") {
    const std::string r = email_message(resolved_critical(), "", "perf@example.com", to);
    const auto rl = header_lines(r);
    CHECK(header_value(rl, "Subject").rfind("[MediaNest Perf] RESOLVED critical: responseTime", 0) == 0);
    CHECK(r.find("2025-01-15T12:05:00.000Z") != std::string::npos);
    CHECK(crlf_only(r));
  }
  SECTION("every message gets its own Message-ID") {
    const std::string again = email_message(firing_critical(), "prod-1", "perf@example.com", to);
    CHECK(header_value(header_lines(again), "Message-ID") != header_value(lines, "Message-ID"));
  }
  SECTION("line breaks in values cannot inject headers") {
    const std::string evil = email_message(firing_critical(), "x\r\nBcc: victim@example.com",
                                           "perf@example.com\r\nBcc: a@b.c", {"ops@example.com\nX-Evil: 1"});
    INFO(evil);
    CHECK(crlf_only(evil));
    CHECK(evil.find("\r\nBcc:") == std::string::npos);
    CHECK(evil.find("\r\nX-Evil:") == std::string::npos);

    alert_event e = firing_critical();
    e.metric = "responseTime:x\r\nBcc: victim@example.com";  // a category name from PUT /alerts
    const std::string category = email_message(e, "", "perf@example.com", {"ops@example.com"});
    INFO(category);
    CHECK(crlf_only(category));
    CHECK(category.find("\r\nBcc:") == std::string::npos);
  }
  SECTION("a subject that is not ASCII is RFC 2047-encoded") {
    alert_event e = firing_critical();
    e.metric = "responseTime:M\xC3\xA9" "dias";
    const std::string u = email_message(e, "", "perf@example.com", to);
    CHECK(header_value(header_lines(u), "Subject").rfind("=?UTF-8?B?", 0) == 0);
    CHECK(crlf_only(u));
  }
}

// -- HTTP delivery against a real sink ---------------------------------------------------------------

TEST_CASE("post_json delivers the body to a real HTTP sink", "[notify]") {
  test_peers::http_sink sink;
  const std::string body = slack_payload(firing_critical(), "prod-1");
  const delivery_result r = post_json(sink.url("/services/T000/B000/XXXX"), body, 2s, 5s);
  INFO(r.error);
  CHECK(r.ok);
  CHECK(r.status == 200);
  CHECK(r.error.empty());
  CHECK(r.duration_ms > 0);
  CHECK(r.duration_ms < 5000);
  REQUIRE(sink.wait_for_requests(1, 2s));
  const auto requests = sink.requests();
  REQUIRE(requests.size() == 1);
  CHECK(requests[0].method == "POST");
  CHECK(requests[0].target == "/services/T000/B000/XXXX");
  CHECK(requests[0].header("Content-Type") == "application/json");
  CHECK(requests[0].header("Content-Length") == std::to_string(body.size()));
  CHECK(requests[0].header("User-Agent").rfind("medianest-perf/", 0) == 0);
  CHECK(requests[0].header("Expect").empty());
  CHECK(requests[0].body == body);
}

TEST_CASE("post_json classifies the status of a real HTTP sink", "[notify]") {
  test_peers::http_sink sink;
  const std::string body = R"({"text":"x"})";

  SECTION("204 is ok") {
    sink.respond_with(204);
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK(r.ok);
    CHECK(r.status == 204);
  }
  SECTION("500 is retryable") {
    sink.respond_with(500, "upstream exploded");
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK_FALSE(r.ok);
    CHECK(r.retryable);
    CHECK(r.status == 500);
    CHECK(r.error == "HTTP 500: upstream exploded");
  }
  SECTION("503 is retryable") {
    sink.respond_with(503);
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK_FALSE(r.ok);
    CHECK(r.retryable);
    CHECK(r.status == 503);
  }
  SECTION("429 is retryable") {
    sink.respond_with(429, "", {"Retry-After: 1"});
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK_FALSE(r.ok);
    CHECK(r.retryable);
    CHECK(r.status == 429);
  }
  SECTION("404 is not retryable") {
    sink.respond_with(404, "no_service");
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
    CHECK(r.status == 404);
    CHECK(r.error == "HTTP 404: no_service");
  }
  SECTION("400 is not retryable") {
    sink.respond_with(400, "invalid_payload");
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
    CHECK(r.status == 400);
  }
  SECTION("a redirect is not followed") {
    sink.respond_with(301, "", {"Location: " + sink.url("/elsewhere")});
    const auto r = post_json(sink.url(), body, 2s, 5s);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
    CHECK(r.status == 301);
    std::this_thread::sleep_for(100ms);
    CHECK(sink.requests().size() == 1);
  }
}

TEST_CASE("post_json to a port with nothing listening is a retryable transport error", "[notify]") {
  const uint16_t port = test_peers::unused_port();
  const auto r = post_json("http://127.0.0.1:" + std::to_string(port) + "/hook", "{}", 500ms, 2s);
  INFO(r.error);
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.status == 0);
  CHECK_FALSE(r.error.empty());
  CHECK(r.duration_ms < 1000);  // refused at once, well within the connect timeout
}

TEST_CASE("post_json gives up on a listener that never accepts after the connect timeout", "[notify]") {
  test_peers::black_hole hole;
  if (!hole.swallows_connects(200ms)) {
    WARN("this kernel completes connects to a full accept queue: connect timeout not exercised");
    return;
  }
  const auto r = post_json("http://127.0.0.1:" + std::to_string(hole.port()) + "/hook", "{}", 300ms, 5s);
  INFO(r.error);
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.status == 0);
  CHECK(r.duration_ms >= 250);
  CHECK(r.duration_ms < 2000);  // the connect timeout, not the 5 s total
}

TEST_CASE("post_json to a sink slower than the timeout is a retryable timeout", "[notify]") {
  test_peers::http_sink sink;
  sink.delay_responses(3s);
  const auto r = post_json(sink.url(), "{}", 2s, 500ms);
  INFO(r.error);
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.status == 0);
  CHECK(r.error.find("timed out") != std::string::npos);
  CHECK(r.duration_ms >= 450);
  CHECK(r.duration_ms < 1500);
  CHECK(sink.requests().size() == 1);  // it did arrive: the answer was late
}

TEST_CASE("post_json refuses URLs that are not http or https", "[notify]") {
  for (const std::string url : {"file:///etc/passwd", "ftp://127.0.0.1/x", "gopher://127.0.0.1/"}) {
    const auto r = post_json(url, "{}", 500ms, 1s);
    INFO(url << ": " << r.error);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
  }
  const auto empty = post_json("", "{}", 500ms, 1s);
  CHECK_FALSE(empty.ok);
  CHECK_FALSE(empty.retryable);
  const auto garbage = post_json("http://[not a url", "{}", 500ms, 1s);
  CHECK_FALSE(garbage.ok);
  CHECK_FALSE(garbage.retryable);
}

// -- SMTP delivery against a real server ---------------------------------------------------------------

TEST_CASE("send_email delivers a message to a real SMTP server", "[notify]") {
  test_peers::smtp_server server;
  INFO(server.error());
  REQUIRE(server.running());

  const std::vector<std::string> to{"ops@example.com", "Oncall <oncall@example.com>"};
  const std::string message = email_message(firing_critical(), "prod-1", "perf@example.com", to);
  const auto r = send_email(server.url(), "MediaNest Perf <perf@example.com>", to, message, 5s);
  INFO(r.error << "\n" << server.log());
  CHECK(r.ok);
  CHECK(r.status == 250);
  REQUIRE(server.wait_for_messages(1, 5s));
  const auto messages = server.messages();
  REQUIRE(messages.size() == 1);
  CHECK(messages[0].mail_from == "perf@example.com");
  CHECK(messages[0].rcpt_tos == std::vector<std::string>{"ops@example.com", "oncall@example.com"});
  const std::string& data = messages[0].data;
  CHECK(data.find("\r\nSubject: [MediaNest Perf] FIRING critical: responseTime 1234 ms > 1000\r\n") !=
        std::string::npos);
  CHECK(data.find("\r\nContent-Type: text/plain; charset=utf-8\r\n") != std::string::npos);
  CHECK(data.rfind("From: perf@example.com\r\n", 0) == 0);
  CHECK(crlf_only(data));
  CHECK(data.find("-- \r\nSent by MediaNest Perf") != std::string::npos);  // the signature survived
}

TEST_CASE("send_email classifies the replies of a real SMTP server", "[notify]") {
  test_peers::smtp_server server;
  INFO(server.error());
  REQUIRE(server.running());
  const std::string message = email_message(firing_critical(), "", "perf@example.com", {"x@example.com"});

  SECTION("a 4xx reply is retryable") {
    const auto r = send_email(server.url(), "perf@example.com", {"defer@example.com"}, message, 5s);
    INFO(r.error);
    CHECK_FALSE(r.ok);
    CHECK(r.retryable);
    CHECK(r.status == 451);
  }
  SECTION("a 5xx reply is permanent") {
    const auto r = send_email(server.url(), "perf@example.com", {"reject@example.com"}, message, 5s);
    INFO(r.error);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
    CHECK(r.status == 550);
  }
  SECTION("no recipients is permanent") {
    const auto r = send_email(server.url(), "perf@example.com", {}, message, 5s);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
  }
  SECTION("a scheme other than smtp or smtps is permanent") {
    const auto r = send_email("http://127.0.0.1:" + std::to_string(server.port()), "perf@example.com",
                              {"ops@example.com"}, message, 5s);
    CHECK_FALSE(r.ok);
    CHECK_FALSE(r.retryable);
  }
  std::this_thread::sleep_for(100ms);
  CHECK(server.messages().empty());
}

TEST_CASE("send_email to a dead SMTP port is a retryable error", "[notify]") {
  const uint16_t port = test_peers::unused_port();
  const std::string message = email_message(firing_critical(), "", "perf@example.com", {"ops@example.com"});
  const auto r = send_email("smtp://127.0.0.1:" + std::to_string(port), "perf@example.com",
                            {"ops@example.com"}, message, 2s);
  INFO(r.error);
  CHECK_FALSE(r.ok);
  CHECK(r.retryable);
  CHECK(r.status == 0);
  CHECK_FALSE(r.error.empty());
  CHECK(r.duration_ms < 2000);
}

// -- policies -----------------------------------------------------------------------------------------

TEST_CASE("retry_policy delays are within bounds and grow", "[notify]") {
  const retry_policy policy{500ms, 60s, 8};
  std::mt19937_64 rng{42};

  CHECK(policy.delay_before(1, rng) == 0ms);
  CHECK(policy.delay_before(0, rng) == 0ms);
  CHECK(policy.max_delay_before(1) == 0ms);
  CHECK(policy.max_delay_before(2) == 500ms);
  CHECK(policy.max_delay_before(3) == 1000ms);
  CHECK(policy.max_delay_before(4) == 2000ms);
  CHECK(policy.max_delay_before(8) == 32000ms);
  CHECK(policy.max_delay_before(9) == 60000ms);   // 64 s capped
  CHECK(policy.max_delay_before(4000000000u) == 60000ms);  // no overflow

  double previous_mean = -1;
  for (unsigned attempt = 2; attempt <= 10; ++attempt) {
    const auto bound = policy.max_delay_before(attempt);
    double sum = 0;
    std::chrono::milliseconds largest{0};
    constexpr int samples = 400;
    for (int i = 0; i < samples; ++i) {
      const auto d = policy.delay_before(attempt, rng);
      REQUIRE(d >= 0ms);
      REQUIRE(d <= bound);
      sum += static_cast<double>(d.count());
      largest = std::max(largest, d);
    }
    const double mean = sum / samples;
    INFO("attempt " << attempt << ": mean " << mean << ", bound " << bound.count());
    CHECK(largest.count() > bound.count() * 0.8);        // full jitter spans the range
    CHECK(mean > bound.count() * 0.4);
    CHECK(mean < bound.count() * 0.6);
    if (attempt <= 9)
      CHECK(mean > previous_mean);                       // grows until the cap
    previous_mean = mean;
  }
}

TEST_CASE("retry_policy is exhausted after max_attempts", "[notify]") {
  const retry_policy policy{100ms, 1s, 3};
  CHECK_FALSE(policy.exhausted(0));
  CHECK_FALSE(policy.exhausted(1));
  CHECK_FALSE(policy.exhausted(2));
  CHECK(policy.exhausted(3));
  CHECK(policy.exhausted(4));

  const retry_policy once{100ms, 1s, 0};  // at least the first attempt
  CHECK(once.max_attempts() == 1);
  CHECK_FALSE(once.exhausted(0));
  CHECK(once.exhausted(1));

  const retry_policy defaults;
  CHECK(defaults.base() == 500ms);
  CHECK(defaults.cap() == 60s);
  CHECK(defaults.max_attempts() == 8);
  CHECK_FALSE(defaults.exhausted(7));
  CHECK(defaults.exhausted(8));
}

