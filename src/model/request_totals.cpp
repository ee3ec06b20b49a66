#include "model/request_totals.hpp"

#include <algorithm>

namespace medianest {

std::string status_label(uint16_t status) {
  if (status < 10)
    return std::string(1, static_cast<char>('0' + status)) + "xx";
  return std::to_string(status);
}

request_totals_builder::entry& request_totals_builder::entry_for(const request_record& r) {
  static const std::string* const other = intern_route("(other)");
  key k{r.route ? r.route : other, r.method};
  if (auto it = index_.find(k); it != index_.end())
    return entries_[it->second];
  if (entries_.size() >= max_series) {
    k.route = other;
    if (auto it = index_.find(k); it != index_.end())
      return entries_[it->second];
  }
  index_.emplace(k, entries_.size());
  auto& e = entries_.emplace_back();
  e.route = k.route;
  e.method = k.method;
  return e;
}

void request_totals_builder::add(const request_record& r) {
  auto& e = entry_for(r);
  auto bucket = static_cast<size_t>(
    std::lower_bound(duration_bounds_us.begin(), duration_bounds_us.end(), r.duration_us)
    - duration_bounds_us.begin());
  ++e.buckets[bucket];
  ++e.count;
  e.sum_us += r.duration_us;
  uint16_t status = r.status;
  auto find = [&e](uint16_t s) {
    return std::find_if(e.statuses.begin(), e.statuses.end(),
                        [s](const status_count& c) { return c.status == s; });
  };
  auto it = find(status);
  if (it == e.statuses.end()) {
    if (status_pairs_ >= max_statuses) {
      status = static_cast<uint16_t>(std::min(status / 100, 9));
      it = find(status);
    }
    if (it == e.statuses.end()) {
      ++status_pairs_;
      e.statuses.push_back({status, 0});
      it = e.statuses.end() - 1;
    }
  }
  ++it->count;
  changed_ = true;
}

std::shared_ptr<const request_totals> request_totals_builder::snapshot() {
  if (!changed_ && published_)
    return published_;
  auto out = std::make_shared<request_totals>();
  out->series.reserve(entries_.size());
  for (const auto& e : entries_) {
    auto& s = out->series.emplace_back();
    s.route = *e.route;
    s.method = e.method;
    s.buckets = e.buckets;
    s.count = e.count;
    s.sum_us = e.sum_us;
    s.statuses = e.statuses;
    std::sort(s.statuses.begin(), s.statuses.end(),
              [](const status_count& a, const status_count& b) { return a.status < b.status; });
  }
  std::sort(out->series.begin(), out->series.end(),
            [](const request_series& a, const request_series& b) {
              return a.route != b.route ? a.route < b.route : a.method < b.method;
            });
  published_ = std::move(out);
  changed_ = false;
  return published_;
}

} // namespace medianest
