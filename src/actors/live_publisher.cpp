#include "actors/live_publisher.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/live_frames.hpp"

namespace medianest {

namespace {

std::shared_ptr<const std::string> shared(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

} // namespace

live_publisher_actor::behavior_type
live_publisher(live_publisher_actor::stateful_pointer<live_publisher_state> self,
               live_sink sink, metrics_hub_actor hub, alert_evaluator_actor alerts,
               optimization_supervisor_actor optimizer) {
  self->state.sink = std::move(sink);
  auto me = caf::actor_cast<caf::actor>(self);
  if (hub)
    self->send(hub, caf::subscribe_atom::value, me);
  if (alerts)
    self->send(alerts, caf::subscribe_atom::value, me);
  if (optimizer)
    self->send(optimizer, caf::subscribe_atom::value, me);
  return {
    [self](snapshot_atom, const snapshot_ptr& snap) {
      auto& sink = self->state.sink;
      if (!snap || !sink.has_clients())
        return;
      auto at = live_now_ms();
      sink.publish_metrics(shared(metrics_frame(*snap, true, at)),
                           shared(metrics_frame(*snap, false, at)));
    },
    [self](const alert_event& e) {
      auto& sink = self->state.sink;
      if (sink.has_clients())
        sink.publish_event(shared(alert_frame(e, live_now_ms())), false);
    },
    [self](optimize_atom, const optimization_run& run) {
      auto& sink = self->state.sink;
      if (sink.has_clients())
        sink.publish_event(shared(optimization_frame(run, live_now_ms())), true);
    },
  };
}

} // namespace medianest
