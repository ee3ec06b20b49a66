#pragma once

// The cumulative request counters of the Prometheus export: every request the daemon answered
// since start, by route template, method and status, with a fixed-bucket duration histogram.
// Plain data and one accumulating class, no I/O.

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "model/request_record.hpp"

namespace medianest {

/// Inclusive upper bounds of the request-duration histogram's buckets, in microseconds: 5 ms
/// to 10 s (Prometheus' default buckets). Slower requests fall in the implicit +Inf bucket.
inline constexpr std::array<uint32_t, 11> duration_bounds_us{
  5'000, 10'000, 25'000, 50'000, 100'000, 250'000, 500'000, 1'000'000, 2'500'000, 5'000'000,
  10'000'000};

/// How many requests of one series ended with one status.
struct status_count {
  /// The HTTP status; 1 to 9 stand for a whole class ("1xx" to "9xx"), the bucket of statuses
  /// that came after the bound on distinct statuses was reached.
  uint16_t status = 0;
  uint64_t count = 0;
};

/// The requests of one route template and method since start.
struct request_series {
  std::string route;
  http_method method = http_method::other;
  /// Requests per duration bucket, not cumulative: index i counts durations in
  /// (bound[i-1], bound[i]]; the last entry counts those over the largest bound.
  std::array<uint64_t, duration_bounds_us.size() + 1> buckets{};
  uint64_t count = 0;
  /// Sum of the durations, in µs.
  uint64_t sum_us = 0;
  /// Ascending by status.
  std::vector<status_count> statuses;
};

/// Every request answered since start. Immutable once published (shared by snapshots).
struct request_totals {
  /// Ascending by route, then method.
  std::vector<request_series> series;
};

/// The label text of a status_count's status: "200", or "5xx" for a folded class.
std::string status_label(uint16_t status);

/// Accumulates request_totals, bounded like the api window: at most `max_series` route/method
/// pairs (requests of further pairs are counted under route "(other)" with their method) and
/// at most `max_statuses` distinct (series, status) pairs (further statuses are counted under
/// their class, e.g. "4xx"), so no traffic pattern can grow the export without limit.
class request_totals_builder {
public:
  static constexpr size_t max_series = 1024;
  static constexpr size_t max_statuses = 4096;

  /// Accounts one finished request: a hash lookup and two short scans.
  void add(const request_record& r);

  /// The totals so far, sorted. Returns the previous pointer when nothing was added since the
  /// previous call, so an idle daemon publishes no new copy.
  std::shared_ptr<const request_totals> snapshot();

  /// Route/method pairs held (for tests of the bound).
  size_t series_count() const noexcept {
    return entries_.size();
  }

private:
  struct key {
    const std::string* route;
    http_method method;
    bool operator==(const key&) const = default;
  };

  struct key_hash {
    size_t operator()(const key& k) const noexcept {
      return std::hash<const void*>{}(k.route) ^ (static_cast<size_t>(k.method) << 1);
    }
  };

  struct entry {
    const std::string* route;
    http_method method;
    std::array<uint64_t, duration_bounds_us.size() + 1> buckets{};
    uint64_t count = 0;
    uint64_t sum_us = 0;
    std::vector<status_count> statuses;
  };

  entry& entry_for(const request_record& r);

  std::unordered_map<key, size_t, key_hash> index_;
  std::vector<entry> entries_;
  size_t status_pairs_ = 0;
  std::shared_ptr<const request_totals> published_;
  bool changed_ = true;
};

} // namespace medianest
