#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <limits>
#include <numbers>
#include <random>
#include <vector>

#include "model/forecast.hpp"

using medianest::forecast_point;
using medianest::holt_forecast;

namespace {

constexpr int64_t t0 = 1'700'000'000;
constexpr int64_t minute = 60;

/// `n` points every `step` seconds from t0: start + slope_per_step × index.
std::vector<forecast_point> linear_series(size_t n, int64_t step, double start,
                                          double slope_per_step) {
  std::vector<forecast_point> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back({t0 + static_cast<int64_t>(i) * step,
                   start + slope_per_step * static_cast<double>(i)});
  return out;
}

/// Standard normal samples by Box–Muller over mt19937_64, which (unlike
/// std::normal_distribution) gives the same sequence on every standard library.
class gaussian {
public:
  explicit gaussian(uint64_t seed) : rng_(seed) {}
  double next() {
    double u1 = uniform(), u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::numbers::pi * u2);
  }

private:
  /// Uniform in (0, 1].
  double uniform() {
    return (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;
  }
  std::mt19937_64 rng_;
};

/// Seconds from the last observation of `series` until the line
/// start + slope_per_second × (t − t0) reaches `threshold`.
double true_seconds_to(const std::vector<forecast_point>& series, double start,
                       double slope_per_second, double threshold) {
  double crossing_t = static_cast<double>(t0) + (threshold - start) / slope_per_second;
  return crossing_t - static_cast<double>(series.back().t);
}

/// Predicted seconds from the last observation to the crossing (the crossing must exist).
double predicted_seconds(const std::optional<medianest::threshold_crossing>& c,
                         const std::vector<forecast_point>& series) {
  REQUIRE(c);
  REQUIRE(c->at);
  return static_cast<double>(*c->at - series.back().t);
}

// Memory % rising 0.01 %/min from 40 %, one point a minute for 24 h; warning 80, critical 90.
constexpr double mem_start = 40.0;
constexpr double mem_per_minute = 0.01;
constexpr double mem_per_second = mem_per_minute / 60.0;
constexpr size_t day_of_minutes = 24 * 60;
constexpr size_t week_of_minutes = 7 * 24 * 60;

} // namespace

TEST_CASE("holt forecast predicts crossings of a perfectly linear series") {
  auto series = linear_series(day_of_minutes, minute, mem_start, mem_per_minute);
  auto r = holt_forecast(series, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(r);
  CHECK(r->trend == Approx(mem_per_second).epsilon(1e-9));
  CHECK(r->level == Approx(series.back().value).epsilon(1e-9));
  CHECK(r->alpha >= 0.05 - 1e-12);
  CHECK(r->alpha <= 0.95 + 1e-12);
  CHECK(r->beta >= 0.05 - 1e-12);
  CHECK(r->beta <= 0.95 + 1e-12);

  double true_warning = true_seconds_to(series, mem_start, mem_per_second, 80.0);
  double true_critical = true_seconds_to(series, mem_start, mem_per_second, 90.0);
  REQUIRE(r->warning);
  CHECK(r->warning->threshold == 80.0);
  CHECK_FALSE(r->warning->already);
  CHECK(predicted_seconds(r->warning, series) == Approx(true_warning).epsilon(0.05));
  REQUIRE(r->critical);
  CHECK(r->critical->threshold == 90.0);
  CHECK_FALSE(r->critical->already);
  CHECK(predicted_seconds(r->critical, series) == Approx(true_critical).epsilon(0.05));
}

TEST_CASE("holt forecast predicts crossings of a noisy linear series") {
  auto series = linear_series(day_of_minutes, minute, mem_start, mem_per_minute);
  // σ = 0.001 %, a tenth of the 0.01 % rise per step. Holt's trend with β >= 0.05 follows the
  // noise, so the error of a projection 1.8 days past a 1-day fit grows linearly with σ: over
  // 300 seeds this σ stayed within 2 % (σ = 0.002 reached 4 %, σ = 0.005 failed 5 % of seeds).
  gaussian noise(20240601);
  for (auto& p : series)
    p.value += 0.001 * noise.next();

  auto r = holt_forecast(series, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(r);
  double true_warning = true_seconds_to(series, mem_start, mem_per_second, 80.0);
  double true_critical = true_seconds_to(series, mem_start, mem_per_second, 90.0);
  CHECK(predicted_seconds(r->warning, series) == Approx(true_warning).epsilon(0.05));
  CHECK(predicted_seconds(r->critical, series) == Approx(true_critical).epsilon(0.05));
  CHECK_FALSE(r->warning->already);
  CHECK_FALSE(r->critical->already);
}

TEST_CASE("holt forecast of a flat series never crosses") {
  auto series = linear_series(day_of_minutes, minute, 50.0, 0.0);
  auto r = holt_forecast(series, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(r);
  CHECK(r->trend == Approx(0.0).margin(1e-12));
  REQUIRE(r->warning);
  CHECK_FALSE(r->warning->at);
  CHECK_FALSE(r->warning->already);
  REQUIRE(r->critical);
  CHECK_FALSE(r->critical->at);
  CHECK_FALSE(r->critical->already);
}

TEST_CASE("holt forecast reports a level already past the threshold") {
  auto series = linear_series(day_of_minutes, minute, 95.0, 0.0);
  auto r = holt_forecast(series, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(r);
  REQUIRE(r->warning);
  CHECK(r->warning->already);
  CHECK(r->warning->at == series.back().t);
  REQUIRE(r->critical);
  CHECK(r->critical->already);
  CHECK(r->critical->at == series.back().t);

  // Between the two thresholds: only the warning is already reached, and a falling series
  // never reaches the critical one.
  auto between = linear_series(day_of_minutes, minute, 88.0, -0.001);
  auto b = holt_forecast(between, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(b);
  CHECK(b->warning->already);
  CHECK_FALSE(b->critical->already);
  CHECK_FALSE(b->critical->at);
}

TEST_CASE("holt forecast leaves a crossing beyond the horizon unset") {
  auto series = linear_series(day_of_minutes, minute, mem_start, mem_per_minute);
  // Warning is ~2,561 minutes away; look only 1,000 minutes ahead.
  auto r = holt_forecast(series, minute, 1000, 100, 80.0, 90.0, false);
  REQUIRE(r);
  REQUIRE(r->warning);
  CHECK_FALSE(r->warning->at);
  CHECK_FALSE(r->warning->already);
  REQUIRE(r->critical);
  CHECK_FALSE(r->critical->at);
  CHECK_FALSE(r->critical->already);
}

TEST_CASE("holt forecast omits absent thresholds") {
  auto series = linear_series(day_of_minutes, minute, mem_start, mem_per_minute);
  auto r = holt_forecast(series, minute, week_of_minutes, 500, std::nullopt,
                         std::numeric_limits<double>::quiet_NaN(), false);
  REQUIRE(r);
  CHECK_FALSE(r->warning);
  CHECK_FALSE(r->critical);
}

TEST_CASE("holt forecast of a falling lower is worse metric crosses in order") {
  // Cache hit rate from 0.9 losing 0.0005 every 5 minutes for a day; warning 0.7, critical 0.5.
  constexpr int64_t step = 300;
  constexpr double start = 0.9, per_step = -0.0005, per_second = per_step / step;
  auto series = linear_series(288, step, start, per_step);
  auto r = holt_forecast(series, step, 7 * 288, 300, 0.7, 0.5, true);
  REQUIRE(r);
  CHECK(r->trend == Approx(per_second).epsilon(1e-9));

  double true_warning = true_seconds_to(series, start, per_second, 0.7);
  double true_critical = true_seconds_to(series, start, per_second, 0.5);
  REQUIRE(true_warning > 0);
  CHECK_FALSE(r->warning->already);
  CHECK_FALSE(r->critical->already);
  CHECK(predicted_seconds(r->warning, series) == Approx(true_warning).epsilon(0.05));
  CHECK(predicted_seconds(r->critical, series) == Approx(true_critical).epsilon(0.05));
  CHECK(*r->warning->at < *r->critical->at);

  // A rising hit rate never crosses; one already below both is already past both.
  auto rising = linear_series(288, step, 0.6, 0.0005);
  auto up = holt_forecast(rising, step, 7 * 288, 300, 0.7, 0.5, true);
  REQUIRE(up);
  CHECK_FALSE(up->critical->at);
  CHECK_FALSE(up->critical->already);
  auto low = linear_series(288, step, 0.4, 0.0);
  auto down = holt_forecast(low, step, 7 * 288, 300, 0.7, 0.5, true);
  REQUIRE(down);
  CHECK(down->warning->already);
  CHECK(down->critical->already);
}

TEST_CASE("holt forecast handles missing buckets as gaps in time") {
  auto full = linear_series(day_of_minutes, minute, mem_start, mem_per_minute);
  std::vector<forecast_point> gapped;
  for (size_t i = 0; i < full.size(); ++i)
    if (i % 3 != 2)
      gapped.push_back(full[i]);
  REQUIRE(gapped.size() < full.size());

  auto a = holt_forecast(full, minute, week_of_minutes, 500, 80.0, 90.0, false);
  auto b = holt_forecast(gapped, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(a);
  REQUIRE(b);
  CHECK(b->trend == Approx(mem_per_second).epsilon(1e-9));
  for (auto threshold : {80.0, 90.0}) {
    const auto& ca = threshold == 80.0 ? a->warning : a->critical;
    const auto& cb = threshold == 80.0 ? b->warning : b->critical;
    REQUIRE(ca);
    REQUIRE(cb);
    REQUIRE(ca->at);
    REQUIRE(cb->at);
    // Same absolute crossing time, to 5 % of the distance from the gapped series' end.
    double truth = true_seconds_to(gapped, mem_start, mem_per_second, threshold);
    double from_gapped = static_cast<double>(*cb->at - gapped.back().t);
    double from_full = static_cast<double>(*ca->at - gapped.back().t);
    CHECK(from_gapped == Approx(truth).epsilon(0.05));
    CHECK(from_gapped == Approx(from_full).epsilon(0.05));
  }

  // Also with noise (σ as in the noisy test): gaps are still spanned by trend × gap.
  gaussian noise(7);
  for (auto& p : gapped)
    p.value += 0.001 * noise.next();
  auto c = holt_forecast(gapped, minute, week_of_minutes, 500, 80.0, 90.0, false);
  REQUIRE(c);
  double truth = true_seconds_to(gapped, mem_start, mem_per_second, 80.0);
  CHECK(predicted_seconds(c->warning, gapped) == Approx(truth).epsilon(0.05));
}

TEST_CASE("holt forecast projects whole steps after the last observation") {
  auto series = linear_series(10, minute, 1.0, 0.5);
  auto r = holt_forecast(series, minute, 5, 10, std::nullopt, std::nullopt, false);
  REQUIRE(r);
  REQUIRE(r->points.size() == 5);
  for (size_t k = 1; k <= 5; ++k) {
    const auto& p = r->points[k - 1];
    CHECK(p.t == series.back().t + static_cast<int64_t>(k) * minute);
    CHECK(p.value == Approx(series.back().value + 0.5 * static_cast<double>(k)));
  }

  auto none = holt_forecast(series, minute, 0, 10, std::nullopt, std::nullopt, false);
  REQUIRE(none);
  CHECK(none->points.empty());
}

TEST_CASE("holt forecast samples a long projection and keeps the final step") {
  auto series = linear_series(10, minute, 1.0, 0.5);
  const int64_t last = series.back().t;
  auto times = [&](size_t horizon, size_t max_points) {
    auto r = holt_forecast(series, minute, horizon, max_points, std::nullopt, std::nullopt,
                           false);
    REQUIRE(r);
    std::vector<int64_t> out;
    for (const auto& p : r->points)
      out.push_back((p.t - last) / minute);
    return out;
  };
  // ceil(10 / 4) = 3: steps 3, 6, 9 and the final 10.
  CHECK(times(10, 4) == std::vector<int64_t>{3, 6, 9, 10});
  // ceil(12 / 4) = 3: the final step is a multiple, not repeated.
  CHECK(times(12, 4) == std::vector<int64_t>{3, 6, 9, 12});
  CHECK(times(4, 4) == std::vector<int64_t>{1, 2, 3, 4});

  for (size_t horizon : {7u, 100u, 1000u, 10080u}) {
    for (size_t max_points : {1u, 3u, 7u, 99u, 500u}) {
      auto steps = times(horizon, max_points);
      INFO("horizon " << horizon << " max_points " << max_points);
      REQUIRE_FALSE(steps.empty());
      CHECK(steps.size() <= max_points);
      CHECK(steps.back() == static_cast<int64_t>(horizon));
      for (size_t i = 1; i < steps.size(); ++i)
        CHECK(steps[i] > steps[i - 1]);
    }
  }
}

TEST_CASE("holt forecast needs three finite points and a positive step") {
  auto series = linear_series(2, minute, 1.0, 0.5);
  CHECK_FALSE(holt_forecast({}, minute, 10, 10, 80.0, 90.0, false));
  CHECK_FALSE(holt_forecast(series, minute, 10, 10, 80.0, 90.0, false));

  series = linear_series(3, minute, 1.0, 0.5);
  CHECK(holt_forecast(series, minute, 10, 10, 80.0, 90.0, false));
  CHECK_FALSE(holt_forecast(series, 0, 10, 10, 80.0, 90.0, false));
  CHECK_FALSE(holt_forecast(series, -60, 10, 10, 80.0, 90.0, false));

  // Non-finite values are skipped: two finite points left is not enough…
  series[1].value = std::numeric_limits<double>::quiet_NaN();
  CHECK_FALSE(holt_forecast(series, minute, 10, 10, 80.0, 90.0, false));

  // …and with enough left the result is the same line across the hole.
  auto line = linear_series(20, minute, 1.0, 0.5);
  auto holed = line;
  holed[5].value = std::numeric_limits<double>::quiet_NaN();
  holed[11].value = std::numeric_limits<double>::infinity();
  holed[12].value = -std::numeric_limits<double>::infinity();
  auto r = holt_forecast(holed, minute, 10, 10, 80.0, 90.0, false);
  REQUIRE(r);
  CHECK(std::isfinite(r->level));
  CHECK(r->level == Approx(line.back().value));
  CHECK(r->trend == Approx(0.5 / minute));
}
