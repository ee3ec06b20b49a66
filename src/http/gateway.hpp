#pragma once

// Gateway mode (--upstream): the reverse proxy's shared state, seen from outside the HTTP
// layer. Beast stays out of this header; http/gateway_impl.hpp holds the internals.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "model/cache_strategy.hpp"
#include "model/gateway_config.hpp"
#include "model/metrics.hpp"
#include "model/response_cache.hpp"

namespace medianest::http {

class gateway {
public:
  struct impl;

  explicit gateway(std::unique_ptr<impl> internals);
  ~gateway();
  gateway(const gateway&) = delete;
  gateway& operator=(const gateway&) = delete;

  /// Counters since start, the pool and the breaker right now. Thread-safe.
  gateway_sample stats() const;

  /// The local response cache's counters (the cache collector's fallback source).
  cache_counters cache_stats() const;

  /// Caches GET responses of a route template for `ttl` from now on; 0 stops caching it.
  /// Thread-safe (the optimization supervisor calls it).
  void set_cache_ttl(const std::string& route, std::chrono::seconds ttl);

  /// The routes cached now and their TTLs.
  std::vector<cache_rule> cache_rules() const;

  /// Every route's upstream GET traffic since start, summed over the HTTP threads.
  std::vector<route_usage> usage_by_route() const;

  /// Drops the local cache's expired entries; returns how many.
  size_t purge_expired_cache();
  /// Empties the local cache; returns the bytes it held. (A shared Redis tier is left alone:
  /// other daemons use it.)
  uint64_t clear_cache();
  /// Changes the local cache's byte budget.
  void resize_cache(uint64_t capacity_bytes);

  impl& internals() noexcept {
    return *impl_;
  }

private:
  std::unique_ptr<impl> impl_;
};

} // namespace medianest::http
