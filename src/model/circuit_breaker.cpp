#include "model/circuit_breaker.hpp"

#include <algorithm>

namespace medianest {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

circuit_breaker::circuit_breaker(unsigned threshold, milliseconds cool_down)
    : threshold_(std::max(threshold, 1u)), cool_down_(std::max(cool_down, milliseconds{0})) {}

bool circuit_breaker::allow(steady_clock::time_point now) {
  switch (mode_) {
    case mode::closed:
      return true;
    case mode::open:
      if (now - opened_at_ < cool_down_)
        return false;
      mode_ = mode::half_open;
      probe_out_ = true;
      return true;
    case mode::half_open:
      if (probe_out_)
        return false;
      probe_out_ = true;
      return true;
  }
  return false;
}

void circuit_breaker::record(bool ok, steady_clock::time_point now) {
  if (ok) {
    mode_ = mode::closed;
    failures_ = 0;
    probe_out_ = false;
    return;
  }
  ++failures_;
  switch (mode_) {
    case mode::closed:
      if (failures_ >= threshold_) {
        mode_ = mode::open;
        opened_at_ = now;
      }
      break;
    case mode::half_open:  // the probe failed: another cool-down
      mode_ = mode::open;
      opened_at_ = now;
      probe_out_ = false;
      break;
    case mode::open:  // a late failure of an attempt begun before opening: keep the cool-down
      break;
  }
}

void circuit_breaker::abandon() noexcept {
  if (mode_ == mode::half_open)
    probe_out_ = false;
}

std::string circuit_breaker::state() const {
  switch (mode_) {
    case mode::closed: return "closed";
    case mode::open: return "open";
    case mode::half_open: return "half-open";
  }
  return "closed";
}

std::chrono::milliseconds circuit_breaker::retry_after(steady_clock::time_point now) const {
  if (mode_ != mode::open || now - opened_at_ >= cool_down_)
    return milliseconds{0};
  return std::chrono::duration_cast<milliseconds>(cool_down_ - (now - opened_at_));
}

} // namespace medianest
