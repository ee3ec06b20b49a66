#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include "actors/interfaces.hpp"

namespace medianest {

/// Receives every published snapshot outside the actor world (the HTTP layer's view).
using snapshot_sink = std::function<void(snapshot_ptr)>;

struct metrics_hub_state {
  static inline const char* name = "metrics_hub";

  snapshot current;
  snapshot_ptr latest;
  std::vector<caf::actor> subscribers;
  snapshot_sink sink;
  std::chrono::milliseconds interval{1000};
  bool refresh_pending = false;

  /// Freezes `current` into a new immutable snapshot stamped with the time.
  snapshot_ptr freeze();
};

/// The metrics hub: keeps the latest sample of every collector. The sink (the HTTP view) gets
/// a fresh snapshot within ~20 ms of any new sample, so /metrics is never older than the
/// collectors; subscribers (store, evaluator, live feed) get one snapshot every `interval`.
metrics_hub_actor::behavior_type
metrics_hub(metrics_hub_actor::stateful_pointer<metrics_hub_state> self,
            std::chrono::milliseconds interval, snapshot_sink sink);

} // namespace medianest
