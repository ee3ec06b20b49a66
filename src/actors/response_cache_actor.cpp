#include "actors/response_cache_actor.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace medianest {

response_cache_actor::behavior_type
response_cache_actor_impl(response_cache_actor::stateful_pointer<response_cache_state> self,
                          uint64_t capacity_bytes, std::chrono::milliseconds purge_interval) {
  self->state.cache.resize(capacity_bytes);
  self->delayed_send(self, purge_interval, caf::tick_atom::value);
  return {
    [self](caf::get_atom, const std::string& key) { return self->state.cache.get(key); },
    [self](caf::put_atom, const std::string& key, cached_response_ptr& value, int64_t ttl_ms) {
      self->state.cache.put(key, std::move(value), std::chrono::milliseconds(ttl_ms));
    },
    [self](caf::delete_atom, const std::string& key) { return self->state.cache.erase(key); },
    [self](caf::reset_atom) { return self->state.cache.clear(); },
    [self](status_atom) { return self->state.cache.counters(); },
    [self](compact_atom) -> uint64_t { return self->state.cache.purge_expired(); },
    [self, purge_interval](caf::tick_atom) {
      self->state.cache.purge_expired();
      self->delayed_send(self, purge_interval, caf::tick_atom::value);
    },
  };
}

} // namespace medianest
