#pragma once

#include <chrono>
#include <ctime>

namespace medianest::http {

/// The steady clock at the kernel's tick resolution (a few ms behind, a fraction of the cost
/// of steady_clock::now()): for deadlines, which are noted on every step of a request and
/// need no precision. Durations that are reported use steady_clock::now().
inline std::chrono::steady_clock::time_point coarse_now() noexcept {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
  return std::chrono::steady_clock::time_point(
    std::chrono::duration_cast<std::chrono::steady_clock::duration>(
      std::chrono::seconds(ts.tv_sec) + std::chrono::nanoseconds(ts.tv_nsec)));
}

} // namespace medianest::http
