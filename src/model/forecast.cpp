#include "model/forecast.hpp"

#include <array>
#include <cmath>
#include <limits>

namespace medianest {

namespace {

/// Grid of smoothing parameters: 0.05, 0.10, … 0.95.
constexpr size_t grid_size = 19;
constexpr double grid_step = 0.05;

constexpr double grid_value(size_t k) {
  return static_cast<double>(k + 1) * grid_step;
}

/// The usable observations, laid out for the fitting loop: values, the gap in seconds before
/// each one (0 for the first) and its reciprocal.
struct clean_series {
  std::vector<double> y;
  std::vector<double> dt;
  std::vector<double> inv_dt;
  int64_t last_t = 0;
};

/// Drops non-finite values and points that are not strictly after the previous kept one.
clean_series clean(const std::vector<forecast_point>& series) {
  clean_series out;
  out.y.reserve(series.size());
  out.dt.reserve(series.size());
  out.inv_dt.reserve(series.size());
  for (const auto& p : series) {
    if (!std::isfinite(p.value))
      continue;
    if (!out.y.empty() && p.t <= out.last_t)
      continue;
    double gap = out.y.empty() ? 0.0 : static_cast<double>(p.t - out.last_t);
    out.y.push_back(p.value);
    out.dt.push_back(gap);
    out.inv_dt.push_back(gap > 0 ? 1.0 / gap : 0.0);
    out.last_t = p.t;
  }
  return out;
}

/// One candidate's outcome: its squared one-step error and its final state.
struct fit {
  double sse = 0;
  double level = 0;
  double trend = 0;
};

/// Runs Holt's method for one alpha and all grid betas side by side (independent chains, so
/// the loop is bound by throughput, not latency). Per observation, with f the forecast across
/// the gap dt: e = y − f; level = f + α·e; trend += α·β·e / dt, which is the textbook
/// trend = β·(level − previous level)/dt + (1 − β)·trend rearranged.
std::array<fit, grid_size> fit_alpha(const clean_series& s, double alpha) {
  std::array<double, grid_size> level, trend, sse, gain;
  const double first_trend = (s.y[1] - s.y[0]) * s.inv_dt[1];
  for (size_t b = 0; b < grid_size; ++b) {
    level[b] = s.y[0];
    trend[b] = first_trend;
    sse[b] = 0;
    gain[b] = alpha * grid_value(b);
  }
  const size_t n = s.y.size();
  for (size_t i = 1; i < n; ++i) {
    const double y = s.y[i], dt = s.dt[i], inv_dt = s.inv_dt[i];
    for (size_t b = 0; b < grid_size; ++b) {
      double f = level[b] + trend[b] * dt;
      double e = y - f;
      sse[b] += e * e;
      level[b] = f + alpha * e;
      trend[b] += gain[b] * e * inv_dt;
    }
  }
  std::array<fit, grid_size> out;
  for (size_t b = 0; b < grid_size; ++b)
    out[b] = fit{sse[b], level[b], trend[b]};
  return out;
}

/// The grid point with the smallest finite error; nullopt if none is finite.
std::optional<forecast_result> best_fit(const clean_series& s) {
  std::optional<forecast_result> best;
  double best_sse = std::numeric_limits<double>::infinity();
  for (size_t a = 0; a < grid_size; ++a) {
    auto fits = fit_alpha(s, grid_value(a));
    for (size_t b = 0; b < grid_size; ++b) {
      const auto& f = fits[b];
      if (!(f.sse < best_sse) || !std::isfinite(f.level) || !std::isfinite(f.trend))
        continue;
      best_sse = f.sse;
      best = forecast_result{};
      best->alpha = grid_value(a);
      best->beta = grid_value(b);
      best->level = f.level;
      best->trend = f.trend;
    }
  }
  return best;
}

/// Steps 1..horizon after the last observation, thinned to at most `max_points`.
std::vector<forecast_point> project(double level, double trend, int64_t last_t, int64_t step,
                                    size_t horizon, size_t max_points) {
  std::vector<forecast_point> points;
  if (horizon == 0 || max_points == 0)
    return points;
  const size_t stride = horizon <= max_points ? 1 : (horizon + max_points - 1) / max_points;
  points.reserve(horizon / stride + 1);
  auto add = [&](size_t k) {
    int64_t offset = static_cast<int64_t>(k) * step;
    points.push_back({last_t + offset, level + trend * static_cast<double>(offset)});
  };
  for (size_t k = stride; k <= horizon; k += stride)
    add(k);
  if (horizon % stride != 0)
    add(horizon);
  return points;
}

/// When level + trend·Δt first reaches `threshold` in the worse direction, within the horizon.
std::optional<threshold_crossing> crossing(const forecast_result& r, int64_t last_t,
                                           double horizon_seconds,
                                           std::optional<double> threshold,
                                           bool lower_is_worse) {
  if (!threshold || !std::isfinite(*threshold))
    return std::nullopt;
  // Flip the axis for lower-is-worse metrics so that "worse" is always "up".
  const double sign = lower_is_worse ? -1.0 : 1.0;
  const double distance = sign * (*threshold - r.level);
  const double rate = sign * r.trend;
  threshold_crossing out{*threshold, std::nullopt, false};
  if (distance <= 0) {
    out.already = true;
    out.at = last_t;
  } else if (rate > 0) {
    double seconds = distance / rate;
    if (seconds <= horizon_seconds)
      out.at = last_t + static_cast<int64_t>(std::ceil(seconds));
  }
  return out;
}

} // namespace

std::optional<forecast_result> holt_forecast(const std::vector<forecast_point>& series,
                                             int64_t step, size_t horizon, size_t max_points,
                                             std::optional<double> warning,
                                             std::optional<double> critical,
                                             bool lower_is_worse) {
  if (step <= 0)
    return std::nullopt;
  const auto s = clean(series);
  if (s.y.size() < 3)
    return std::nullopt;
  auto result = best_fit(s);
  if (!result)
    return std::nullopt;
  const double horizon_seconds = static_cast<double>(horizon) * static_cast<double>(step);
  result->points = project(result->level, result->trend, s.last_t, step, horizon, max_points);
  result->warning = crossing(*result, s.last_t, horizon_seconds, warning, lower_is_worse);
  result->critical = crossing(*result, s.last_t, horizon_seconds, critical, lower_is_worse);
  return result;
}

} // namespace medianest
