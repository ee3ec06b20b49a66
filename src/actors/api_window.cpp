#include "actors/api_window.hpp"

#include <algorithm>
#include <cmath>

namespace medianest {

namespace {

bool is_error(uint16_t status) noexcept {
  return status >= 500;
}

} // namespace

api_window::slice& api_window::slice_for(int64_t epoch) {
  auto& s = slices_[static_cast<size_t>(epoch) % slice_count];
  if (s.epoch != epoch) {
    s.epoch = epoch;
    s.count = s.errors = s.sum_us = 0;
    s.latency.clear();
  }
  return s;
}

api_window::route_ring& api_window::ring_for(const request_record& r) {
  route_key key{r.route, r.method};
  if (auto it = routes_.find(key); it != routes_.end())
    return it->second;
  if (routes_.size() >= max_routes)
    key = {intern_route("(other)"), http_method::other};
  return routes_[key];
}

void api_window::add(const request_record& r) {
  if (r.finished_ms < 0)
    return;
  auto epoch = r.finished_ms / slice_ms;
  auto& s = slice_for(epoch);
  ++s.count;
  s.sum_us += r.duration_us;
  s.latency.record(r.duration_us);
  auto errors = is_error(r.status) ? 1u : 0u;
  s.errors += errors;
  interval_.record(r.duration_us);
  interval_errors_ += errors;
  auto& ring = ring_for(r);
  auto slot = static_cast<size_t>(epoch) % slice_count;
  if (ring.epoch[slot] != epoch) {
    ring.epoch[slot] = epoch;
    ring.count[slot] = 0;
    ring.sum_us[slot] = 0;
  }
  ++ring.count[slot];
  ring.sum_us[slot] += r.duration_us;
  totals_.add(r);
}

double api_window::weight_of(int64_t epoch, int64_t now_ms) noexcept {
  auto start = now_ms - window_ms;
  auto slice_start = epoch * slice_ms;
  auto slice_end = slice_start + slice_ms;
  if (slice_end <= start || slice_start > now_ms)
    return 0.0;
  if (slice_start >= start)
    return 1.0;
  return static_cast<double>(slice_end - start) / static_cast<double>(slice_ms);
}

api_sample api_window::sample(int64_t now_ms, uint64_t active_connections) {
  api_sample out;
  out.active_connections = active_connections;
  double count = 0, errors = 0, sum_us = 0;
  latency_histogram merged;
  for (const auto& s : slices_) {
    if (s.epoch < 0)
      continue;
    auto w = weight_of(s.epoch, now_ms);
    if (w <= 0)
      continue;
    count += w * static_cast<double>(s.count);
    errors += w * static_cast<double>(s.errors);
    sum_us += w * static_cast<double>(s.sum_us);
    merged.merge(s.latency);
  }
  out.requests_per_minute = count * 60'000.0 / window_ms;
  if (count > 0) {
    out.average_response_time = sum_us / count / 1000.0;
    out.error_rate = errors / count;
  }
  out.p95_response_time = merged.quantile(0.95) / 1000.0;
  out.p99_response_time = merged.quantile(0.99) / 1000.0;

  for (auto it = routes_.begin(); it != routes_.end();) {
    double rc = 0, rs = 0;
    for (size_t i = 0; i < slice_count; ++i) {
      auto w = weight_of(it->second.epoch[i], now_ms);
      if (it->second.epoch[i] < 0 || w <= 0)
        continue;
      rc += w * static_cast<double>(it->second.count[i]);
      rs += w * static_cast<double>(it->second.sum_us[i]);
    }
    if (rc <= 0) { // nothing left in the window: forget the route
      it = routes_.erase(it);
      continue;
    }
    out.slowest_endpoints.push_back({*it->first.route, std::string{method_name(it->first.method)},
                                     rs / rc / 1000.0, static_cast<uint64_t>(std::llround(rc))});
    ++it;
  }
  std::sort(out.slowest_endpoints.begin(), out.slowest_endpoints.end(),
            [](const auto& a, const auto& b) { return a.average_time > b.average_time; });
  if (out.slowest_endpoints.size() > slowest_count)
    out.slowest_endpoints.resize(slowest_count);

  out.interval_requests = interval_.count();
  out.interval_errors = interval_errors_;
  out.interval_latency = std::move(interval_);
  interval_ = latency_histogram{};
  interval_errors_ = 0;
  out.totals = totals_.snapshot();
  return out;
}

} // namespace medianest
