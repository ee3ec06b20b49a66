#pragma once

#include <functional>
#include <memory>
#include <string>

#include "actors/interfaces.hpp"

namespace medianest {

/// Where the live publisher hands its frames: the HTTP layer's live feed (bound by the daemon).
struct live_sink {
  std::function<bool()> has_clients;
  std::function<void(std::shared_ptr<const std::string> admin,
                     std::shared_ptr<const std::string> user)>
    publish_metrics;
  std::function<void(std::shared_ptr<const std::string> frame, bool admin_only)> publish_event;
};

struct live_publisher_state {
  static inline const char* name = "live_publisher";
  live_sink sink;
};

/// Subscribes to the hub, the alert evaluator and the optimization supervisor; renders each
/// snapshot (admin and user form), alert event and run change once, only while clients listen.
live_publisher_actor::behavior_type
live_publisher(live_publisher_actor::stateful_pointer<live_publisher_state> self,
               live_sink sink, metrics_hub_actor hub, alert_evaluator_actor alerts,
               optimization_supervisor_actor optimizer);

} // namespace medianest
