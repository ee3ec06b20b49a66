#pragma once

// The live feed's frames (docs/live.md) as plain JSON text, and the one message a client may
// send. Every frame is `{"type", "at", "data"}`; `at` is unix ms with fractions.

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>

#include "model/alerts.hpp"
#include "model/error.hpp"
#include "model/metrics.hpp"
#include "model/optimization.hpp"

namespace medianest {

inline constexpr std::chrono::milliseconds min_live_interval{100};
inline constexpr std::chrono::milliseconds max_live_interval{60'000};
inline constexpr std::chrono::milliseconds default_live_interval{1'000};

/// Now as unix ms with microsecond fractions.
double live_now_ms();

/// Admins: the `data` of GET /metrics; users: `{"currentMetrics": ...}` as in GET /summary.
std::string metrics_frame(const snapshot& s, bool admin, double at_ms);
std::string alert_frame(const alert_event& e, double at_ms);
std::string optimization_frame(const optimization_run& run, double at_ms);
/// `{"role", "interval", "minInterval", "maxInterval"}` (ms).
std::string hello_frame(bool admin, std::chrono::milliseconds interval, double at_ms);
/// `{"code", "message", "field"}` of an error.
std::string error_frame(const api_error& err, double at_ms);

/// `{"type":"subscribe","interval":MS}`: the interval asked for, or a VALIDATION_ERROR naming
/// the field ("message", "type" or "interval").
std::variant<std::chrono::milliseconds, api_error> parse_client_message(std::string_view text);

} // namespace medianest
