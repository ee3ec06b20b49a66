#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "model/latency_histogram.hpp"

namespace medianest {

/// Recent latency per route template, for the gateway's load shedding: each route keeps the
/// current and the previous 10-second slice, and its p95 is read over both (10 to 20 s of
/// requests). Thread-safe; routes are interned pointers (see intern_route).
class route_latency {
public:
  static constexpr int64_t slice_ms = 10'000;

  /// Records one request. A time older than the latest slice counts in the previous slice if
  /// it is that one and is dropped otherwise: the slices never move backwards.
  void add(const std::string* route, uint64_t micros, int64_t now_ms);

  /// The route's p95 in milliseconds over the recent slices; 0 when it saw no request lately.
  double p95_ms(const std::string* route, int64_t now_ms) const;

private:
  struct entry {
    mutable std::mutex mutex;
    int64_t epoch = -1;
    latency_histogram current;
    latency_histogram previous;
    void rotate(int64_t now_epoch);
  };

  entry* find(const std::string* route) const;

  mutable std::shared_mutex table_mutex_;
  std::unordered_map<const std::string*, std::unique_ptr<entry>> routes_;
};

} // namespace medianest
