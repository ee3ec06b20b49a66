#include "actors/activity_counter.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace medianest {

namespace {

using self_ptr = activity_counter_actor::stateful_pointer<activity_counter_state>;

void publish(self_ptr self) {
  if (self->state.publish)
    self->state.publish(self->state.counts.families());
}

} // namespace

activity_counter_actor::behavior_type
activity_counter(self_ptr self, std::function<void(std::vector<metric_family>)> publish_to) {
  self->state.publish = std::move(publish_to);
  publish(self); // the zero values from the start
  return {
    [self](const alert_event& e) {
      self->state.counts.on_alert(e);
      publish(self);
    },
    [self](optimize_atom, const optimization_run& run) {
      self->state.counts.on_run(run);
      publish(self);
    },
    [self](const delivery_record& d) {
      self->state.counts.on_delivery(d);
      publish(self);
    },
  };
}

} // namespace medianest
