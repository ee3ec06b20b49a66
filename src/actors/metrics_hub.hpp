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
  /// Why the time-series store's writes fail (empty while they succeed), and since when.
  std::string history_write_error;
  sys_ms history_write_error_since{};
  snapshot_ptr latest;
  std::vector<caf::actor> subscribers;
  snapshot_sink sink;
  std::chrono::milliseconds interval{1000};
  bool refresh_pending = false;
  /// When the next tick publishes anyway: a sample arriving shortly before needs no refresh.
  std::chrono::steady_clock::time_point next_tick{};
  /// Whether the api section holds an interval the subscribers have not received yet: the
  /// next api sample then carries it on (see carry_interval).
  bool api_interval_unpublished = false;

  /// Freezes `current` into a new immutable snapshot stamped with the time.
  snapshot_ptr freeze();
};

/// Adds the per-interval part of an api sample the subscribers never saw (the requests of its
/// interval, their durations and errors) to the next sample, which replaces it: every request
/// reaches the time-series store once, whatever the phase of the collector's and the hub's
/// timers (two api samples within one publication interval would otherwise lose the first).
void carry_interval(api_sample& next, const api_sample& unpublished);

/// The metrics hub: keeps the latest sample of every collector. Subscribers (store, evaluator,
/// live feed) and the sink (the HTTP view) get one snapshot every `interval`, ticking shortly
/// after the collectors' common boundary (aligned_tick.hpp), when their samples are in. A
/// sample arriving off that beat (a slow source, a failure, a back-off) reaches the sink
/// within ~20 ms, so /metrics is never older than the collectors.
metrics_hub_actor::behavior_type
metrics_hub(metrics_hub_actor::stateful_pointer<metrics_hub_state> self,
            std::chrono::milliseconds interval, snapshot_sink sink);

} // namespace medianest
