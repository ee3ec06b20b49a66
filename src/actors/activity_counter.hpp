#pragma once

#include <functional>
#include <vector>

#include "actors/interfaces.hpp"
#include "model/activity_counts.hpp"

namespace medianest {

struct activity_counter_state {
  static inline const char* name = "activity_counter";
  activity_counts counts;
  /// Receives the families after every change (the daemon binds it to /prometheus).
  std::function<void(std::vector<metric_family>)> publish;
};

/// Counts alert events, optimization runs and notification deliveries for /prometheus
/// (docs/prometheus.md). Subscribes itself to the evaluator and the supervisor; the
/// notification channels send it their delivery records.
activity_counter_actor::behavior_type
activity_counter(activity_counter_actor::stateful_pointer<activity_counter_state> self,
                 std::function<void(std::vector<metric_family>)> publish);

} // namespace medianest
