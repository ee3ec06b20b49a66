#pragma once

// The cache_strategy optimization's decisions as plain arithmetic: which upstream GET routes
// get a response-cache TTL (or a longer one) and whether the response cache should grow. The
// worker gathers the inputs and applies the plan; docs/optimization.md lists the rules.

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/gateway_config.hpp"
#include "model/response_cache.hpp"

namespace medianest {

/// What the gateway saw of one route template's GET requests that went upstream (answers
/// from the cache are not among them).
struct route_usage {
  std::string route;
  uint64_t get_requests = 0;
  uint64_t latency_sum_us = 0;  ///< their total duration
  uint64_t cacheable = 0;       ///< 200 answers the cache policy would store
  uint64_t uncacheable = 0;     ///< 200 answers it would not (no-store, private, Set-Cookie...)
};

/// `now` minus `before`, route by route (a route missing from `before` counts whole): the
/// traffic since the previous run.
std::vector<route_usage> usage_since(const std::vector<route_usage>& now,
                                     const std::vector<route_usage>& before);

/// The thresholds of a plan; aggressive runs use the looser second set.
struct cache_tuning {
  uint64_t min_requests = 20;        ///< upstream GETs since the previous run
  double slow_ms = 50;               ///< mean upstream time
  double min_cacheable_share = 0.95; ///< of the route's 200 answers
  std::chrono::seconds new_ttl{60};
  std::chrono::seconds max_ttl{3600};
  size_t max_routes = 10;            ///< routes changed per run, by time they cost
  uint64_t max_cache_bytes = 1ull << 30;

  static cache_tuning normal() { return {}; }
  static cache_tuning aggressive() {
    return {5, 10, 0.8, std::chrono::seconds{300}, std::chrono::seconds{86'400}, 25, 1ull << 30};
  }
};

struct cache_plan_input {
  std::vector<route_usage> routes;     ///< since the previous run
  std::vector<cache_rule> rules;       ///< the TTLs in force
  cache_counters cache_since;          ///< the response cache's counters since the previous run
  uint64_t cache_capacity = 0;         ///< its budget now
  uint64_t available_memory = 0;       ///< MemAvailable, bytes (0: unknown)
};

struct ttl_change {
  std::string route;
  std::chrono::seconds before{0};      ///< 0: was not cached
  std::chrono::seconds after{0};
};

struct cache_plan {
  std::vector<ttl_change> ttl_changes;
  std::optional<uint64_t> new_capacity;  ///< set when the cache should grow
  std::vector<std::string> actions;      ///< one line per decision, for people
};

/// The plan:
/// - a route qualifies with at least `min_requests` upstream GETs averaging at least
///   `slow_ms`, and at least `min_cacheable_share` of its 200 answers cacheable (and one);
/// - qualifying routes are ranked by the upstream time they cost (requests × mean); the first
///   `max_routes` change: an uncached route gets `new_ttl`, a cached one (still this busy
///   upstream, so its entries expire too soon) gets twice its TTL, at most `max_ttl`;
/// - the cache grows to twice its budget (at most `max_cache_bytes` and an eighth of the
///   available memory) when it evicted entries since the previous run while its hit rate was
///   under 90 %.
cache_plan plan_cache_strategy(const cache_plan_input& in, const cache_tuning& tuning);

} // namespace medianest
