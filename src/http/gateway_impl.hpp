#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/io_context.hpp>

#include "app/config.hpp"
#include "http/gateway.hpp"
#include "http/shared_value.hpp"
#include "http/upstream_pool.hpp"
#include "model/circuit_breaker.hpp"
#include "model/rate_limiter.hpp"
#include "model/route_latency.hpp"
#include "model/shared_response_cache.hpp"
#include "sources/redis_response_store.hpp"

namespace medianest::http {

/// What every proxied exchange shares: the pool, the cache tiers, the limiter, the breaker,
/// recent latencies and the counters. Every member is safe to use from any asio thread.
struct gateway::impl {
  using clock = std::chrono::steady_clock;
  using ttl_map = std::map<std::string, std::chrono::seconds, std::less<>>;

  /// One upstream pool per HTTP thread (`contexts`); the connection, queue and shedding
  /// limits are split evenly between them (each keeps at least one).
  impl(const std::vector<boost::asio::io_context*>& contexts, gateway_config config,
       uint64_t cache_bytes, std::optional<redis_target> shared_cache);
  ~impl();

  /// Whether a request path goes upstream: everything but the daemon's own API, /health and
  /// /dashboard.
  static bool proxies(std::string_view path) noexcept;

  /// The route's cache TTL now; 0 when it is not cached.
  std::chrono::seconds ttl_for(std::string_view route) const;

  /// Asks the breaker for a pass; when refused, `retry_after` says for how long.
  bool breaker_allows(std::chrono::milliseconds& retry_after);
  void breaker_record(bool ok);
  void breaker_abandon();

  /// Closes the pools (idle connections, waiting exchanges) and stops the shared store's
  /// worker. Called by the server once its threads have stopped, before the io_context goes.
  void shutdown();
  /// Closes every pool (shutdown begins).
  void close_pools();

  gateway_config config;
  /// "host" or "host:port", the Host header sent upstream.
  std::string upstream_host;
  /// Indexed by the HTTP thread (worker) of the client connection.
  std::vector<std::shared_ptr<upstream_pool>> pools;
  size_t shed_queue_per_pool = 1;
  shared_response_cache cache;
  std::unique_ptr<sources::redis_response_store> shared_store;
  sharded_rate_limiter limiter;
  /// Recent latencies per route, one table per HTTP thread: a lock shared by the threads on
  /// every request made the p99 pay for any thread preempted while holding it. Each thread
  /// sheds on what it measured itself (its connections see the same upstream).
  std::unique_ptr<route_latency[]> latency;

  shared_value<ttl_map> ttls;

  /// One block of counters per HTTP thread, each on its own cache line: the request path
  /// never writes a line another thread writes.
  struct alignas(64) counters_block {
    std::atomic<uint64_t> requests{0};
    std::atomic<uint64_t> in_flight{0};
    std::atomic<uint64_t> upstream_errors{0};
    std::atomic<uint64_t> upstream_timeouts{0};
    std::atomic<uint64_t> cache_hits{0};
    std::atomic<uint64_t> cache_misses{0};
    std::atomic<uint64_t> cache_stores{0};
    std::atomic<uint64_t> shed_degraded{0};
    std::atomic<uint64_t> shed_circuit_open{0};
    std::atomic<uint64_t> shed_exhausted{0};
    std::atomic<uint64_t> rate_limited{0};
  };
  std::unique_ptr<counters_block[]> counters;

  /// Relay buffers, recycled per HTTP thread: an exchange borrows one for its life instead of
  /// allocating 32 KiB per request.
  static constexpr size_t piece_bytes = 32 * 1024;
  std::unique_ptr<char[]> take_buffer(size_t worker);
  void give_buffer(size_t worker, std::unique_ptr<char[]> buffer);

private:
  friend class gateway;
  mutable std::mutex breaker_mutex_;
  circuit_breaker breaker_;
  /// The breaker is closed with no failure counted: allow and success need no lock then.
  std::atomic<bool> breaker_quiet_{true};
  /// Whether any route is cached: most deployments have none, and skip the TTL table.
  std::atomic<bool> has_cache_rules_{false};
  std::mutex ttl_write_mutex_;
  struct alignas(64) buffer_pool {
    std::mutex mutex;
    std::vector<std::unique_ptr<char[]>> free;
  };
  std::unique_ptr<buffer_pool[]> buffers_;
};

} // namespace medianest::http
