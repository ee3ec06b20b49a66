#pragma once

#include <chrono>
#include <functional>

#include "actors/interfaces.hpp"

namespace medianest {

struct gateway_collector_state {
  static inline const char* name = "gateway_collector";

  // The interval comes first: CAF would take a state whose first member is an actor handle
  // for one constructible from the actor itself (C++20 parenthesized aggregate init).
  std::chrono::milliseconds interval{1000};
  metrics_hub_actor hub;
  std::function<gateway_sample()> read;
};

/// Gateway mode: sends the gateway's counters, pool and breaker state to the hub every
/// interval. `read` only takes a few short locks, so it may run on the scheduler.
collector_actor::behavior_type
gateway_collector(collector_actor::stateful_pointer<gateway_collector_state> self,
                  metrics_hub_actor hub, std::function<gateway_sample()> read,
                  std::chrono::milliseconds interval);

} // namespace medianest
