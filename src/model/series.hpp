#pragma once

// The time series the store keeps: which metrics, their units, their roll-ups.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "model/latency_histogram.hpp"

namespace medianest {

/// Roll-up resolutions, in seconds.
inline constexpr int64_t resolution_1m = 60;
inline constexpr int64_t resolution_5m = 300;
inline constexpr int64_t resolution_1h = 3600;
inline constexpr int64_t resolutions[] = {resolution_1m, resolution_5m, resolution_1h};

/// How long roll-ups are kept, per resolution.
struct retention_policy {
  int64_t minute_seconds = 7 * 86400;
  int64_t five_minutes_seconds = 30 * 86400;
  int64_t hour_seconds = 400 * 86400;
};

/// A stored metric: its API name, its unit, and how its values become sketch integers.
struct metric_info {
  std::string_view name; ///< as /history's `metric` parameter takes it
  std::string_view unit; ///< "ms", "percent", "fraction", "rpm"
  /// Sketch values are round(value × scale): µs for ms, thousandths of a percent, …
  double scale;
  /// Warning and critical thresholds (the alert defaults), if the metric has any.
  std::optional<double> warning;
  std::optional<double> critical;
  /// True when lower values are worse (cache hit rate).
  bool lower_is_worse = false;
};

/// The built-in metrics, in a fixed order.
const std::vector<metric_info>& builtin_metrics();

/// Per-route response-time series are named "route:<METHOD> <template>"; they use the
/// response_time unit and thresholds.
inline constexpr std::string_view route_metric_prefix = "route:";
std::string route_metric_name(std::string_view method, std::string_view route);

/// The description of a metric name (built-in or per-route), or nullopt.
std::optional<metric_info> find_metric(std::string_view name);

/// One bucket of one series at one resolution: count, sum, min, max (in the metric's unit)
/// and a mergeable sketch of the values (scaled by the metric's scale).
struct rollup {
  int64_t start = 0; ///< unix seconds, a multiple of the resolution
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  latency_histogram sketch;

  /// Adds one value (in the metric's unit).
  void add(double value, double scale);
  /// Adds a histogram of already-scaled values (response times in µs).
  void add_histogram(const latency_histogram& h, double scale);
  /// Adds another bucket's contents.
  void merge(const rollup& other);
  double mean() const noexcept {
    return count ? sum / static_cast<double>(count) : 0.0;
  }
  /// A quantile in the metric's unit.
  double quantile(double q, double scale) const noexcept;
};

/// A roll-up as stored in SQL: the sketch encoded, p95/p99 precomputed so that reading a
/// long period needs no sketch decoding.
struct rollup_row {
  std::string metric;
  int64_t resolution = 0;
  int64_t start = 0;
  uint64_t count = 0;
  double sum = 0;
  double min = 0;
  double max = 0;
  double p95 = 0;
  double p99 = 0;
  std::string sketch;
};

/// The row of a bucket.
rollup_row to_row(const std::string& metric, int64_t resolution, const rollup& r, double scale);

/// The bucket of a row (false when its sketch does not decode).
bool from_row(const rollup_row& row, rollup& out);

/// The start of the bucket holding `unix_seconds` at `resolution`.
inline int64_t bucket_start(int64_t unix_seconds, int64_t resolution) noexcept {
  auto r = unix_seconds % resolution;
  return unix_seconds - (r < 0 ? r + resolution : r);
}

} // namespace medianest
