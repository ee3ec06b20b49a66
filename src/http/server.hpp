#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <system_error>

#include "app/config.hpp"
#include "http/types.hpp"
#include "model/gateway_config.hpp"
#include "model/rate_limiter.hpp"
#include "model/request_record.hpp"

namespace spdlog {
class logger;
}

namespace medianest::http {

class router;
class jwt_verifier;
class gateway;
class live_feed;
struct live_feed_config;

/// Limits and timeouts of the HTTP server.
struct server_config {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;
  unsigned threads = 2;
  size_t max_connections = 1024;
  size_t body_limit = 1 << 20;
  size_t header_limit = 16 << 10;
  /// Time a client has to send a whole request once its first byte arrived (slowloris).
  std::chrono::milliseconds header_timeout{10'000};
  /// Time a keep-alive connection may sit idle between requests.
  std::chrono::milliseconds idle_timeout{60'000};
  /// Time in-flight requests get to finish on shutdown.
  std::chrono::milliseconds shutdown_grace{5'000};
  /// Failed authentications per client address (--auth-fail-limit): `limit` failures per
  /// `window` lock the address out for `lockout` (429 RATE_LIMITED); limit 0 turns it off.
  rate_limit_config auth_failures{10, std::chrono::seconds{60}, 0, 50'000, std::chrono::seconds{60}};
};

/// Called on an asio thread after each response has been written; must not block.
using request_observer = std::function<void(const request_record&)>;

/// The Beast HTTP server: an acceptor and a pool of asio threads. Beast stays out of this
/// header so that only the http/ sources pay for it.
class http_server {
public:
  http_server(server_config cfg, std::shared_ptr<const router> routes,
              std::shared_ptr<const jwt_verifier> verifier,
              std::shared_ptr<spdlog::logger> access_log);
  ~http_server();

  http_server(const http_server&) = delete;
  http_server& operator=(const http_server&) = delete;

  /// Binds and listens; returns the bound port (useful with port 0) or the bind error.
  uint16_t listen(std::error_code& ec);

  /// Sets the observer that receives one event per finished request. Call before run().
  void on_request(request_observer observer);

  /// Gateway mode: every request outside the daemon's own paths is proxied to
  /// `cfg.upstream`. `cache_bytes` bounds the local response cache; with `shared_cache`,
  /// cached responses are also shared through that Redis. Call before run().
  std::shared_ptr<gateway> enable_gateway(gateway_config cfg, uint64_t cache_bytes,
                                          std::optional<redis_target> shared_cache);

  /// Serves WebSocket upgrades of `path` as the live feed (docs/live.md). Call before run().
  std::shared_ptr<live_feed> enable_live_feed(std::string path, live_feed_config cfg);

  /// The gateway, when enable_gateway() was called; nullptr otherwise.
  std::shared_ptr<gateway> gateway_handle() const;

  /// Runs the pool (the calling thread included) until shutdown completes. SIGINT and
  /// SIGTERM start a graceful shutdown.
  void run();

  /// Stops accepting, lets in-flight requests finish (up to the grace period), closes idle
  /// connections, then makes run() return. Thread-safe, idempotent.
  void shutdown();

  /// Open HTTP connections right now.
  size_t active_connections() const noexcept;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace medianest::http
