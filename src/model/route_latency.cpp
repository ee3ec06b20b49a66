#include "model/route_latency.hpp"

namespace medianest {

void route_latency::entry::rotate(int64_t now_epoch) {
  if (now_epoch == epoch)
    return;
  if (now_epoch == epoch + 1)
    previous = std::move(current);
  else
    previous.clear();
  current.clear();
  epoch = now_epoch;
}

route_latency::entry* route_latency::find(const std::string* route) const {
  std::shared_lock guard{table_mutex_};
  auto it = routes_.find(route);
  return it == routes_.end() ? nullptr : it->second.get();
}

void route_latency::add(const std::string* route, uint64_t micros, int64_t now_ms,
                        get_kind kind) {
  auto* e = find(route);
  if (!e) {
    std::unique_lock guard{table_mutex_};
    auto& slot = routes_[route];
    if (!slot)
      slot = std::make_unique<entry>();
    e = slot.get();
  }
  std::lock_guard guard{e->mutex};
  if (kind != get_kind::not_get) {
    ++e->get_requests;
    e->get_sum_us += micros;
    e->cacheable += kind == get_kind::cacheable;
    e->uncacheable += kind == get_kind::uncacheable;
  }
  auto now_epoch = now_ms / slice_ms;
  if (now_epoch < e->epoch) {
    // Timed before the latest add (threads race to the lock at a slice boundary): never rewind
    // the slices, which would drop every recent sample. Count it in its own slice if kept.
    if (now_epoch == e->epoch - 1)
      e->previous.record(micros);
    return;
  }
  e->rotate(now_epoch);
  e->current.record(micros);
}

std::vector<route_usage> route_latency::usage() const {
  std::vector<route_usage> out;
  std::shared_lock table_guard{table_mutex_};
  for (const auto& [route, e] : routes_) {
    std::lock_guard guard{e->mutex};
    if (e->get_requests)
      out.push_back({*route, e->get_requests, e->get_sum_us, e->cacheable, e->uncacheable});
  }
  return out;
}

double route_latency::p95_ms(const std::string* route, int64_t now_ms) const {
  auto* e = find(route);
  if (!e)
    return 0;
  std::lock_guard guard{e->mutex};
  auto now_epoch = now_ms / slice_ms;
  latency_histogram recent;
  if (e->epoch == now_epoch) {
    recent.merge(e->current);
    recent.merge(e->previous);
  } else if (e->epoch == now_epoch - 1) {
    recent.merge(e->current);
  }
  return recent.empty() ? 0 : recent.quantile(0.95) / 1000.0;
}

} // namespace medianest
