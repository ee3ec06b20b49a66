#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/cache_strategy.hpp"
#include "model/latency_histogram.hpp"

namespace medianest {

/// Recent latency per route template, for the gateway's load shedding: each route keeps the
/// current and the previous 10-second slice, and its p95 is read over both (10 to 20 s of
/// requests). It also counts each route's GET traffic since start, for the cache_strategy
/// optimization. Thread-safe; routes are interned pointers (see intern_route).
class route_latency {
public:
  static constexpr int64_t slice_ms = 10'000;

  /// What a request was, for the GET counters.
  enum class get_kind : uint8_t { not_get, other_status, cacheable, uncacheable };

  /// Records one request. A time older than the latest slice counts in the previous slice if
  /// it is that one and is dropped otherwise: the slices never move backwards.
  void add(const std::string* route, uint64_t micros, int64_t now_ms,
           get_kind kind = get_kind::not_get);

  /// The GET counters of every route that had a GET, since start.
  std::vector<route_usage> usage() const;

  /// The route's p95 in milliseconds over the recent slices; 0 when it saw no request lately.
  double p95_ms(const std::string* route, int64_t now_ms) const;

private:
  struct entry {
    mutable std::mutex mutex;
    int64_t epoch = -1;
    latency_histogram current;
    latency_histogram previous;
    uint64_t get_requests = 0;
    uint64_t get_sum_us = 0;
    uint64_t cacheable = 0;
    uint64_t uncacheable = 0;
    void rotate(int64_t now_epoch);
  };

  entry* find(const std::string* route) const;

  mutable std::shared_mutex table_mutex_;
  std::unordered_map<const std::string*, std::unique_ptr<entry>> routes_;
};

} // namespace medianest
