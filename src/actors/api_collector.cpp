#include "actors/api_collector.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/aligned_tick.hpp"

namespace medianest {

int64_t steady_now_ms() noexcept {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

collector_actor::behavior_type
api_collector(collector_actor::stateful_pointer<api_collector_state> self, metrics_hub_actor hub,
              std::shared_ptr<http::request_recorder> recorder, connection_gauge connections,
              std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.recorder = std::move(recorder);
  st.connections = std::move(connections);
  st.interval = interval;
  self->send(self, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      auto& st = self->state;
      for (const auto& record : st.recorder->drain())
        st.window.add(record);
      auto open = st.connections ? st.connections() : 0;
      self->send(st.hub, st.window.sample(steady_now_ms(), open));
      self->delayed_send(self, delay_to_boundary(st.interval, st.interval), caf::tick_atom::value);
    },
  };
}

} // namespace medianest
