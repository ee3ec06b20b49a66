#pragma once

#include <memory>
#include <string>

namespace spdlog {
class logger;
}

namespace medianest {

/// Sets up the default logger and returns the access logger. Both write to stderr through an
/// asynchronous queue that drops the oldest lines rather than block an asio or actor thread.
/// `format` is "text" or "json" (one object per line: ts, level, logger, msg).
std::shared_ptr<spdlog::logger> configure_logging(const std::string& level,
                                                  const std::string& format, bool access_log);

/// Escapes a string for a JSON string literal (without the quotes).
std::string json_escape(std::string_view in);

} // namespace medianest
