#include "actors/gateway_collector.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/aligned_tick.hpp"

namespace medianest {

collector_actor::behavior_type
gateway_collector(collector_actor::stateful_pointer<gateway_collector_state> self,
                  metrics_hub_actor hub, std::function<gateway_sample()> read,
                  std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.read = std::move(read);
  st.interval = interval;
  self->send(self, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      auto& st = self->state;
      self->send(st.hub, st.read());
      self->delayed_send(self, delay_to_boundary(st.interval, st.interval), caf::tick_atom::value);
    },
  };
}

} // namespace medianest
