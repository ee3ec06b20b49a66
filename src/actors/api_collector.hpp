#pragma once

#include <chrono>
#include <functional>
#include <memory>

#include "actors/api_window.hpp"
#include "actors/interfaces.hpp"
#include "http/request_recorder.hpp"

namespace medianest {

/// Reports the open HTTP and WebSocket connections right now.
using connection_gauge = std::function<uint64_t()>;

struct api_collector_state {
  static inline const char* name = "api_collector";

  api_window window;
  std::shared_ptr<http::request_recorder> recorder;
  connection_gauge connections;
  metrics_hub_actor hub;
  std::chrono::milliseconds interval{1000};
};

/// The api collector: on every tick takes the requests the HTTP layer recorded since the
/// previous one, folds them into the sliding window and sends the api sample to the hub.
collector_actor::behavior_type
api_collector(collector_actor::stateful_pointer<api_collector_state> self, metrics_hub_actor hub,
              std::shared_ptr<http::request_recorder> recorder, connection_gauge connections,
              std::chrono::milliseconds interval);

/// Steady-clock milliseconds, the time base of request records and the window.
int64_t steady_now_ms() noexcept;

} // namespace medianest
