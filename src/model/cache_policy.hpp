#pragma once

// The gateway response cache's rules, apart from any I/O: what Cache-Control allows, for how
// long, and under which key, so that one user's response is never served to another.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace medianest {

/// The directives of a Cache-Control header that the gateway acts on.
struct cache_control {
  bool no_store = false;
  bool no_cache = false;
  bool is_private = false;
  bool is_public = false;
  std::optional<int64_t> max_age;
  std::optional<int64_t> s_maxage;
};

/// Parses a Cache-Control value (case-insensitive directives, quoted values, unknown ones
/// ignored). A malformed max-age is treated as 0, as RFC 9111 asks.
cache_control parse_cache_control(std::string_view value);

/// What the upstream said about one response, as far as caching goes.
struct response_traits {
  unsigned status = 200;
  std::string_view cache_control;
  std::string_view vary;
  bool sets_cookie = false;
};

/// Whether and how to store a response of a route cached for `route_ttl`.
struct store_decision {
  bool store = false;
  /// Stored under the shared key (served to everyone): only when the upstream said `public`.
  bool shared = false;
  std::chrono::seconds ttl{0};
};

/// Stores 200 responses unless they are `no-store`, `private`, set a cookie, vary on anything
/// but Accept-Encoding, or carry `no-cache` / a zero max-age. The TTL is the route's, shortened
/// by s-maxage or max-age.
store_decision decide_store(const response_traits& response, std::chrono::seconds route_ttl);

/// Whether a request asked not to be answered from a cache (Cache-Control no-cache/no-store,
/// or Pragma: no-cache).
bool request_bypasses_cache(std::string_view cache_control, std::string_view pragma);

/// The identity a private entry is keyed by: the Authorization header, else the Cookie header
/// (empty for an anonymous request).
std::string_view request_credential(std::string_view authorization, std::string_view cookie);

/// The key of a cached response: method, target and Accept-Encoding, plus a SHA-256 digest of
/// the credential for a private entry (`shared` false). The credential itself never appears.
std::string cache_key(std::string_view method, std::string_view target,
                      std::string_view accept_encoding, std::string_view credential, bool shared);

} // namespace medianest
