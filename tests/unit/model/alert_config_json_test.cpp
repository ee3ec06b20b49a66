#include <catch2/catch.hpp>

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "model/alert_config_json.hpp"
#include "model/json.hpp"

using namespace medianest;
namespace json = boost::json;

namespace {

const std::string slack_url = "https://hooks.slack.com/services/T000/B000/XXXX";
const std::string discord_url = "https://discord.com/api/webhooks/123456/DISCORDSECRET";

/// Serializes like the HTTP layer does and parses the text back.
json::object round_trip(const json::object& o) {
  return json::parse(to_json(o)).as_object();
}

double number(const json::value& v) {
  return v.to_number<double>();
}

/// A configuration with no default left, so that "kept" cannot be confused with "defaulted".
alert_config custom_config() {
  alert_config c;
  c.enabled = false;
  c.response_time = {450, 900, "ms", 30};
  c.error_rate = {0.02, 0.2, "percentage", 120};
  c.memory_usage = {70, 85, "percentage", 90};
  c.cpu_usage = {75, 97, "percentage", 45};
  c.cache_hit_rate = {0.8, 0.4, "percentage", 300};
  c.query_time = {150, 600, "ms", 20};
  c.categories = {{"Uploads", 250, 600, 1200, {"/api/v1/upload*"}},
                  {"Health", 10, 50, 100, {"/health", "/api/v1/health*"}}};
  c.notifications.email = {"old@medianest.app"};
  c.notifications.webhook = slack_url;
  c.notifications.discord = true;
  c.notifications.discord_url = discord_url;
  c.notifications.repeat_seconds = 3600;
  return c;
}

void check_same(const alert_threshold& a, const alert_threshold& b) {
  CHECK(a.warning == b.warning);
  CHECK(a.critical == b.critical);
  CHECK(a.unit == b.unit);
  CHECK(a.for_seconds == b.for_seconds);
}

void check_same(const std::vector<endpoint_category>& a, const std::vector<endpoint_category>& b) {
  REQUIRE(a.size() == b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    INFO("category " << i);
    CHECK(a[i].name == b[i].name);
    CHECK(a[i].target == b[i].target);
    CHECK(a[i].warning == b[i].warning);
    CHECK(a[i].critical == b[i].critical);
    CHECK(a[i].routes == b[i].routes);
  }
}

void check_same(const alert_config& a, const alert_config& b) {
  CHECK(a.enabled == b.enabled);
  check_same(a.response_time, b.response_time);
  check_same(a.error_rate, b.error_rate);
  check_same(a.memory_usage, b.memory_usage);
  check_same(a.cpu_usage, b.cpu_usage);
  check_same(a.cache_hit_rate, b.cache_hit_rate);
  check_same(a.query_time, b.query_time);
  check_same(a.categories, b.categories);
  CHECK(a.notifications.email == b.notifications.email);
  CHECK(a.notifications.webhook == b.notifications.webhook);
  CHECK(a.notifications.discord == b.notifications.discord);
  CHECK(a.notifications.discord_url == b.notifications.discord_url);
  CHECK(a.notifications.repeat_seconds == b.notifications.repeat_seconds);
}

/// Merges and requires success.
alert_config merged(const alert_config& current, std::string_view body) {
  auto result = merge_alert_config(current, body);
  if (auto err = std::get_if<api_error>(&result))
    FAIL("unexpected error: " << err->message << " " << to_json(err->details));
  return std::get<alert_config>(result);
}

/// Merges and returns details.field of the VALIDATION_ERROR it must give ("" if none).
std::string error_field(const alert_config& current, std::string_view body) {
  auto result = merge_alert_config(current, body);
  auto err = std::get_if<api_error>(&result);
  if (!err)
    return "";
  CHECK(err->code == errc::validation_error);
  CHECK(!err->message.empty());
  auto field = err->details.if_contains("field");
  return field && field->is_string() ? std::string(field->get_string()) : "<no field>";
}

struct bad_case {
  std::string body;
  std::string field;
};

void check_rejected(const std::vector<bad_case>& cases,
                    const alert_config& current = custom_config()) {
  for (const auto& c : cases) {
    INFO("body: " << c.body);
    CHECK(error_field(current, c.body) == c.field);
  }
}

void check_threshold(const json::object& thresholds, const char* key, double warning,
                     double critical, const char* unit) {
  INFO(key);
  const auto& t = thresholds.at(key).as_object();
  CHECK(t.size() == 4);
  CHECK(number(t.at("warning")) == warning);
  CHECK(number(t.at("critical")) == critical);
  CHECK(t.at("unit").as_string() == unit);
  CHECK(t.at("forSeconds").as_int64() == 60);
}

void check_category(const json::value& v, const char* name, double target, double warning,
                    double critical) {
  INFO(name);
  const auto& cat = v.as_object();
  CHECK(cat.at("name").as_string() == name);
  CHECK(number(cat.at("target")) == target);
  CHECK(number(cat.at("warning")) == warning);
  CHECK(number(cat.at("critical")) == critical);
  CHECK(!cat.at("routes").as_array().empty());
}

} // namespace

TEST_CASE("alert config GET document has the spec defaults", "[alert_config_json]") {
  auto text = to_json(alert_config_to_json(alert_config{}));
  auto doc = json::parse(text).as_object();
  CHECK(doc.size() == 4);
  CHECK(doc.at("enabled").as_bool());

  const auto& thresholds = doc.at("thresholds").as_object();
  CHECK(thresholds.size() == 6);
  check_threshold(thresholds, "responseTime", 500, 1000, "ms");
  check_threshold(thresholds, "errorRate", 0.05, 0.1, "percentage");
  check_threshold(thresholds, "memoryUsage", 80, 90, "percentage");
  check_threshold(thresholds, "cpuUsage", 80, 95, "percentage");
  check_threshold(thresholds, "cacheHitRate", 0.7, 0.5, "percentage");
  check_threshold(thresholds, "queryTime", 100, 500, "ms");
  CHECK(text.find("\"warning\":0.05") != std::string::npos);  // not 5E-2
  CHECK(text.find("E-") == std::string::npos);

  const auto& categories = doc.at("endpointCategories").as_array();
  REQUIRE(categories.size() == 5);
  check_category(categories[0], "Authentication", 100, 200, 500);
  check_category(categories[1], "Search", 300, 500, 1000);
  check_category(categories[2], "Media Requests", 200, 400, 800);
  check_category(categories[3], "Dashboard", 150, 300, 600);
  check_category(categories[4], "Admin Operations", 500, 1000, 2000);
  CHECK(categories[0].at("routes").as_array().at(0).as_string() == "/api/v1/auth/*");

  const auto& n = doc.at("notifications").as_object();
  CHECK(n.size() == 4);
  CHECK(n.at("email").as_array().empty());
  CHECK(n.at("webhook").as_string() == "");
  CHECK(n.at("discord").as_bool() == false);
  CHECK(n.at("repeatSeconds").as_int64() == 0);
}

TEST_CASE("alert config GET masks the webhook and never shows the Discord URL",
          "[alert_config_json]") {
  auto c = custom_config();
  auto text = to_json(alert_config_to_json(c));
  auto n = json::parse(text).as_object().at("notifications").as_object();
  CHECK(n.at("webhook").as_string() == "https://hooks.slack.com/services/...");
  CHECK(n.at("discord").as_bool() == true);
  CHECK(!n.contains("discordUrl"));
  CHECK(n.at("email").as_array() == json::array{"old@medianest.app"});
  CHECK(n.at("repeatSeconds").as_int64() == 3600);
  for (const char* secret : {"T000", "B000", "XXXX", "DISCORDSECRET", "123456", "discord.com"}) {
    INFO(secret);
    CHECK(text.find(secret) == std::string::npos);
  }

  c.notifications.discord = false;
  auto off = round_trip(alert_config_to_json(c)).at("notifications").as_object();
  CHECK(off.at("discord").as_bool() == false);
}

TEST_CASE("webhook URLs are masked down to scheme host and first path segment",
          "[alert_config_json]") {
  CHECK(mask_webhook_url("") == "");
  CHECK(mask_webhook_url(slack_url) == "https://hooks.slack.com/services/...");
  CHECK(mask_webhook_url(discord_url) == "https://discord.com/api/...");
  CHECK(mask_webhook_url("https://example.com") == "https://example.com/...");
  CHECK(mask_webhook_url("https://example.com/") == "https://example.com/...");
  // A lone segment may be the secret itself.
  CHECK(mask_webhook_url("https://example.com/SECRET") == "https://example.com/...");
  CHECK(mask_webhook_url("https://example.com/hook?token=SECRET") == "https://example.com/...");
  CHECK(mask_webhook_url("https://example.com/a/SECRET#frag") == "https://example.com/a/...");
  CHECK(mask_webhook_url("http://user:pw@hooks.local:8080/a/b") == "http://hooks.local:8080/a/...");
  CHECK(mask_webhook_url("not a url") == "...");
}

TEST_CASE("alert config PUT of the spec example merges and keeps everything else",
          "[alert_config_json]") {
  const auto before = custom_config();
  const std::string body = R"({
  "enabled": true,
  "thresholds": {
    "responseTime": {
      "warning": 400,
      "critical": 800
    }
  },
  "notifications": {
    "email": ["admin@medianest.app", "ops@medianest.app"]
  }
})";
  auto after = merged(before, body);

  SECTION("the given values change") {
    CHECK(after.enabled == true);
    CHECK(after.response_time.warning == 400);
    CHECK(after.response_time.critical == 800);
    CHECK(after.notifications.email ==
          std::vector<std::string>{"admin@medianest.app", "ops@medianest.app"});
  }
  SECTION("the changed threshold keeps its unit and forSeconds") {
    CHECK(after.response_time.unit == "ms");
    CHECK(after.response_time.for_seconds == 30);
  }
  SECTION("untouched thresholds are kept") {
    check_same(after.error_rate, before.error_rate);
    check_same(after.memory_usage, before.memory_usage);
    check_same(after.cpu_usage, before.cpu_usage);
    check_same(after.cache_hit_rate, before.cache_hit_rate);
    check_same(after.query_time, before.query_time);
  }
  SECTION("categories are kept") {
    check_same(after.categories, before.categories);
  }
  SECTION("webhook is kept") {
    CHECK(after.notifications.webhook == slack_url);
  }
  SECTION("discord and its URL are kept") {
    CHECK(after.notifications.discord == true);
    CHECK(after.notifications.discord_url == discord_url);
  }
  SECTION("repeatSeconds is kept") {
    CHECK(after.notifications.repeat_seconds == 3600);
  }
  SECTION("the same body applies to the defaults") {
    auto from_defaults = merged(alert_config{}, body);
    CHECK(from_defaults.response_time.warning == 400);
    CHECK(from_defaults.response_time.critical == 800);
    check_same(from_defaults.error_rate, alert_config{}.error_rate);
    check_same(from_defaults.categories, alert_config::default_categories());
  }
}

TEST_CASE("alert config PUT accepts the documented forms", "[alert_config_json]") {
  const auto before = custom_config();

  SECTION("an empty object changes nothing") {
    check_same(merged(before, "{}"), before);
  }
  SECTION("thresholds unit may be repeated unchanged and forSeconds may change") {
    auto after = merged(before, R"({"thresholds":{"errorRate":{"unit":"percentage","forSeconds":0},
                                     "responseTime":{"unit":"ms","forSeconds":86400.0}}})");
    CHECK(after.error_rate.for_seconds == 0);
    CHECK(after.response_time.for_seconds == 86400);
    CHECK(after.error_rate.warning == before.error_rate.warning);
  }
  SECTION("cacheHitRate warning lies above critical") {
    auto after =
      merged(before, R"({"thresholds":{"cacheHitRate":{"warning":0.9,"critical":0.6}}})");
    CHECK(after.cache_hit_rate.warning == 0.9);
    CHECK(after.cache_hit_rate.critical == 0.6);
  }
  SECTION("queryTime takes ms bounds with no upper limit and keeps what is left out") {
    auto after = merged(before, R"({"thresholds":{"queryTime":{"warning":250,"critical":5000}}})");
    CHECK(after.query_time.warning == 250);
    CHECK(after.query_time.critical == 5000);
    CHECK(after.query_time.unit == "ms");
    CHECK(after.query_time.for_seconds == 20);
    auto unit_and_for =
      merged(after, R"({"thresholds":{"queryTime":{"unit":"ms","forSeconds":0}}})");
    CHECK(unit_and_for.query_time.for_seconds == 0);
    CHECK(unit_and_for.query_time.warning == 250);
    check_same(unit_and_for.response_time, before.response_time);
  }
  SECTION("a single bound is checked against the kept other bound") {
    auto after = merged(before, R"({"thresholds":{"cpuUsage":{"critical":100}}})");
    CHECK(after.cpu_usage.critical == 100);
    CHECK(after.cpu_usage.warning == 75);
  }
  SECTION("webhook null or empty removes it") {
    CHECK(merged(before, R"({"notifications":{"webhook":null}})").notifications.webhook.empty());
    CHECK(merged(before, R"({"notifications":{"webhook":""}})").notifications.webhook.empty());
    auto set =
      merged(alert_config{}, R"({"notifications":{"webhook":"http://10.0.0.5:8080/hook"}})");
    CHECK(set.notifications.webhook == "http://10.0.0.5:8080/hook");
  }
  SECTION("discord false keeps the URL and true uses it again") {
    auto off = merged(before, R"({"notifications":{"discord":false}})");
    CHECK(off.notifications.discord == false);
    CHECK(off.notifications.discord_url == discord_url);
    auto on = merged(off, R"({"notifications":{"discord":true}})");
    CHECK(on.notifications.discord == true);
    CHECK(on.notifications.discord_url == discord_url);
  }
  SECTION("discord given as a URL enables it with that URL") {
    auto after = merged(
      alert_config{}, R"({"notifications":{"discord":"https://discord.com/api/webhooks/1/abc"}})");
    CHECK(after.notifications.discord == true);
    CHECK(after.notifications.discord_url == "https://discord.com/api/webhooks/1/abc");
  }
  SECTION("email may be emptied and holds up to 20 addresses") {
    CHECK(merged(before, R"({"notifications":{"email":[]}})").notifications.email.empty());
    json::array twenty;
    for (int i = 0; i < 20; ++i)
      twenty.push_back(json::value("ops" + std::to_string(i) + "@medianest.app"));
    json::object body{{"notifications", {{"email", twenty}}}};
    CHECK(merged(before, to_json(body)).notifications.email.size() == 20);
  }
  SECTION("repeatSeconds and enabled") {
    auto after = merged(before, R"({"enabled":true,"notifications":{"repeatSeconds":604800}})");
    CHECK(after.enabled == true);
    CHECK(after.notifications.repeat_seconds == 604800);
  }
  SECTION("endpointCategories replaces the whole list") {
    auto after = merged(before, R"({"endpointCategories":[
      {"name":"Search","target":300,"warning":500,"critical":1000,"routes":["/api/v1/search*"]},
      {"name":"Streams","target":0,"warning":0,"critical":50,"routes":[]}]})");
    REQUIRE(after.categories.size() == 2);
    CHECK(after.categories[0].name == "Search");
    CHECK(after.categories[0].routes == std::vector<std::string>{"/api/v1/search*"});
    CHECK(after.categories[1].name == "Streams");
    CHECK(after.categories[1].critical == 50);
    check_same(after.response_time, before.response_time);
    CHECK(merged(before, R"({"endpointCategories":[]})").categories.empty());
  }
}

TEST_CASE("alert config PUT rejects malformed bodies and unknown keys", "[alert_config_json]") {
  check_rejected({
    {"", "body"},
    {"{", "body"},
    {"{\"enabled\":true} x", "body"},
    {"[]", "body"},
    {"null", "body"},
    {"\"enabled\"", "body"},
    {R"({"enabld":true})", "enabld"},
    {R"({"thresholds":{"diskUsage":{"warning":1}}})", "thresholds.diskUsage"},
    {R"({"thresholds":{"responseTime":{"warn":1}}})", "thresholds.responseTime.warn"},
    {R"({"notifications":{"slack":"x"}})", "notifications.slack"},
    {R"({"notifications":{"discordUrl":"https://discord.com/api/webhooks/1/x"}})",
     "notifications.discordUrl"},
    {R"({"endpointCategories":[{"name":"A","target":1,"warning":2,"critical":3,"routes":[],"x":1}]})",
     "endpointCategories[0].x"},
  });
}

TEST_CASE("alert config PUT rejects wrong types", "[alert_config_json]") {
  check_rejected({
    {R"({"enabled":"true"})", "enabled"},
    {R"({"enabled":1})", "enabled"},
    {R"({"thresholds":[]})", "thresholds"},
    {R"({"thresholds":{"responseTime":400}})", "thresholds.responseTime"},
    {R"({"thresholds":{"responseTime":{"warning":"400"}}})", "thresholds.responseTime.warning"},
    {R"({"thresholds":{"responseTime":{"critical":null}}})", "thresholds.responseTime.critical"},
    {R"({"thresholds":{"memoryUsage":{"forSeconds":"60"}}})", "thresholds.memoryUsage.forSeconds"},
    {R"({"thresholds":{"queryTime":100}})", "thresholds.queryTime"},
    {R"({"thresholds":{"queryTime":null}})", "thresholds.queryTime"},
    {R"({"thresholds":{"queryTime":{"warning":"100"}}})", "thresholds.queryTime.warning"},
    {R"({"thresholds":{"queryTime":{"critical":true}}})", "thresholds.queryTime.critical"},
    {R"({"thresholds":{"queryTime":{"forSeconds":"60"}}})", "thresholds.queryTime.forSeconds"},
    {R"({"thresholds":{"queryTime":{"slow":1}}})", "thresholds.queryTime.slow"},
    {R"({"notifications":[]})", "notifications"},
    {R"({"notifications":{"email":"admin@medianest.app"}})", "notifications.email"},
    {R"({"notifications":{"email":["admin@medianest.app",42]}})", "notifications.email[1]"},
    {R"({"notifications":{"webhook":true}})", "notifications.webhook"},
    {R"({"notifications":{"discord":1}})", "notifications.discord"},
    {R"({"notifications":{"discord":null}})", "notifications.discord"},
    {R"({"notifications":{"repeatSeconds":"60"}})", "notifications.repeatSeconds"},
    {R"({"endpointCategories":{}})", "endpointCategories"},
    {R"({"endpointCategories":["Search"]})", "endpointCategories[0]"},
  });
}

TEST_CASE("alert config PUT rejects thresholds out of range or order", "[alert_config_json]") {
  check_rejected({
    {R"({"thresholds":{"responseTime":{"warning":-1}}})", "thresholds.responseTime.warning"},
    {R"({"thresholds":{"responseTime":{"warning":1e400}}})", "thresholds.responseTime.warning"},
    {R"({"thresholds":{"responseTime":{"critical":-1e400}}})", "thresholds.responseTime.critical"},
    {R"({"thresholds":{"responseTime":{"warning":900}}})", "thresholds.responseTime.warning"},
    {R"({"thresholds":{"responseTime":{"critical":450}}})", "thresholds.responseTime.critical"},
    {R"({"thresholds":{"responseTime":{"warning":800,"critical":400}}})",
     "thresholds.responseTime.warning"},
    {R"({"thresholds":{"errorRate":{"warning":5,"critical":10}}})", "thresholds.errorRate.warning"},
    {R"({"thresholds":{"errorRate":{"critical":1.5}}})", "thresholds.errorRate.critical"},
    {R"({"thresholds":{"memoryUsage":{"critical":101}}})", "thresholds.memoryUsage.critical"},
    {R"({"thresholds":{"memoryUsage":{"warning":95}}})", "thresholds.memoryUsage.warning"},
    {R"({"thresholds":{"cpuUsage":{"warning":97}}})", "thresholds.cpuUsage.warning"},
    {R"({"thresholds":{"cacheHitRate":{"warning":0.4,"critical":0.6}}})",
     "thresholds.cacheHitRate.warning"},
    {R"({"thresholds":{"cacheHitRate":{"critical":0.8}}})", "thresholds.cacheHitRate.critical"},
    {R"({"thresholds":{"cacheHitRate":{"warning":70,"critical":50}}})",
     "thresholds.cacheHitRate.warning"},
    {R"({"thresholds":{"cpuUsage":{"forSeconds":-1}}})", "thresholds.cpuUsage.forSeconds"},
    {R"({"thresholds":{"cpuUsage":{"forSeconds":86401}}})", "thresholds.cpuUsage.forSeconds"},
    {R"({"thresholds":{"cpuUsage":{"forSeconds":1.5}}})", "thresholds.cpuUsage.forSeconds"},
    {R"({"thresholds":{"queryTime":{"warning":-1}}})", "thresholds.queryTime.warning"},
    {R"({"thresholds":{"queryTime":{"critical":-0.5}}})", "thresholds.queryTime.critical"},
    {R"({"thresholds":{"queryTime":{"warning":1e400}}})", "thresholds.queryTime.warning"},
    {R"({"thresholds":{"queryTime":{"warning":600}}})", "thresholds.queryTime.warning"},
    {R"({"thresholds":{"queryTime":{"warning":700}}})", "thresholds.queryTime.warning"},
    {R"({"thresholds":{"queryTime":{"critical":100}}})", "thresholds.queryTime.critical"},
    {R"({"thresholds":{"queryTime":{"warning":500,"critical":200}}})",
     "thresholds.queryTime.warning"},
    {R"({"thresholds":{"queryTime":{"forSeconds":-1}}})", "thresholds.queryTime.forSeconds"},
    {R"({"thresholds":{"queryTime":{"forSeconds":86401}}})", "thresholds.queryTime.forSeconds"},
    {R"({"thresholds":{"queryTime":{"unit":"percentage"}}})", "thresholds.queryTime.unit"},
    {R"({"thresholds":{"responseTime":{"unit":"s"}}})", "thresholds.responseTime.unit"},
    {R"({"thresholds":{"errorRate":{"unit":"ms"}}})", "thresholds.errorRate.unit"},
    {R"({"thresholds":{"errorRate":{"unit":null}}})", "thresholds.errorRate.unit"},
  });
}

TEST_CASE("alert config PUT rejects bad e-mail lists", "[alert_config_json]") {
  std::string too_long = std::string(250, 'a') + "@b.io";  // 255 characters
  json::array twenty_one;
  for (int i = 0; i < 21; ++i)
    twenty_one.push_back(json::value("ops" + std::to_string(i) + "@medianest.app"));
  auto emails = [](const json::array& list) {
    return to_json(json::object{{"notifications", {{"email", list}}}});
  };
  check_rejected({
    {emails({"ok@medianest.app", "no-at-sign"}), "notifications.email[1]"},
    {emails({"two@@medianest.app"}), "notifications.email[0]"},
    {emails({"a@b@medianest.app"}), "notifications.email[0]"},
    {emails({"@medianest.app"}), "notifications.email[0]"},
    {emails({"admin@localhost"}), "notifications.email[0]"},
    {emails({"admin@.medianest"}), "notifications.email[0]"},
    {emails({"admin@medianest."}), "notifications.email[0]"},
    {emails({"ad min@medianest.app"}), "notifications.email[0]"},
    {emails({"admin@medianest.app\r\nBcc: x@evil.io"}), "notifications.email[0]"},
    {emails({"a@medianest.app,b@evil.io"}), "notifications.email[0]"},
    {emails({""}), "notifications.email[0]"},
    {emails({json::value(too_long)}), "notifications.email[0]"},
    {emails(twenty_one), "notifications.email"},
  });
  CHECK(error_field(custom_config(), emails({json::value(too_long.substr(1))})).empty());
}

TEST_CASE("alert config PUT rejects bad webhook and discord URLs", "[alert_config_json]") {
  auto notify = [](const char* key, const char* url) {
    return to_json(json::object{{"notifications", {{key, url}}}});
  };
  for (const char* key : {"webhook", "discord"}) {
    std::string field = std::string("notifications.") + key;
    check_rejected({
      {notify(key, "javascript:alert(1)"), field},
      {notify(key, "ftp://files.medianest.app/x"), field},
      {notify(key, "https://"), field},
      {notify(key, "https:///services/x"), field},
      {notify(key, "https://user@/x"), field},
      {notify(key, "https://hooks.slack.com/ser vices/x"), field},
      {notify(key, " https://hooks.slack.com/services/x"), field},
      {notify(key, "https://hooks.slack.com:99999/x"), field},
      {notify(key, "hooks.slack.com/services/x"), field},
    });
  }
  check_rejected({{notify("discord", ""), "notifications.discord"}});
  // true needs a configured URL
  CHECK(error_field(alert_config{}, R"({"notifications":{"discord":true}})") ==
        "notifications.discord");
  CHECK(error_field(alert_config{}, R"({"notifications":{"discord":false}})").empty());
}

TEST_CASE("alert config PUT rejects bad endpoint categories", "[alert_config_json]") {
  auto cats = [](const std::string& second) {
    return R"({"endpointCategories":[)"
           R"({"name":"A","target":1,"warning":2,"critical":3,"routes":["/a"]},)" +
           second + "]}";
  };
  check_rejected({
    {cats(R"({"target":1,"warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].name"},
    {cats(R"({"name":"","target":1,"warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].name"},
    {cats(R"({"name":7,"target":1,"warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].name"},
    {cats(R"({"name":"A","target":1,"warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].name"},
    {cats(R"({"name":"B","warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].target"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":3})"), "endpointCategories[1].routes"},
    {cats(R"({"name":"B","target":"1","warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].target"},
    {cats(R"({"name":"B","target":-1,"warning":2,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].target"},
    {cats(R"({"name":"B","target":3,"warning":2,"critical":4,"routes":["/b"]})"),
     "endpointCategories[1].target"},
    {cats(R"({"name":"B","target":1,"warning":3,"critical":3,"routes":["/b"]})"),
     "endpointCategories[1].warning"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":1e400,"routes":["/b"]})"),
     "endpointCategories[1].critical"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":3,"routes":"/b"})"),
     "endpointCategories[1].routes"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":3,"routes":["/b","api/*"]})"),
     "endpointCategories[1].routes[1]"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":3,"routes":[5]})"),
     "endpointCategories[1].routes[0]"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":3,"routes":[""]})"),
     "endpointCategories[1].routes[0]"},
    {cats(R"({"name":"B","target":1,"warning":2,"critical":3,"routes":["/a b"]})"),
     "endpointCategories[1].routes[0]"},
  });
  auto target_at_warning = R"({"name":"B","target":2,"warning":2,"critical":3,"routes":["/b"]})";
  CHECK(error_field(custom_config(), cats(target_at_warning)).empty());
}

TEST_CASE("alert config PUT applies all or nothing", "[alert_config_json]") {
  const auto before = custom_config();
  const auto copy = before;
  for (const char* body : {
         R"({"enabled":true,"thresholds":{"responseTime":{"warning":1,"critical":2}},
             "endpointCategories":[],"notifications":{"webhook":null,"email":["bad"]}})",
         R"({"notifications":{"email":["bad"]},"enabled":true,"endpointCategories":[]})",
         R"({"thresholds":{"responseTime":{"warning":1,"critical":2},"errorRate":{"warning":2}}})",
         R"({"thresholds":{"responseTime":{"warning":1,"critical":2,"unit":"s"}}})",
         R"({"thresholds":{"queryTime":{"warning":1,"critical":2},"cpuUsage":{"warning":99}}})",
         R"({"notifications":{"discord":false,"webhook":"ftp://x.io/y"}})",
       }) {
    INFO(body);
    auto result = merge_alert_config(before, body);
    REQUIRE(std::holds_alternative<api_error>(result));
    CHECK(std::get<api_error>(result).code == errc::validation_error);
    check_same(before, copy);
  }
}

TEST_CASE("alert config storage round trip keeps every field and URLs in clear",
          "[alert_config_json]") {
  SECTION("custom configuration") {
    const auto c = custom_config();
    auto text = alert_config_to_storage(c);
    CHECK(text.find(slack_url) != std::string::npos);
    CHECK(text.find(discord_url) != std::string::npos);
    auto back = alert_config_from_storage(text);
    REQUIRE(back);
    check_same(*back, c);
    CHECK(alert_config_to_storage(*back) == text);
  }
  SECTION("discord off keeps its URL") {
    auto c = custom_config();
    c.notifications.discord = false;
    auto back = alert_config_from_storage(alert_config_to_storage(c));
    REQUIRE(back);
    check_same(*back, c);
  }
  SECTION("defaults") {
    auto back = alert_config_from_storage(alert_config_to_storage(alert_config{}));
    REQUIRE(back);
    check_same(*back, alert_config{});
  }
  SECTION("odd doubles survive") {
    auto c = custom_config();
    c.error_rate.critical = 0.1 + 0.2;
    c.response_time = {123.456789, 1e6, "ms", 86400};
    auto back = alert_config_from_storage(alert_config_to_storage(c));
    REQUIRE(back);
    check_same(*back, c);
  }
  SECTION("garbage is refused") {
    CHECK(!alert_config_from_storage(""));
    CHECK(!alert_config_from_storage("[]"));
    CHECK(!alert_config_from_storage(R"({"enabled":"yes"})"));
    CHECK(!alert_config_from_storage(
      R"({"thresholds":{"errorRate":{"warning":0.5,"critical":0.1}}})"));
  }
}

TEST_CASE("alert config stored before queryTime existed loads with its default",
          "[alert_config_json]") {
  SECTION("a stored custom document without the key") {
    auto doc = json::parse(alert_config_to_storage(custom_config())).as_object();
    REQUIRE(doc.at("thresholds").as_object().erase("queryTime") == 1);
    auto back = alert_config_from_storage(to_json(doc));
    REQUIRE(back);
    check_same(back->query_time, alert_config{}.query_time);
    auto want = custom_config();
    want.query_time = alert_config{}.query_time;
    check_same(*back, want);
    // Stored again, the document has the key.
    auto again = json::parse(alert_config_to_storage(*back)).as_object();
    CHECK(again.at("thresholds").as_object().contains("queryTime"));
  }
  SECTION("a document written by hand in the old five-threshold form") {
    auto back = alert_config_from_storage(R"({"enabled":true,"thresholds":{
      "responseTime":{"warning":450,"critical":900,"unit":"ms","forSeconds":30},
      "errorRate":{"warning":0.05,"critical":0.1,"unit":"percentage","forSeconds":60},
      "memoryUsage":{"warning":80,"critical":90,"unit":"percentage","forSeconds":60},
      "cpuUsage":{"warning":80,"critical":95,"unit":"percentage","forSeconds":60},
      "cacheHitRate":{"warning":0.7,"critical":0.5,"unit":"percentage","forSeconds":60}},
      "notifications":{"email":[],"webhook":"","discord":false,"repeatSeconds":0,
                       "discordUrl":""}})");
    REQUIRE(back);
    CHECK(back->response_time.warning == 450);
    CHECK(back->query_time.warning == 100);
    CHECK(back->query_time.critical == 500);
    CHECK(back->query_time.unit == "ms");
    CHECK(back->query_time.for_seconds == 60);
    auto shown = round_trip(alert_config_to_json(*back)).at("thresholds").as_object();
    check_threshold(shown, "queryTime", 100, 500, "ms");
  }
  SECTION("a stored queryTime is read back") {
    auto c = custom_config();
    c.query_time = {42.5, 1e5, "ms", 86400};
    auto back = alert_config_from_storage(alert_config_to_storage(c));
    REQUIRE(back);
    check_same(back->query_time, c.query_time);
  }
  SECTION("a stored queryTime in the wrong order is refused like the others") {
    CHECK(!alert_config_from_storage(
      R"({"thresholds":{"queryTime":{"warning":500,"critical":100}}})"));
  }
}
