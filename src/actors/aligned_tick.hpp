#pragma once

#include <algorithm>
#include <chrono>

namespace medianest {

/// The collectors and the hub tick on common boundaries: whole multiples of the sample
/// interval on the steady clock (the hub `offset` after them). One clock wake-up then starts
/// every collector, their samples reach the hub together and are published once; on phases
/// of their own, each collector cost its own wake-ups and its own publication.
///
/// Returns the delay from `now` to the boundary nearest to `now + delay` (never in the past):
/// `delay` is the interval itself or a back-off, a multiple of it. Nearest rather than next,
/// so that a tick that ran a little after its boundary is not pushed a whole period later.
inline std::chrono::nanoseconds
delay_to_boundary(std::chrono::nanoseconds delay, std::chrono::nanoseconds period,
                  std::chrono::nanoseconds offset = {},
                  std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now()) {
  auto p = period.count();
  if (p <= 0)
    return delay;
  auto at_now =
    std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch()).count();
  auto wanted = at_now + delay.count() - p / 2 - offset.count();
  auto k = wanted >= 0 ? (wanted + p - 1) / p : -((-wanted) / p);
  auto at = k * p + offset.count();
  while (at <= at_now)
    at += p;
  return std::chrono::nanoseconds{at - at_now};
}

/// How long after the collectors' boundary the hub ticks: time for their samples to arrive.
inline std::chrono::nanoseconds hub_tick_offset(std::chrono::nanoseconds period) {
  return std::min<std::chrono::nanoseconds>(period / 10, std::chrono::milliseconds(50));
}

} // namespace medianest
