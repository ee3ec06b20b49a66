#include "app/logging.hpp"

#include <spdlog/async.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace medianest {

namespace {

/// `%*`: the message, escaped for a JSON string.
class json_message_flag : public spdlog::custom_flag_formatter {
public:
  void format(const spdlog::details::log_msg& msg, const std::tm&,
              spdlog::memory_buf_t& dest) override {
    auto escaped = json_escape({msg.payload.data(), msg.payload.size()});
    dest.append(escaped.data(), escaped.data() + escaped.size());
  }

  std::unique_ptr<custom_flag_formatter> clone() const override {
    return std::make_unique<json_message_flag>();
  }
};

std::unique_ptr<spdlog::formatter> make_formatter(const std::string& format) {
  auto formatter = std::make_unique<spdlog::pattern_formatter>(spdlog::pattern_time_type::utc);
  if (format == "json")
    formatter->add_flag<json_message_flag>('*').set_pattern(
      R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","logger":"%n","msg":"%*"})");
  else
    formatter->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l [%n] %v");
  return formatter;
}

} // namespace

std::string json_escape(std::string_view in) {
  std::string out;
  out.reserve(in.size() + 8);
  for (unsigned char c : in) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out;
}

std::shared_ptr<spdlog::logger> configure_logging(const std::string& level,
                                                  const std::string& format, bool access_log) {
  // The queue is allocated whole up front (~410 bytes a slot): 4096 slots (1.6 MB) absorb
  // bursts of access lines; without the access log, the daemon's own lines are rare and 512
  // slots (200 KB) are plenty. When full, the oldest line is dropped: logging never blocks.
  if (!spdlog::thread_pool())
    spdlog::init_thread_pool(access_log ? 4096 : 512, 1);
  auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  sink->set_formatter(make_formatter(format));
  auto make = [&](const std::string& name) {
    spdlog::drop(name);
    auto logger = std::make_shared<spdlog::async_logger>(
      name, sink, spdlog::thread_pool(), spdlog::async_overflow_policy::overrun_oldest);
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::warn);
    spdlog::register_logger(logger);
    return logger;
  };
  spdlog::set_default_logger(make("medianest"));
  if (!access_log)
    return nullptr;
  return make("access");
}

} // namespace medianest
