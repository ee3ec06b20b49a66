#include "model/gateway_config.hpp"

#include <charconv>

namespace medianest {

namespace {

bool parse_uint(std::string_view text, uint64_t& out) {
  if (text.empty())
    return false;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

} // namespace

std::optional<upstream_target> parse_upstream_url(std::string_view url, std::string& error) {
  if (url.rfind("https://", 0) == 0) {
    error = "https upstreams are not supported: point --upstream at the backend's plain-HTTP "
            "address (TLS ends in front of the gateway), got '" + std::string{url} + "'";
    return std::nullopt;
  }
  constexpr std::string_view scheme = "http://";
  if (url.rfind(scheme, 0) != 0) {
    error = "expected an http:// URL, got '" + std::string{url} + "'";
    return std::nullopt;
  }
  upstream_target t;
  t.url = std::string{url};
  auto rest = url.substr(scheme.size());
  // The authority ends at the first '/', '?' or '#' (RFC 3986): "http://host?x" carries a query,
  // not a host named "host?x".
  auto slash = rest.find_first_of("/?#");
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos)
    t.base_path = std::string{rest.substr(slash)};
  while (!t.base_path.empty() && t.base_path.back() == '/')
    t.base_path.pop_back();
  if (t.base_path.find_first_of("?#") != std::string::npos) {
    error = "the upstream URL may not carry a query or fragment, got '" + std::string{url} + "'";
    return std::nullopt;
  }
  if (authority.find('@') != std::string_view::npos) {
    error = "the upstream URL may not carry credentials, got '" + std::string{url} + "'";
    return std::nullopt;
  }
  std::string_view host = authority;
  if (!authority.empty() && authority.front() == '[') { // [IPv6]:port
    auto close = authority.find(']');
    if (close == std::string_view::npos) {
      error = "unterminated IPv6 address in '" + std::string{url} + "'";
      return std::nullopt;
    }
    host = authority.substr(1, close - 1);
    authority.remove_prefix(close + 1);
    if (!authority.empty() && authority.front() != ':') {
      error = "unexpected text after the IPv6 address in '" + std::string{url} + "'";
      return std::nullopt;
    }
  } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
    host = authority.substr(0, colon);
    authority.remove_prefix(colon);
  } else {
    authority = {};
  }
  if (!authority.empty()) { // ":port"
    uint64_t port = 0;
    if (!parse_uint(authority.substr(1), port) || port == 0 || port > 65535) {
      error = "bad port in the upstream URL '" + std::string{url} + "'";
      return std::nullopt;
    }
    t.port = static_cast<uint16_t>(port);
  }
  if (host.empty()) {
    error = "the upstream URL has no host: '" + std::string{url} + "'";
    return std::nullopt;
  }
  t.host = std::string{host};
  return t;
}

std::optional<cache_rule> parse_cache_rule(std::string_view text, std::string& error) {
  auto eq = text.rfind('=');
  uint64_t seconds = 0;
  if (eq == std::string_view::npos || eq == 0 || text.front() != '/'
      || !parse_uint(text.substr(eq + 1), seconds) || seconds == 0 || seconds > 86400 * 7) {
    error = "expected ROUTE=SECONDS with a route starting with / and 1 to 604800 seconds, got '"
            + std::string{text} + "'";
    return std::nullopt;
  }
  return cache_rule{std::string{text.substr(0, eq)}, std::chrono::seconds(seconds)};
}

std::string parse_rate_limit(std::string_view text, rate_limit_config& out) {
  auto bad = [&] {
    return "expected REQUESTS/SECONDS[+BURST], e.g. 600/60+100, got '" + std::string{text} + "'";
  };
  auto slash = text.find('/');
  if (slash == std::string_view::npos)
    return bad();
  auto plus = text.find('+', slash);
  uint64_t limit = 0, seconds = 0, burst = 0;
  if (!parse_uint(text.substr(0, slash), limit)
      || !parse_uint(text.substr(slash + 1, plus == std::string_view::npos ? plus : plus - slash - 1),
                     seconds)
      || (plus != std::string_view::npos && !parse_uint(text.substr(plus + 1), burst)))
    return bad();
  if (limit == 0 || limit > 10'000'000 || seconds == 0 || seconds > 86400 || burst > 10'000'000)
    return "requests must be 1 to 10000000 per 1 to 86400 seconds, got '" + std::string{text} + "'";
  out.limit = static_cast<uint32_t>(limit);
  out.window = std::chrono::seconds(seconds);
  out.burst = static_cast<uint32_t>(burst);
  return {};
}

} // namespace medianest
