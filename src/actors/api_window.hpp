#pragma once

#include <array>
#include <cstdint>
#include <unordered_map>

#include "model/latency_histogram.hpp"
#include "model/metrics.hpp"
#include "model/request_record.hpp"
#include "model/request_totals.hpp"

namespace medianest {

/// The api collector's arithmetic: a sliding 60-second window over finished requests, kept as
/// 5-second slices in a ring (each with a latency histogram and per-route sums), plus the
/// histogram of the requests since the previous sample for the time-series store.
///
/// The oldest slice is weighted by the share of it that still lies inside the window, so the
/// counts slide smoothly instead of dropping 5 seconds at a time; for percentiles it counts
/// whole. Memory is bounded: 13 slice histograms and at most `max_routes` route entries
/// (beyond it, new route/method pairs are counted under "(other)").
///
/// Beside the window it keeps the cumulative counters since start (request_totals_builder,
/// bounded the same way) that every sample carries for the Prometheus export.
class api_window {
public:
  static constexpr int64_t slice_ms = 5'000;
  static constexpr int64_t window_ms = 60'000;
  static constexpr size_t slice_count = window_ms / slice_ms + 1;
  static constexpr size_t max_routes = 1024;
  static constexpr size_t slowest_count = 5;

  /// Accounts one finished request. Cost: a ring check, a histogram increment, a hash lookup.
  void add(const request_record& r);

  /// The window as of `now_ms` (steady clock): rates, latencies, error rate, the slowest
  /// routes, the histogram of everything added since the previous call, and the cumulative
  /// totals since start.
  api_sample sample(int64_t now_ms, uint64_t active_connections);

  /// Route entries currently held (for tests of the memory bound).
  size_t route_entries() const noexcept {
    return routes_.size();
  }

private:
  struct slice {
    int64_t epoch = -1;
    uint64_t count = 0;
    uint64_t errors = 0;
    uint64_t sum_us = 0;
    latency_histogram latency;
  };

  struct route_key {
    const std::string* route;
    http_method method;
    bool operator==(const route_key&) const = default;
  };

  struct route_key_hash {
    size_t operator()(const route_key& k) const noexcept {
      return std::hash<const void*>{}(k.route) ^ (static_cast<size_t>(k.method) << 1);
    }
  };

  struct route_ring {
    std::array<int64_t, slice_count> epoch;
    std::array<uint64_t, slice_count> count{};
    std::array<uint64_t, slice_count> sum_us{};
    route_ring() {
      epoch.fill(-1);
    }
  };

  slice& slice_for(int64_t epoch);
  route_ring& ring_for(const request_record& r);
  /// Share of the slice with this epoch that lies inside the window ending at now_ms.
  static double weight_of(int64_t epoch, int64_t now_ms) noexcept;

  std::array<slice, slice_count> slices_;
  std::unordered_map<route_key, route_ring, route_key_hash> routes_;
  latency_histogram interval_;
  uint64_t interval_errors_ = 0;
  request_totals_builder totals_;
};

} // namespace medianest
