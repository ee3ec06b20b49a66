#pragma once

#include <chrono>
#include <string>

namespace medianest {

/// A circuit breaker for one destination. Closed: every attempt is allowed; `threshold`
/// consecutive failures open it. Open: nothing is allowed until `cool_down` has passed since it
/// opened; the first allow() after that turns it half-open and lets one probe through (further
/// allow() calls are false while the probe is out). The probe's success closes it, its failure
/// re-opens it for another cool-down. A success recorded in any state closes it.
class circuit_breaker {
public:
  /// A threshold below 1 counts as 1.
  explicit circuit_breaker(unsigned threshold = 5,
                           std::chrono::milliseconds cool_down = std::chrono::seconds{30});

  /// May an attempt start now? May move open → half-open (see the class comment).
  bool allow(std::chrono::steady_clock::time_point now);

  /// Records the outcome of an attempt that allow() let through.
  void record(bool ok, std::chrono::steady_clock::time_point now);

  /// An attempt that allow() let through ended without telling anything about the
  /// destination (its caller went away): a half-open breaker may send another probe.
  void abandon() noexcept;

  /// "closed", "open" or "half-open". An open breaker whose cool-down has passed reports "open"
  /// until the next allow().
  std::string state() const;

  unsigned consecutive_failures() const noexcept { return failures_; }

  /// While open: how long until the next allow() lets a probe through; otherwise zero.
  std::chrono::milliseconds retry_after(std::chrono::steady_clock::time_point now) const;

private:
  enum class mode { closed, open, half_open };
  unsigned threshold_;
  std::chrono::milliseconds cool_down_;
  mode mode_ = mode::closed;
  unsigned failures_ = 0;
  bool probe_out_ = false;
  std::chrono::steady_clock::time_point opened_at_{};
};

} // namespace medianest
