#pragma once
// Routes spdlog's default logger into a ring buffer for a test's lifetime: the daemon's code
// logs through the default logger, and a test reads what it wrote ("LEVEL message" lines).

#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

namespace medianest::test {

/// Routes the default logger into a ring buffer for the lifetime of the object.
class captured_log {
public:
  captured_log()
    : previous_(spdlog::default_logger()),
      sink_(std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(64)) {
    auto logger = std::make_shared<spdlog::logger>("captured", sink_);
    logger->set_level(spdlog::level::trace);
    logger->set_pattern("%l %v");
    spdlog::set_default_logger(std::move(logger));
  }

  ~captured_log() {
    spdlog::set_default_logger(previous_);
  }

  std::vector<std::string> lines() const {
    return sink_->last_formatted();
  }

private:
  std::shared_ptr<spdlog::logger> previous_;
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink_;
};

} // namespace medianest::test
