#pragma once

// Short-range forecasting of a metric series: Holt's linear trend and threshold crossings.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace medianest {

/// One sample of a series (or of a projection).
struct forecast_point {
  int64_t t;    ///< unix seconds
  double value; ///< the metric value at `t`
};

/// When a projection reaches one threshold.
struct threshold_crossing {
  double threshold;
  /// Unix seconds when the projection first reaches the threshold (the first whole second at
  /// or after the exact crossing), if that is within the horizon. When `already` is true this
  /// is the time of the last observation.
  std::optional<int64_t> at;
  /// The latest fitted level is already at or past the threshold.
  bool already = false;
};

/// The fitted model, its projection and the threshold crossings it predicts.
struct forecast_result {
  double alpha = 0, beta = 0;         ///< chosen smoothing parameters
  double level = 0;                   ///< fitted level at the last observation
  double trend = 0;                   ///< fitted trend, in value units per second
  std::vector<forecast_point> points; ///< projection after the last observation
  std::optional<threshold_crossing> warning, critical;
};

/// Holt's linear trend (double exponential smoothing) over `series`.
///
/// `series` is ascending in t; buckets may be missing (gaps are multiples of `step` seconds):
/// the trend is kept per second and the level is advanced by trend × gap across a gap rather
/// than treating neighbours as adjacent. Points with a non-finite value, and points whose t
/// is not after the previous kept point, are skipped. The model starts at level = first
/// value, trend = (second − first) / (t1 − t0).
///
/// alpha and beta are chosen by a full grid search over 0.05 .. 0.95 in steps of 0.05 (19 × 19
/// pairs), minimising the sum of squared one-step-ahead errors; ties keep the smallest alpha,
/// then the smallest beta. Cost is O(361 × n) with no allocation per candidate: all 19 betas
/// of one alpha are run side by side in one pass, so the grid is never reduced.
///
/// The projection covers `horizon` steps of `step` seconds after the last observation. At most
/// `max_points` points are returned: when horizon > max_points only every
/// ceil(horizon / max_points)-th step is returned, plus the final step.
///
/// Crossing times for `warning` and `critical` (a non-finite threshold counts as absent) are
/// solved continuously from level + trend · Δt. For `lower_is_worse` metrics a crossing means
/// falling to or below the threshold, otherwise rising to or above it. A crossing beyond the
/// horizon (or never) has `at` = nullopt and already = false.
///
/// Returns nullopt when fewer than 3 usable observations remain, when step <= 0, or when the
/// fit is not finite (values so large that the squared errors overflow).
std::optional<forecast_result> holt_forecast(const std::vector<forecast_point>& series,
                                             int64_t step, size_t horizon, size_t max_points,
                                             std::optional<double> warning,
                                             std::optional<double> critical,
                                             bool lower_is_worse);

} // namespace medianest
