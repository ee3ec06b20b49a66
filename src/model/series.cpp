#include "model/series.hpp"

#include <algorithm>
#include <cmath>

namespace medianest {

const std::vector<metric_info>& builtin_metrics() {
  static const std::vector<metric_info> metrics{
    {"response_time", "ms", 1000.0, 500.0, 1000.0, false},
    {"memory", "percent", 1000.0, 80.0, 90.0, false},
    {"cpu", "percent", 1000.0, 80.0, 95.0, false},
    {"cache_hit_rate", "fraction", 1e6, 0.7, 0.5, true},
    {"error_rate", "fraction", 1e6, 0.05, 0.1, false},
    {"requests_per_minute", "rpm", 1000.0, std::nullopt, std::nullopt, false},
    {"disk", "percent", 1000.0, 85.0, 95.0, false},
  };
  return metrics;
}

std::string route_metric_name(std::string_view method, std::string_view route) {
  std::string out{route_metric_prefix};
  out += method;
  out += ' ';
  out += route;
  return out;
}

std::optional<metric_info> find_metric(std::string_view name) {
  for (const auto& m : builtin_metrics())
    if (m.name == name)
      return m;
  if (name.size() > route_metric_prefix.size() && name.substr(0, route_metric_prefix.size()) == route_metric_prefix) {
    auto info = builtin_metrics().front(); // response_time's unit and thresholds
    info.name = name;
    return info;
  }
  return std::nullopt;
}

namespace {

uint64_t scaled(double value, double scale) {
  auto v = std::llround(std::max(0.0, value) * scale);
  return static_cast<uint64_t>(std::max<long long>(v, 0));
}

} // namespace

void rollup::add(double value, double scale) {
  if (!std::isfinite(value))
    return;
  min = count ? std::min(min, value) : value;
  max = count ? std::max(max, value) : value;
  ++count;
  sum += value;
  sketch.record(scaled(value, scale));
}

void rollup::add_histogram(const latency_histogram& h, double scale) {
  if (h.empty())
    return;
  auto hmin = static_cast<double>(h.min()) / scale;
  auto hmax = static_cast<double>(h.max()) / scale;
  min = count ? std::min(min, hmin) : hmin;
  max = count ? std::max(max, hmax) : hmax;
  count += h.count();
  sum += static_cast<double>(h.sum()) / scale;
  sketch.merge(h);
}

void rollup::merge(const rollup& other) {
  if (other.count == 0)
    return;
  min = count ? std::min(min, other.min) : other.min;
  max = count ? std::max(max, other.max) : other.max;
  count += other.count;
  sum += other.sum;
  sketch.merge(other.sketch);
}

double rollup::quantile(double q, double scale) const noexcept {
  if (count == 0)
    return 0;
  // The sketch's own clamping works in scaled units; clamp again to the exact extremes.
  return std::clamp(sketch.quantile(q) / scale, min, max);
}

rollup_row to_row(const std::string& metric, int64_t resolution, const rollup& r, double scale) {
  return {metric,          resolution,          r.start,
          r.count,         r.sum,               r.min,
          r.max,           r.quantile(0.95, scale), r.quantile(0.99, scale),
          r.sketch.encode()};
}

bool from_row(const rollup_row& row, rollup& out) {
  out.start = row.start;
  out.count = row.count;
  out.sum = row.sum;
  out.min = row.min;
  out.max = row.max;
  return latency_histogram::decode(row.sketch, out.sketch);
}

} // namespace medianest
