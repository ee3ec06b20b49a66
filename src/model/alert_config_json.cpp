#include "model/alert_config_json.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <limits>
#include <utility>
#include <vector>

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "model/http_text.hpp"
#include "model/json.hpp"

namespace medianest {

namespace {

namespace json = boost::json;

/// The outcome of validating and applying one part of a document: nothing, or the error.
using failure = std::optional<api_error>;

enum class mode { request, storage };

constexpr double unbounded = std::numeric_limits<double>::max();
constexpr std::size_t max_emails = 20;
constexpr std::size_t max_email_length = 254;
constexpr int64_t max_for_seconds = 86'400;
constexpr int64_t max_repeat_seconds = 604'800;

/// One threshold of the document: wire name, member, fixed unit, upper bound, direction.
struct threshold_spec {
  std::string_view key;
  alert_threshold alert_config::*member;
  std::string_view unit;
  double max;
  bool lower_is_worse;
};

constexpr threshold_spec threshold_specs[] = {
  {"responseTime", &alert_config::response_time, "ms", unbounded, false},
  {"errorRate", &alert_config::error_rate, "percentage", 1, false},
  {"memoryUsage", &alert_config::memory_usage, "percentage", 100, false},
  {"cpuUsage", &alert_config::cpu_usage, "percentage", 100, false},
  {"cacheHitRate", &alert_config::cache_hit_rate, "percentage", 1, true},
  {"queryTime", &alert_config::query_time, "ms", unbounded, false},
};

const threshold_spec* find_threshold(std::string_view key) {
  for (const auto& spec : threshold_specs)
    if (spec.key == key)
      return &spec;
  return nullptr;
}

std::string join(std::string_view path, std::string_view key) {
  std::string out(path);
  out += '.';
  out += key;
  return out;
}

std::string at_index(std::string_view path, std::size_t i) {
  return fmt::format("{}[{}]", path, i);
}

// ---- URLs and e-mail addresses -------------------------------------------------------------

bool is_space_or_control(unsigned char c) {
  return c <= 0x20 || c == 0x7f;
}

bool has_space_or_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return is_space_or_control(c); });
}

bool is_alnum(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0;
}

/// A port: 1 to 5 digits, at most 65535.
bool valid_port(std::string_view port) {
  if (port.empty() || port.size() > 5)
    return false;
  if (!std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return false;
  return std::stoul(std::string(port)) <= 65535;
}

/// host[:port] with host a name/IPv4 address ([A-Za-z0-9.-_]) or a bracketed IPv6 literal.
bool valid_authority(std::string_view a) {
  std::string_view host = a;
  std::string_view tail;
  if (!a.empty() && a.front() == '[') {
    auto close = a.find(']');
    if (close == std::string_view::npos || close < 3)
      return false;
    host = a.substr(1, close - 1);
    tail = a.substr(close + 1);
    auto ipv6_char = [](char c) {
      return std::isxdigit(static_cast<unsigned char>(c)) || c == ':' || c == '.';
    };
    if (!std::all_of(host.begin(), host.end(), ipv6_char))
      return false;
  } else {
    auto colon = a.find(':');
    host = a.substr(0, colon);
    tail = colon == std::string_view::npos ? std::string_view{} : a.substr(colon);
    if (host.empty() || host.front() == '.' || host.front() == '-')
      return false;
    if (!std::all_of(host.begin(), host.end(),
                     [](char c) { return is_alnum(c) || c == '.' || c == '-' || c == '_'; }))
      return false;
  }
  return tail.empty() || (tail.front() == ':' && valid_port(tail.substr(1)));
}

/// The parts of an http(s) URL that validation and masking need.
struct url_parts {
  std::string_view scheme;     ///< as written
  std::string_view authority;  ///< host[:port], without userinfo
  std::string_view rest;       ///< path, query and fragment; may be empty
};

/// Splits an http:// or https:// URL with a host; nullopt for anything else.
std::optional<url_parts> parse_http_url(std::string_view url) {
  if (has_space_or_control(url))
    return std::nullopt;
  auto split = split_http_url(url);
  if (!split)
    return std::nullopt;
  auto authority = split->authority;
  if (auto at = authority.rfind('@'); at != std::string_view::npos)
    authority = authority.substr(at + 1);
  if (!valid_authority(authority))
    return std::nullopt;
  return url_parts{split->scheme, authority, split->rest};
}

/// A pragmatic address check: one '@', a non-empty local part, a dotted domain, no spaces,
/// control characters or the header/list separators that could smuggle in more recipients.
bool valid_email(std::string_view s) {
  if (s.empty() || s.size() > max_email_length || has_space_or_control(s))
    return false;
  if (s.find_first_of("()<>[]:;,\\\"") != std::string_view::npos)
    return false;
  auto at = s.find('@');
  if (at == 0 || at == std::string_view::npos || s.find('@', at + 1) != std::string_view::npos)
    return false;
  auto domain = s.substr(at + 1);
  return domain.find('.') != std::string_view::npos && domain.front() != '.' &&
         domain.back() != '.' && domain.find("..") == std::string_view::npos;
}

// ---- Value readers: each validates one JSON value and stores it on success ------------------

api_error unknown_field(const std::string& path) {
  return validation_error(path, "unknown field '" + path + "'");
}

api_error must_be(const std::string& path, std::string_view what) {
  return validation_error(path, fmt::format("{} must be {}", path, what));
}

std::optional<double> as_double(const json::value& v) {
  if (auto p = v.if_double())
    return *p;
  if (auto p = v.if_int64())
    return static_cast<double>(*p);
  if (auto p = v.if_uint64())
    return static_cast<double>(*p);
  return std::nullopt;
}

/// An integral number (integral doubles such as 60.0 included) that fits an int64.
std::optional<int64_t> as_integer(const json::value& v) {
  if (auto p = v.if_int64())
    return *p;
  constexpr auto int64_max = static_cast<uint64_t>(std::numeric_limits<int64_t>::max());
  if (auto p = v.if_uint64(); p && *p <= int64_max)
    return static_cast<int64_t>(*p);
  auto p = v.if_double();
  if (p && std::isfinite(*p) && std::trunc(*p) == *p && std::fabs(*p) < 9e15)
    return static_cast<int64_t>(*p);
  return std::nullopt;
}

/// A finite number in [0, max].
failure read_number(const json::value& v, const std::string& path, double max, double& out) {
  auto d = as_double(v);
  if (!d)
    return must_be(path, "a number");
  if (!std::isfinite(*d))
    return must_be(path, "a finite number");
  if (*d < 0)
    return must_be(path, "zero or more");
  if (*d > max)
    return must_be(path, max == 1 ? "a fraction between 0 and 1 (0.05 is 5%)"
                                  : fmt::format("between 0 and {}", max));
  out = *d == 0 ? 0.0 : *d;  // no "-0" on the wire
  return std::nullopt;
}

/// An integer in [0, max].
failure read_integer(const json::value& v, const std::string& path, int64_t max, int64_t& out) {
  auto i = as_integer(v);
  if (!i || *i < 0 || *i > max)
    return must_be(path, fmt::format("a whole number between 0 and {}", max));
  out = *i;
  return std::nullopt;
}

failure read_bool(const json::value& v, const std::string& path, bool& out) {
  auto b = v.if_bool();
  if (!b)
    return must_be(path, "true or false");
  out = *b;
  return std::nullopt;
}

/// An http(s) URL, or "" / null for none.
failure read_optional_url(const json::value& v, const std::string& path, std::string& out) {
  if (v.is_null()) {
    out.clear();
    return std::nullopt;
  }
  auto s = v.if_string();
  if (!s)
    return must_be(path, "a URL, \"\" or null");
  if (!s->empty() && !parse_http_url(*s))
    return must_be(path, "an http:// or https:// URL with a host");
  out = std::string(*s);
  return std::nullopt;
}

// ---- Thresholds -----------------------------------------------------------------------------

failure check_unit(const json::value& v, const std::string& path, std::string_view unit) {
  auto s = v.if_string();
  if (!s || *s != unit)
    return validation_error(path,
                            fmt::format("{} is always \"{}\" and cannot be changed", path, unit));
  return std::nullopt;
}

/// Warning must come before critical in the direction of "worse".
failure check_order(const alert_threshold& t, const threshold_spec& spec, const std::string& path,
                    bool warning_given) {
  bool ok = spec.lower_is_worse ? t.warning > t.critical : t.warning < t.critical;
  if (ok)
    return std::nullopt;
  return validation_error(join(path, warning_given ? "warning" : "critical"),
                          fmt::format("{}: warning ({}) must be {} than critical ({})", path,
                                      t.warning, spec.lower_is_worse ? "greater" : "less",
                                      t.critical));
}

failure apply_threshold(const json::value& v, const threshold_spec& spec, alert_threshold& t) {
  auto path = join("thresholds", spec.key);
  auto obj = v.if_object();
  if (!obj)
    return must_be(path, "an object");
  for (const auto& [key, value] : *obj) {
    auto field = join(path, key);
    failure err;
    if (key == "warning")
      err = read_number(value, field, spec.max, t.warning);
    else if (key == "critical")
      err = read_number(value, field, spec.max, t.critical);
    else if (key == "unit")
      err = check_unit(value, field, spec.unit);
    else if (key == "forSeconds")
      err = read_integer(value, field, max_for_seconds, t.for_seconds);
    else
      err = unknown_field(field);
    if (err)
      return err;
  }
  return check_order(t, spec, path, obj->contains("warning"));
}

failure apply_thresholds(const json::value& v, alert_config& c) {
  auto obj = v.if_object();
  if (!obj)
    return must_be("thresholds", "an object");
  for (const auto& [key, value] : *obj) {
    const auto* spec = find_threshold(key);
    if (!spec)
      return unknown_field(join("thresholds", key));
    if (auto err = apply_threshold(value, *spec, c.*(spec->member)))
      return err;
  }
  return std::nullopt;
}

// ---- Endpoint categories --------------------------------------------------------------------

failure read_routes(const json::value& v, const std::string& path, std::vector<std::string>& out) {
  auto arr = v.if_array();
  if (!arr)
    return must_be(path, "a list of route patterns");
  std::vector<std::string> routes;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto s = (*arr)[i].if_string();
    if (!s || s->empty() || s->front() != '/' || has_space_or_control(*s))
      return must_be(at_index(path, i), "a route pattern starting with '/'");
    routes.emplace_back(*s);
  }
  out = std::move(routes);
  return std::nullopt;
}

failure read_name(const json::value& v, const std::string& path, std::string& out) {
  auto s = v.if_string();
  if (!s || s->empty())
    return must_be(path, "a non-empty string");
  out = std::string(*s);
  return std::nullopt;
}

failure check_category(const json::object& obj, const endpoint_category& cat,
                       const std::string& path) {
  for (std::string_view key : {"name", "target", "warning", "critical", "routes"})
    if (!obj.contains(key))
      return validation_error(join(path, key), join(path, key) + " is required");
  if (cat.target > cat.warning)
    return validation_error(join(path, "target"), path + ": target must not exceed warning");
  if (cat.warning >= cat.critical)
    return validation_error(join(path, "warning"), path + ": warning must be less than critical");
  return std::nullopt;
}

failure read_category(const json::value& v, const std::string& path, endpoint_category& cat) {
  auto obj = v.if_object();
  if (!obj)
    return must_be(path, "an object");
  for (const auto& [key, value] : *obj) {
    auto field = join(path, key);
    failure err;
    if (key == "name")
      err = read_name(value, field, cat.name);
    else if (key == "target")
      err = read_number(value, field, unbounded, cat.target);
    else if (key == "warning")
      err = read_number(value, field, unbounded, cat.warning);
    else if (key == "critical")
      err = read_number(value, field, unbounded, cat.critical);
    else if (key == "routes")
      err = read_routes(value, field, cat.routes);
    else
      err = unknown_field(field);
    if (err)
      return err;
  }
  return check_category(*obj, cat, path);
}

/// The list replaces the configured one as a whole; names must be unique (case-sensitive).
failure apply_categories(const json::value& v, alert_config& c) {
  const std::string path = "endpointCategories";
  auto arr = v.if_array();
  if (!arr)
    return must_be(path, "a list of categories");
  std::vector<endpoint_category> list;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    endpoint_category cat;
    if (auto err = read_category((*arr)[i], at_index(path, i), cat))
      return err;
    auto same = [&](const endpoint_category& o) { return o.name == cat.name; };
    if (std::any_of(list.begin(), list.end(), same))
      return validation_error(join(at_index(path, i), "name"),
                              "category '" + cat.name + "' is given twice");
    list.push_back(std::move(cat));
  }
  c.categories = std::move(list);
  return std::nullopt;
}

// ---- Notifications --------------------------------------------------------------------------

failure read_emails(const json::value& v, std::vector<std::string>& out) {
  const std::string path = "notifications.email";
  auto arr = v.if_array();
  if (!arr)
    return must_be(path, "a list of e-mail addresses");
  if (arr->size() > max_emails)
    return validation_error(path, fmt::format("{} holds at most {} addresses", path, max_emails));
  std::vector<std::string> list;
  for (std::size_t i = 0; i < arr->size(); ++i) {
    auto s = (*arr)[i].if_string();
    if (!s || !valid_email(*s))
      return must_be(at_index(path, i), "a valid e-mail address");
    list.emplace_back(*s);
  }
  out = std::move(list);
  return std::nullopt;
}

/// true/false switches Discord on or off with the configured URL; a URL switches it on with it.
failure read_discord(const json::value& v, alert_notifications& n) {
  const std::string path = "notifications.discord";
  if (auto b = v.if_bool()) {
    n.discord = *b;
    return std::nullopt;
  }
  auto s = v.if_string();
  if (!s)
    return must_be(path, "true, false or a Discord webhook URL");
  if (!parse_http_url(*s))
    return must_be(path, "an http:// or https:// URL with a host");
  n.discord = true;
  n.discord_url = std::string(*s);
  return std::nullopt;
}

failure read_notification(std::string_view key, const json::value& value, alert_notifications& n,
                          mode m) {
  auto field = join("notifications", key);
  if (key == "email")
    return read_emails(value, n.email);
  if (key == "webhook")
    return read_optional_url(value, field, n.webhook);
  if (key == "discord")
    return read_discord(value, n);
  if (key == "repeatSeconds")
    return read_integer(value, field, max_repeat_seconds, n.repeat_seconds);
  if (key == "discordUrl" && m == mode::storage)
    return read_optional_url(value, field, n.discord_url);
  return unknown_field(field);
}

failure apply_notifications(const json::value& v, alert_notifications& n, mode m) {
  auto obj = v.if_object();
  if (!obj)
    return must_be("notifications", "an object");
  for (const auto& [key, value] : *obj)
    if (auto err = read_notification(key, value, n, m))
      return err;
  if (obj->contains("discord") && n.discord && n.discord_url.empty())
    return validation_error("notifications.discord",
                            "no Discord webhook URL is configured: give the URL instead of true");
  return std::nullopt;
}

// ---- The document ---------------------------------------------------------------------------

failure apply_document(const json::value& doc, alert_config& c, mode m) {
  auto obj = doc.if_object();
  if (!obj)
    return validation_error("body", "the body must be a JSON object");
  for (const auto& [key, value] : *obj) {
    failure err;
    if (key == "enabled")
      err = read_bool(value, "enabled", c.enabled);
    else if (key == "thresholds")
      err = apply_thresholds(value, c);
    else if (key == "endpointCategories")
      err = apply_categories(value, c);
    else if (key == "notifications")
      err = apply_notifications(value, c.notifications, m);
    else
      err = unknown_field(std::string(key));
    if (err)
      return err;
  }
  return std::nullopt;
}

json::object threshold_json(const alert_threshold& t) {
  return {{"warning", t.warning},
          {"critical", t.critical},
          {"unit", t.unit},
          {"forSeconds", t.for_seconds}};
}

json::array categories_json(const std::vector<endpoint_category>& categories) {
  json::array out;
  for (const auto& cat : categories) {
    json::array routes(cat.routes.begin(), cat.routes.end());
    out.push_back({{"name", cat.name},
                   {"target", cat.target},
                   {"warning", cat.warning},
                   {"critical", cat.critical},
                   {"routes", std::move(routes)}});
  }
  return out;
}

json::object notifications_json(const alert_notifications& n, mode m) {
  json::object out{{"email", json::array(n.email.begin(), n.email.end())},
                   {"webhook", m == mode::storage ? n.webhook : mask_webhook_url(n.webhook)},
                   {"discord", n.discord},
                   {"repeatSeconds", n.repeat_seconds}};
  if (m == mode::storage)
    out["discordUrl"] = n.discord_url;
  return out;
}

json::object document_json(const alert_config& c, mode m) {
  json::object thresholds;
  for (const auto& spec : threshold_specs)
    thresholds[spec.key] = threshold_json(c.*(spec.member));
  return {{"enabled", c.enabled},
          {"thresholds", std::move(thresholds)},
          {"endpointCategories", categories_json(c.categories)},
          {"notifications", notifications_json(c.notifications, m)}};
}

} // namespace

std::string mask_webhook_url(std::string_view url) {
  if (url.empty())
    return {};
  auto parts = parse_http_url(url);
  if (!parts)
    return "...";
  std::string out = fmt::format("{}://{}", parts->scheme, parts->authority);
  auto path = parts->rest.substr(0, parts->rest.find_first_of("?#"));
  auto second_slash = path.size() > 1 ? path.find('/', 1) : std::string_view::npos;
  if (second_slash != std::string_view::npos && second_slash > 1)
    out += path.substr(0, second_slash);
  out += "/...";
  return out;
}

boost::json::object alert_config_to_json(const alert_config& c) {
  return document_json(c, mode::request);
}

std::variant<alert_config, api_error> merge_alert_config(const alert_config& current,
                                                         std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec)
    return validation_error("body", "the body is not valid JSON: " + ec.message());
  alert_config next = current;
  if (auto err = apply_document(doc, next, mode::request))
    return std::move(*err);
  return next;
}

std::string alert_config_to_storage(const alert_config& c) {
  return to_json(document_json(c, mode::storage));
}

std::optional<alert_config> alert_config_from_storage(std::string_view text) {
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  if (ec)
    return std::nullopt;
  alert_config c;
  if (apply_document(doc, c, mode::storage))
    return std::nullopt;
  return c;
}

} // namespace medianest
