#include "http/request_recorder.hpp"

namespace medianest::http {

namespace {

size_t this_thread_stripe() noexcept {
  static std::atomic<size_t> next{0};
  thread_local size_t mine = next.fetch_add(1, std::memory_order_relaxed);
  return mine;
}

} // namespace

void request_recorder::record(const request_record& r) noexcept {
  auto& s = stripes_[this_thread_stripe() % stripe_count];
  std::lock_guard guard{s.mtx};
  if (s.records.size() >= stripe_capacity) {
    dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  if (s.records.capacity() == 0)
    s.records.reserve(1024);
  s.records.push_back(r);
}

request_batch request_recorder::drain() {
  request_batch out;
  for (auto& s : stripes_) {
    request_batch taken;
    {
      std::lock_guard guard{s.mtx};
      taken.swap(s.records);
    }
    if (out.empty())
      out = std::move(taken);
    else
      out.insert(out.end(), taken.begin(), taken.end());
  }
  return out;
}

} // namespace medianest::http
