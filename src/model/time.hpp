#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

namespace medianest {

using sys_ms = std::chrono::time_point<std::chrono::system_clock, std::chrono::milliseconds>;

/// Formats a time as ISO-8601 UTC with milliseconds: "2025-01-15T12:00:00.000Z".
std::string iso8601(sys_ms t);

/// Appends a whole-second time as ISO-8601 UTC with milliseconds ("…T12:00:00.000Z"), fast
/// for long ascending series (the date part is computed once per day).
void append_iso8601_seconds(std::string& out, int64_t unix_seconds);

/// Reads back what iso8601() writes ("YYYY-MM-DDTHH:MM:SS.mmmZ", exactly); nullopt otherwise.
std::optional<sys_ms> parse_iso8601(std::string_view text);

/// The current wall-clock time at millisecond resolution.
sys_ms now_ms();

} // namespace medianest
