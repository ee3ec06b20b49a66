#include "actors/metrics_hub.hpp"

#include <algorithm>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/aligned_tick.hpp"

namespace medianest {

namespace {

constexpr auto refresh_delay = std::chrono::milliseconds(20);

template <class T>
void replace(section<T>& target, T&& value) {
  target.value = std::move(value);
  target.error.clear();
  target.updated = now_ms();
}

void schedule_refresh(metrics_hub_actor::stateful_pointer<metrics_hub_state> self) {
  if (self->state.refresh_pending)
    return;
  // Samples of the collectors' common boundary arrive just before the tick, which publishes
  // them: a refresh of its own would publish (and wake the hub) once more for nothing.
  if (self->state.next_tick - std::chrono::steady_clock::now() <= 3 * refresh_delay)
    return;
  self->state.refresh_pending = true;
  self->delayed_send(self, refresh_delay, caf::publish_atom::value);
}

template <class T>
void mark_unavailable(section<T>& target, std::string error) {
  if (target.error.empty())
    target.updated = now_ms(); // "since" is when it started failing
  target.error = std::move(error);
}

} // namespace

void carry_interval(api_sample& next, const api_sample& unpublished) {
  next.interval_latency.merge(unpublished.interval_latency);
  next.interval_requests += unpublished.interval_requests;
  next.interval_errors += unpublished.interval_errors;
}

snapshot_ptr metrics_hub_state::freeze() {
  auto frozen = std::make_shared<snapshot>(current);
  frozen->timestamp = now_ms();
  // Failing history writes make the database unavailable to the daemon, whatever its reads
  // say; the collector's own failure (the server is down) is the more basic reason and wins.
  if (!history_write_error.empty() && frozen->database.error.empty()) {
    frozen->database.error = history_write_error;
    frozen->database.updated = history_write_error_since;
  }
  // The connection counts of other sections, as an operator reads /resources.
  if (frozen->resources.value) {
    auto& conn = frozen->resources.value->connections;
    if (frozen->database.available())
      conn.database = frozen->database.value->active_connections;
    if (frozen->cache.available())
      conn.redis = frozen->cache.value->connected_clients;
  }
  return frozen;
}

metrics_hub_actor::behavior_type
metrics_hub(metrics_hub_actor::stateful_pointer<metrics_hub_state> self,
            std::chrono::milliseconds interval, snapshot_sink sink) {
  self->state.interval = interval;
  self->state.sink = std::move(sink);
  self->state.latest = self->state.freeze();
  if (self->state.sink)
    self->state.sink(self->state.latest);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& subs = self->state.subscribers;
    subs.erase(std::remove_if(subs.begin(), subs.end(),
                              [&](const caf::actor& a) { return a.address() == msg.source; }),
               subs.end());
  });
  self->send(self, caf::tick_atom::value);
  return {
    [self](system_sample& x) {
      replace(self->state.current.system, std::move(x));
      schedule_refresh(self);
    },
    [self](api_sample& x) {
      auto& st = self->state;
      if (st.api_interval_unpublished && st.current.api.value)
        carry_interval(x, *st.current.api.value);
      st.api_interval_unpublished = true;
      replace(st.current.api, std::move(x));
      schedule_refresh(self);
    },
    [self](database_sample& x) {
      replace(self->state.current.database, std::move(x));
      schedule_refresh(self);
    },
    [self](cache_sample& x) {
      replace(self->state.current.cache, std::move(x));
      schedule_refresh(self);
    },
    [self](resources_sample& x) {
      replace(self->state.current.resources, std::move(x));
      schedule_refresh(self);
    },
    [self](gateway_sample& x) {
      replace(self->state.current.gateway, std::move(x));
      schedule_refresh(self);
    },
    [self](unavailable_atom, section_kind kind, std::string& error) {
      auto& cur = self->state.current;
      switch (kind) {
        case section_kind::api: mark_unavailable(cur.api, std::move(error)); break;
        case section_kind::database: mark_unavailable(cur.database, std::move(error)); break;
        case section_kind::system: mark_unavailable(cur.system, std::move(error)); break;
        case section_kind::cache: mark_unavailable(cur.cache, std::move(error)); break;
        case section_kind::resources: mark_unavailable(cur.resources, std::move(error)); break;
      }
      schedule_refresh(self);
    },
    [self](history_writes_atom, std::string& error) {
      auto& st = self->state;
      if (!error.empty() && st.history_write_error.empty())
        st.history_write_error_since = now_ms();
      st.history_write_error = std::move(error);
      schedule_refresh(self);
    },
    [self](snapshot_atom) { return self->state.latest; },
    [self](caf::subscribe_atom, caf::actor& subscriber) {
      self->monitor(subscriber);
      self->state.subscribers.push_back(std::move(subscriber));
    },
    [self](caf::publish_atom) {
      auto& st = self->state;
      st.refresh_pending = false;
      st.latest = st.freeze();
      if (st.sink)
        st.sink(st.latest);
    },
    [self](caf::tick_atom) {
      auto& st = self->state;
      st.latest = st.freeze();
      if (st.sink)
        st.sink(st.latest);
      for (const auto& sub : st.subscribers)
        caf::anon_send(sub, snapshot_atom::value, st.latest);
      st.api_interval_unpublished = false;
      auto delay = delay_to_boundary(st.interval, st.interval, hub_tick_offset(st.interval));
      st.next_tick = std::chrono::steady_clock::now() + delay;
      self->delayed_send(self, delay, caf::tick_atom::value);
    },
  };
}

} // namespace medianest
