#pragma once

#include <chrono>
#include <string>

#include <optional>

#include <spdlog/spdlog.h>

#include "actors/aligned_tick.hpp"
#include "actors/atoms.hpp"

namespace medianest {

/// How a collector treats a failing source: log the failure once (and again only when the
/// reason changes), back off exponentially up to a cap, and log the recovery once.
class source_health {
public:
  source_health(std::string source, std::chrono::milliseconds interval,
                std::chrono::milliseconds max_backoff = std::chrono::seconds(10))
    : source_(std::move(source)), interval_(interval), max_backoff_(max_backoff) {
    // nop
  }

  /// Records a success; returns the delay until the next sample.
  std::chrono::milliseconds succeeded() {
    if (failing_) {
      spdlog::info("{}: source is back after {} failed attempt(s)", source_, failures_);
      failing_ = false;
      failures_ = 0;
      last_error_.clear();
    }
    return interval_;
  }

  /// Records a failure; returns the (growing) delay until the next attempt.
  std::chrono::milliseconds failed(const std::string& error) {
    ++failures_;
    if (!failing_ || error != last_error_)
      spdlog::warn("{}: source unavailable: {} (retrying with back-off)", source_, error);
    failing_ = true;
    last_error_ = error;
    auto delay = interval_;
    for (unsigned i = 1; i < failures_ && delay < max_backoff_; ++i)
      delay *= 2;
    return std::min(delay, max_backoff_);
  }

  std::chrono::milliseconds interval() const noexcept {
    return interval_;
  }

  bool failing() const noexcept {
    return failing_;
  }

private:
  std::string source_;
  std::chrono::milliseconds interval_;
  std::chrono::milliseconds max_backoff_;
  bool failing_ = false;
  unsigned failures_ = 0;
  std::string last_error_;
};

/// Schedules a collector's next tick `delay` (the interval or a back-off) from now, on the
/// collectors' common boundary.
template <class Self>
void schedule_tick(Self* self, const source_health& health, std::chrono::milliseconds delay) {
  self->delayed_send(self, delay_to_boundary(delay, health.interval()), caf::tick_atom::value);
}

/// Sends a collector's sample to the hub, or marks its section unavailable, and schedules the
/// next tick after the interval or the back-off.
template <class Self, class Hub, class Sample>
void report_sample(Self* self, Hub& hub, source_health& health, section_kind kind,
                   std::optional<Sample> sample, const std::string& error) {
  std::chrono::milliseconds next;
  if (sample) {
    self->send(hub, std::move(*sample));
    next = health.succeeded();
  } else {
    self->send(hub, unavailable_atom::value, kind, error);
    next = health.failed(error);
  }
  schedule_tick(self, health, next);
}

} // namespace medianest
