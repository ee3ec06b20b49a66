#include "sources/notifier.hpp"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <ctime>

#include <boost/json.hpp>

#include "app/version.hpp"
#include "model/base64.hpp"
#include "model/json.hpp"
#include "model/time.hpp"
#include "sources/curl_library.hpp"

namespace medianest::sources {

namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr std::string_view product = "MediaNest Perf";

// -- formatting of an alert -------------------------------------------------------------------

/// A number with at most two decimals, trailing zeros dropped: 1234, 12.5, 0.07.
std::string format_number(double v) {
  if (!std::isfinite(v))
    return "n/a";
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  std::string s = buffer;
  if (s.find('.') != std::string::npos) {
    while (!s.empty() && s.back() == '0')
      s.pop_back();
    if (!s.empty() && s.back() == '.')
      s.pop_back();
  }
  if (s == "-0")
    s = "0";
  return s;
}

/// How the values of one metric are shown.
struct metric_display {
  std::string value;           ///< "1234 ms", "12.5%", "3"
  std::string threshold;       ///< the same with the threshold
  std::string threshold_bare;  ///< as in the summary: "1000" for ms, "10%" for percentages
  const char* op = ">";        ///< the direction in which the metric is bad
};

metric_display display_of(const alert_event& e) {
  const std::string_view metric = e.metric;
  const std::string_view base = metric.substr(0, metric.find(':'));
  metric_display d;
  if (base == "responseTime" || base == "queryTime") {  // ms
    d.value = format_number(e.value) + " ms";
    d.threshold_bare = format_number(e.threshold);
    d.threshold = d.threshold_bare + " ms";
  } else if (base == "errorRate" || base == "cacheHitRate") {  // shares 0-1
    d.value = format_number(e.value * 100) + "%";
    d.threshold = d.threshold_bare = format_number(e.threshold * 100) + "%";
  } else if (base == "memoryUsage" || base == "cpuUsage") {     // percentages 0-100
    d.value = format_number(e.value) + "%";
    d.threshold = d.threshold_bare = format_number(e.threshold) + "%";
  } else {
    d.value = format_number(e.value);
    d.threshold = d.threshold_bare = format_number(e.threshold);
  }
  if (base == "cacheHitRate")
    d.op = "<";
  return d;
}

bool is_resolved(const alert_event& e) {
  return e.state == "resolved";
}

std::string upper(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if (c >= 'a' && c <= 'z')
      c = static_cast<char>(c - 'a' + 'A');
  return out;
}

/// Replaces CR, LF and other control characters (but not tab) with spaces: header values and
/// one-line fields must stay on one line.
std::string one_line(std::string_view s) {
  std::string out(s);
  for (char& c : out)
    if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
      c = ' ';
  return out;
}

/// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence, marking the cut with "…".
std::string truncate_utf8(std::string s, std::size_t max) {
  if (s.size() <= max)
    return s;
  const std::string_view ellipsis = "\xE2\x80\xA6";
  std::size_t n = max >= ellipsis.size() ? max - ellipsis.size() : 0;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80)
    --n;
  s.resize(n);
  if (max >= ellipsis.size())
    s += ellipsis;
  return s;
}

/// The details of an event as (label, value) pairs, shared by every channel.
std::vector<std::pair<std::string, std::string>> detail_fields(const alert_event& e,
                                                               std::string_view instance) {
  const metric_display d = display_of(e);
  std::vector<std::pair<std::string, std::string>> fields{
    {"Metric", one_line(e.metric)},
    {"Value", d.value},
    {"Threshold", std::string(d.op) + " " + d.threshold},
    {"Severity", e.severity},
    {"State", e.state},
    {"Started at", iso8601(e.started_at)},
  };
  if (e.resolved_at)
    fields.emplace_back("Resolved at", iso8601(*e.resolved_at));
  if (!instance.empty())
    fields.emplace_back("Instance", one_line(instance));
  fields.emplace_back("Alert ID", e.id);
  return fields;
}

/// "[MediaNest Perf] <summary>[ on <instance>]"
std::string headline(const alert_event& e, std::string_view instance) {
  std::string s = "[" + std::string(product) + "] " + alert_summary(e);
  if (!instance.empty())
    s += " on " + one_line(instance);
  return s;
}

/// Slack wants &, < and > of message text as entities (they delimit its control sequences).
std::string slack_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr std::uint32_t color_critical = 0xd00000;
constexpr std::uint32_t color_warning = 0xf0a000;
constexpr std::uint32_t color_resolved = 0x2eb886;

std::uint32_t color_of(const alert_event& e) {
  if (is_resolved(e))
    return color_resolved;
  return e.severity == "critical" ? color_critical : color_warning;
}

std::string hex_color(std::uint32_t rgb) {
  char buffer[8];
  std::snprintf(buffer, sizeof buffer, "#%06x", static_cast<unsigned>(rgb & 0xffffff));
  return buffer;
}

// -- e-mail helpers -----------------------------------------------------------------------------

/// An RFC 5322 date-time in UTC, independent of the locale: "Wed, 15 Jan 2025 12:00:00 +0000".
std::string rfc5322_date(std::chrono::system_clock::time_point t) {
  static constexpr const char* days[] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
  static constexpr const char* months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                           "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  const std::time_t seconds = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%s, %02d %s %04d %02d:%02d:%02d +0000", days[tm.tm_wday % 7],
                tm.tm_mday, months[tm.tm_mon % 12], tm.tm_year + 1900, tm.tm_hour, tm.tm_min,
                tm.tm_sec);
  return buffer;
}

bool is_ascii(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; });
}

/// A header value as is when it is ASCII, else as RFC 2047 encoded words of at most 75
/// characters, folded onto continuation lines, never splitting a UTF-8 sequence.
std::string encode_header_value(std::string_view value) {
  if (is_ascii(value))
    return std::string(value);
  std::string out;
  std::size_t pos = 0;
  while (pos < value.size()) {
    std::size_t n = std::min<std::size_t>(45, value.size() - pos);  // 45 bytes → 60 base64 chars
    while (pos + n < value.size() && n > 0 &&
           (static_cast<unsigned char>(value[pos + n]) & 0xC0) == 0x80)
      --n;
    if (n == 0)
      n = std::min<std::size_t>(45, value.size() - pos);
    if (!out.empty())
      out += "\r\n ";
    out += "=?UTF-8?B?" + base64_encode(value.substr(pos, n)) + "?=";
    pos += n;
  }
  return out;
}

/// The bare address of "Name <addr>" or "addr", without surrounding blanks.
std::string bare_address(std::string_view s) {
  const auto open = s.rfind('<');
  if (open != std::string_view::npos) {
    const auto close = s.find('>', open);
    s = s.substr(open + 1, close == std::string_view::npos ? std::string_view::npos
                                                            : close - open - 1);
  }
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return one_line(s);
}

/// The domain for Message-ID: that of the sender when it looks like one.
std::string message_id_domain(std::string_view from) {
  const std::string address = bare_address(from);
  const auto at = address.rfind('@');
  if (at != std::string::npos && at + 1 < address.size()) {
    const std::string domain = address.substr(at + 1);
    const bool plain = std::all_of(domain.begin(), domain.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             c == '.' || c == '-';
    });
    if (plain)
      return domain;
  }
  return "medianest-perf.invalid";
}

std::string id_safe(std::string_view s) {
  std::string out;
  for (char c : s)
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
        c == '-' || c == '_')
      out += c;
  return out.empty() ? std::string("alert") : out;
}

std::uint64_t unique_token() {
  static std::atomic<std::uint64_t> counter{0};
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng() ^ (counter.fetch_add(1, std::memory_order_relaxed) * 0x9E3779B97F4A7C15ull);
}

// -- libcurl ------------------------------------------------------------------------------------

/// A libcurl easy handle and its header lists; libcurl is loaded on first use.
struct easy_handle {
  std::string load_error;
  const curl_library* lib = load_curl(load_error);
  CURL* handle = lib != nullptr ? lib->easy_init() : nullptr;
  curl_slist* list = nullptr;
  curl_slist* list2 = nullptr;
  ~easy_handle() {
    if (lib == nullptr)
      return;
    if (handle)
      lib->easy_cleanup(handle);
    lib->slist_free_all(list);
    lib->slist_free_all(list2);
  }
};

/// True (with `result` filled in) when no easy handle could be had: a missing libcurl is not
/// worth retrying; a failed curl_easy_init is an allocation failure, which is.
bool no_handle(const easy_handle& easy, delivery_result& result) {
  if (easy.handle)
    return false;
  result.retryable = easy.lib != nullptr;
  result.error = easy.lib != nullptr ? "curl_easy_init failed" : easy.load_error;
  return true;
}

/// Keeps the first bytes of a response body (for the error message), swallows the rest.
std::size_t on_body(char* data, std::size_t size, std::size_t count, void* user) {
  auto* out = static_cast<std::string*>(user);
  const std::size_t n = size * count;
  constexpr std::size_t keep = 1024;
  if (out->size() < keep)
    out->append(data, std::min(n, keep - out->size()));
  return n;
}

struct upload_source {
  const std::string* data;
  std::size_t offset = 0;
};

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto* source = static_cast<upload_source*>(user);
  const std::size_t n = std::min(size * count, source->data->size() - source->offset);
  std::copy_n(source->data->data() + source->offset, n, buffer);
  source->offset += n;
  return n;
}

long clamp_ms(milliseconds ms) {
  return static_cast<long>(std::clamp<milliseconds::rep>(ms.count(), 1, 24L * 3600 * 1000));
}

void restrict_protocols(const curl_library& lib, CURL* curl, const char* protocols, long mask) {
#if LIBCURL_VERSION_NUM >= 0x075500  // 7.85.0: CURLOPT_PROTOCOLS_STR
  (void)mask;
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS_STR, protocols);
  lib.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS_STR, protocols);
#else
  (void)protocols;
  lib.easy_setopt(curl, CURLOPT_PROTOCOLS, mask);
  lib.easy_setopt(curl, CURLOPT_REDIR_PROTOCOLS, mask);
#endif
}

/// The message of a failed transfer: libcurl's detailed text when it wrote one.
std::string transport_error(const curl_library& lib, CURLcode code, const char* errbuf) {
  std::string message = errbuf[0] != '\0' ? std::string(errbuf) : lib.easy_strerror(code);
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r'))
    message.pop_back();
  return message;
}

/// Failures that another attempt cannot fix: the configuration is wrong.
bool permanent_transport_error(CURLcode code) {
  switch (code) {
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_BAD_FUNCTION_ARGUMENT:
    case CURLE_LOGIN_DENIED:
      return true;
    default:
      return false;
  }
}

double elapsed_ms(steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(steady_clock::now() - start).count();
}

std::string user_agent() {
  std::string agent;
  agent.reserve(64);
  agent.append("medianest-perf/").append(medianest::version);
  return agent;
}

/// "MediaNest Perf[ · <instance>]"
std::string footer_text(std::string_view instance) {
  std::string footer;
  footer.reserve(product.size() + 4 + instance.size());
  footer.append(product);
  if (!instance.empty())
    footer.append(" \xC2\xB7 ").append(one_line(instance));
  return footer;
}

} // namespace

// -- payloads -----------------------------------------------------------------------------------

std::string alert_summary(const alert_event& e) {
  const metric_display d = display_of(e);
  std::string s = one_line(upper(e.state) + " " + e.severity + ": " + e.metric) + " " + d.value;
  if (is_resolved(e))
    s += " (threshold " + d.threshold + ")";
  else
    s += std::string(" ") + d.op + " " + d.threshold_bare;
  return s;
}

std::string slack_payload(const alert_event& e, std::string_view instance) {
  const std::string text = headline(e, instance);
  json::array fields;
  for (const auto& [title, value] : detail_fields(e, instance)) {
    const bool is_short = title != "Alert ID" && title != "Instance";
    fields.push_back(json::object{
      {"title", title}, {"value", slack_escape(value)}, {"short", is_short}});
  }
  json::object attachment{
    {"color", hex_color(color_of(e))},
    {"fallback", text},
    {"title", slack_escape(alert_summary(e))},
    {"fields", std::move(fields)},
    {"footer", footer_text(instance)},
    {"ts", std::chrono::duration_cast<std::chrono::seconds>(e.at.time_since_epoch()).count()},
  };
  json::object payload{
    {"text", slack_escape(text)},
    {"attachments", json::array{std::move(attachment)}},
  };
  return to_json(payload);
}

std::string discord_payload(const alert_event& e, std::string_view instance) {
  // Discord's limits: content 2000, title 256, description 4096, field name 256, value 1024,
  // footer 2048 characters. Bytes are never fewer than characters, so cutting bytes is safe.
  json::array fields;
  for (const auto& [name, value] : detail_fields(e, instance))
    fields.push_back(json::object{
      {"name", name}, {"value", truncate_utf8(value.empty() ? "-" : value, 1024)}, {"inline", true}});
  std::string description = alert_summary(e);
  if (!instance.empty())
    description += "\nInstance: " + one_line(instance);
  json::object embed{
    {"title", truncate_utf8(one_line(upper(e.state) + " " + e.severity + ": " + e.metric), 256)},
    {"description", truncate_utf8(std::move(description), 4096)},
    {"color", color_of(e)},
    {"fields", std::move(fields)},
    {"timestamp", iso8601(e.at)},
    {"footer", json::object{{"text", truncate_utf8(footer_text(instance), 2048)}}},
  };
  json::object payload{
    {"content", truncate_utf8(headline(e, instance), 2000)},
    {"embeds", json::array{std::move(embed)}},
    {"allowed_mentions", json::object{{"parse", json::array{}}}},
  };
  return to_json(payload);
}

std::string email_message(const alert_event& e, std::string_view instance, std::string_view from,
                          const std::vector<std::string>& to) {
  constexpr std::string_view crlf = "\r\n";
  std::string m;
  m.reserve(1024);
  auto header = [&](std::string_view name, std::string_view value) {
    m.append(name).append(": ").append(value).append(crlf);
  };

  header("From", one_line(from));
  // To: folded onto continuation lines so that no line grows past ~78 characters.
  std::string to_value;
  std::size_t line_length = 4;  // "To: "
  for (std::size_t i = 0; i < to.size(); ++i) {
    const std::string address = one_line(to[i]);
    if (i > 0) {
      to_value += ",";
      if (line_length + address.size() + 2 > 78) {
        to_value += "\r\n ";
        line_length = 1;
      } else {
        to_value += " ";
        line_length += 2;
      }
    }
    to_value += address;
    line_length += address.size();
  }
  header("To", to_value);
  // The metric may hold a category name from the configuration: keep it on one line.
  header("Subject", encode_header_value(one_line("[" + std::string(product) + "] " + alert_summary(e))));
  const auto now = std::chrono::system_clock::now();
  header("Date", rfc5322_date(now));
  char token[24];
  std::snprintf(token, sizeof token, "%016llx", static_cast<unsigned long long>(unique_token()));
  const auto now_ms =
    std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  header("Message-ID", "<" + id_safe(e.id) + "." + id_safe(e.state) + "." + std::to_string(now_ms) +
                         "." + token + "@" + message_id_domain(from) + ">");
  header("MIME-Version", "1.0");
  header("Content-Type", "text/plain; charset=utf-8");
  header("Content-Transfer-Encoding", "8bit");
  header("X-MediaNest-Alert-Id", id_safe(e.id));
  m.append(crlf);

  m.append(headline(e, instance)).append(crlf).append(crlf);
  for (const auto& [label, value] : detail_fields(e, instance)) {
    std::string line = label + ":";
    line.resize(std::max<std::size_t>(line.size() + 1, 14), ' ');
    m.append(line).append(one_line(value)).append(crlf);
  }
  m.append("Event at:     ").append(iso8601(e.at)).append(crlf);
  m.append(crlf).append("-- ").append(crlf);
  m.append("Sent by ").append(product).append(" ").append(medianest::version).append(crlf);
  return m;
}

// -- delivery -----------------------------------------------------------------------------------

delivery_result post_json(const std::string& url, const std::string& body,
                          milliseconds connect_timeout, milliseconds timeout) {
  const auto start = steady_clock::now();
  delivery_result result;
  if (url.empty()) {
    result.error = "no URL configured";
    return result;
  }
  easy_handle easy;
  if (no_handle(easy, result))
    return result;
  CURL* curl = easy.handle;
  const curl_library& lib = *easy.lib;
  char errbuf[CURL_ERROR_SIZE] = {};
  std::string response;
  easy.list = lib.slist_append(easy.list, "Content-Type: application/json");
  easy.list = lib.slist_append(easy.list, "Expect:");  // no 100-continue round trip
  const std::string agent = user_agent();

  lib.easy_setopt(curl, CURLOPT_URL, url.c_str());
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  restrict_protocols(lib, curl, "http,https", CURLPROTO_HTTP | CURLPROTO_HTTPS);
  lib.easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  lib.easy_setopt(curl, CURLOPT_POST, 1L);
  lib.easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  lib.easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  lib.easy_setopt(curl, CURLOPT_HTTPHEADER, easy.list);
  lib.easy_setopt(curl, CURLOPT_USERAGENT, agent.c_str());
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(connect_timeout));
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, clamp_ms(timeout));
  lib.easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  lib.easy_setopt(curl, CURLOPT_WRITEDATA, &response);
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

  const CURLcode code = lib.easy_perform(curl);
  long status = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  result.duration_ms = elapsed_ms(start);

  if (code != CURLE_OK) {
    result.status = status;
    result.retryable = !permanent_transport_error(code);
    result.error = transport_error(lib, code, errbuf);
    return result;
  }
  result.status = status;
  if (status >= 200 && status < 300) {
    result.ok = true;
    return result;
  }
  result.retryable = status == 429 || (status >= 500 && status < 600);
  result.error = "HTTP " + std::to_string(status);
  if (!response.empty())
    result.error += ": " + truncate_utf8(one_line(response), 200);
  return result;
}

delivery_result send_email(const std::string& smtp_url, const std::string& from,
                           const std::vector<std::string>& to, const std::string& message,
                           milliseconds timeout) {
  const auto start = steady_clock::now();
  delivery_result result;
  if (smtp_url.empty()) {
    result.error = "no SMTP URL configured";
    return result;
  }
  if (to.empty()) {
    result.error = "no recipients";
    return result;
  }
  easy_handle easy;
  if (no_handle(easy, result))
    return result;
  CURL* curl = easy.handle;
  const curl_library& lib = *easy.lib;
  char errbuf[CURL_ERROR_SIZE] = {};
  const std::string mail_from = "<" + bare_address(from) + ">";
  for (const std::string& recipient : to)
    easy.list = lib.slist_append(easy.list, ("<" + bare_address(recipient) + ">").c_str());
  upload_source source{&message};

  lib.easy_setopt(curl, CURLOPT_URL, smtp_url.c_str());
  lib.easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  restrict_protocols(lib, curl, "smtp,smtps", CURLPROTO_SMTP | CURLPROTO_SMTPS);
  lib.easy_setopt(curl, CURLOPT_USE_SSL, static_cast<long>(CURLUSESSL_TRY));
  lib.easy_setopt(curl, CURLOPT_MAIL_FROM, mail_from.c_str());
  lib.easy_setopt(curl, CURLOPT_MAIL_RCPT, easy.list);
  lib.easy_setopt(curl, CURLOPT_UPLOAD, 1L);
  lib.easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
  lib.easy_setopt(curl, CURLOPT_READDATA, &source);
  lib.easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(message.size()));
  lib.easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, clamp_ms(timeout));
  lib.easy_setopt(curl, CURLOPT_TIMEOUT_MS, clamp_ms(timeout));
  lib.easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);

  const CURLcode code = lib.easy_perform(curl);
  long status = 0;
  lib.easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  result.duration_ms = elapsed_ms(start);
  result.status = status;
  if (code == CURLE_OK) {
    result.ok = true;
    return result;
  }
  result.error = transport_error(lib, code, errbuf);
  if (status >= 500 && status < 600)
    result.retryable = false;
  else if (status >= 400 && status < 500)
    result.retryable = true;
  else
    result.retryable = !permanent_transport_error(code);
  return result;
}

// -- retry_policy -------------------------------------------------------------------------------

retry_policy::retry_policy(milliseconds base, milliseconds cap, unsigned max_attempts)
    : base_(std::max(base, milliseconds{0})),
      cap_(std::max(cap, std::max(base, milliseconds{0}))),
      max_attempts_(std::max(max_attempts, 1u)) {}

milliseconds retry_policy::max_delay_before(unsigned attempt) const {
  if (attempt <= 1 || base_.count() == 0)
    return milliseconds{0};
  milliseconds::rep delay = base_.count();
  for (unsigned i = 2; i < attempt && delay < cap_.count(); ++i)
    delay *= 2;  // stops at the cap long before it could overflow
  return milliseconds{std::min(delay, cap_.count())};
}

milliseconds retry_policy::delay_before(unsigned attempt, std::mt19937_64& rng) const {
  const milliseconds upper = max_delay_before(attempt);
  if (upper.count() <= 0)
    return milliseconds{0};
  std::uniform_int_distribution<milliseconds::rep> jitter{0, upper.count()};
  return milliseconds{jitter(rng)};
}

bool retry_policy::exhausted(unsigned attempts_made) const {
  return attempts_made >= max_attempts_;
}

} // namespace medianest::sources
