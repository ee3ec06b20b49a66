#pragma once

#include <chrono>
#include <string>

namespace medianest {

using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Formats a time as ISO-8601 UTC with milliseconds: "2025-01-15T12:00:00.000Z".
std::string iso8601(sys_ms t);

/// The current wall-clock time at millisecond resolution.
sys_ms now_ms();

} // namespace medianest
