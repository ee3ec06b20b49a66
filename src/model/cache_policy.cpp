#include "model/cache_policy.hpp"

#include "model/http_text.hpp"
#include "model/sha256.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace medianest {

namespace {

/// Calls `f(name, value)` for each comma-separated directive; quoted values keep their commas.
template <class F>
void for_each_directive(std::string_view value, F&& f) {
  size_t pos = 0;
  while (pos < value.size()) {
    size_t end = pos;
    bool quoted = false;
    while (end < value.size() && (quoted || value[end] != ',')) {
      if (value[end] == '"')
        quoted = !quoted;
      ++end;
    }
    auto item = trim_ows(value.substr(pos, end - pos));
    auto eq = item.find('=');
    auto name = trim_ows(item.substr(0, eq));
    auto arg = eq == std::string_view::npos ? std::string_view{} : trim_ows(item.substr(eq + 1));
    if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"')
      arg = arg.substr(1, arg.size() - 2);
    if (!name.empty())
      f(name, arg);
    pos = end + 1;
  }
}

int64_t seconds_of(std::string_view arg) {
  int64_t n = 0;
  auto [end, ec] = std::from_chars(arg.data(), arg.data() + arg.size(), n);
  if (ec == std::errc::result_out_of_range)
    return INT64_MAX;
  return ec == std::errc{} && end == arg.data() + arg.size() && n > 0 ? n : 0;
}

bool contains_token(std::string_view list, std::string_view token) {
  bool found = false;
  for_each_directive(list, [&](std::string_view name, std::string_view) {
    found = found || iequals_ascii(name, token);
  });
  return found;
}

} // namespace

cache_control parse_cache_control(std::string_view value) {
  cache_control cc;
  for_each_directive(value, [&](std::string_view name, std::string_view arg) {
    if (iequals_ascii(name, "no-store"))
      cc.no_store = true;
    else if (iequals_ascii(name, "no-cache"))
      cc.no_cache = true;
    else if (iequals_ascii(name, "private"))
      cc.is_private = true;
    else if (iequals_ascii(name, "public"))
      cc.is_public = true;
    else if (iequals_ascii(name, "max-age"))
      cc.max_age = seconds_of(arg);
    else if (iequals_ascii(name, "s-maxage"))
      cc.s_maxage = seconds_of(arg);
  });
  return cc;
}

store_decision decide_store(const response_traits& response, std::chrono::seconds route_ttl) {
  store_decision d;
  if (response.status != 200 || route_ttl.count() <= 0 || response.sets_cookie)
    return d;
  auto cc = parse_cache_control(response.cache_control);
  if (cc.no_store || cc.no_cache || cc.is_private)
    return d;
  bool varies = false;
  for_each_directive(response.vary, [&](std::string_view name, std::string_view) {
    varies = varies || !iequals_ascii(name, "Accept-Encoding");
  });
  if (varies)
    return d;
  auto ttl = route_ttl;
  if (auto limit = cc.s_maxage ? cc.s_maxage : cc.max_age)
    ttl = std::min(ttl, std::chrono::seconds(*limit));
  if (ttl.count() <= 0)
    return d;
  d.store = true;
  d.shared = cc.is_public;
  d.ttl = ttl;
  return d;
}

bool request_bypasses_cache(std::string_view cache_control, std::string_view pragma) {
  auto cc = parse_cache_control(cache_control);
  return cc.no_cache || cc.no_store || contains_token(pragma, "no-cache");
}

std::string_view request_credential(std::string_view authorization, std::string_view cookie) {
  return authorization.empty() ? cookie : authorization;
}

std::string cache_key(std::string_view method, std::string_view target,
                      std::string_view accept_encoding, std::string_view credential, bool shared) {
  std::string key;
  key.reserve(method.size() + target.size() + accept_encoding.size() + 72);
  key.append(method).append(" ").append(target).append(" ae=").append(accept_encoding);
  if (shared) {
    key.append(" shared");
    return key;
  }
  const auto digest = sha256_of(credential);
  static constexpr char hex[] = "0123456789abcdef";
  key.append(" user=");
  for (auto byte : digest) {
    key.push_back(hex[byte >> 4]);
    key.push_back(hex[byte & 15]);
  }
  return key;
}

} // namespace medianest
