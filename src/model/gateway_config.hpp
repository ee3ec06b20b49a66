#pragma once

// What gateway mode (--upstream) is configured with: plain data, parsed by app/config.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/rate_limiter.hpp"
#include "model/route_template.hpp"

namespace medianest {

/// The proxied HTTP API: http://HOST[:PORT][/BASE-PATH].
struct upstream_target {
  std::string url;       ///< as configured, for logs and /metrics
  std::string host;
  uint16_t port = 80;
  std::string base_path; ///< "" or "/prefix" (no trailing slash), put before every request path
};

/// Parses an --upstream value; nullopt and `error` set when it is not understood.
/// Only plain http:// is accepted: TLS to the backend is not implemented.
std::optional<upstream_target> parse_upstream_url(std::string_view url, std::string& error);

/// Cache GET responses of one route template for `ttl` (an upstream max-age may shorten it).
struct cache_rule {
  std::string route; ///< a route template as the gateway folds it, e.g. "/api/v1/media/:id"
  std::chrono::seconds ttl{0};
};

/// Parses ROUTE=SECONDS (a --cache-route value); nullopt and `error` set when malformed.
std::optional<cache_rule> parse_cache_rule(std::string_view text, std::string& error);

/// Parses REQUESTS/SECONDS[+BURST] (a --rate-limit value) into `out`; returns the error or "".
std::string parse_rate_limit(std::string_view text, rate_limit_config& out);

struct gateway_config {
  upstream_target upstream;
  /// Pooled keep-alive connections to the upstream, at most.
  size_t max_connections = 64;
  /// Requests waiting for a pooled connection before new ones get 503 RESOURCE_EXHAUSTED.
  size_t max_queue = 1024;
  /// Waiting requests from which a route whose p95 is over `shed_p95_ms` is shed.
  size_t shed_queue = 32;
  /// The p95 (ms) over which a route is shed while the queue is long: response_time's
  /// critical threshold.
  double shed_p95_ms = 1000;
  std::chrono::milliseconds connect_timeout{3'000};
  /// Longest an exchange may make no progress (no header, no body bytes either way): then 504,
  /// or the connection is closed once the response has started.
  std::chrono::milliseconds response_timeout{30'000};
  /// Explicit route templates, tried before identifier folding.
  std::vector<route_pattern> templates;
  /// Cached routes; empty: the response cache is off until an optimization sets a TTL.
  std::vector<cache_rule> cache_rules;
  /// Per-client limits; limit 0 (the default) turns rate limiting off.
  rate_limit_config rate;
  unsigned breaker_threshold = 5;
  std::chrono::milliseconds breaker_cool_down{10'000};
};

} // namespace medianest
