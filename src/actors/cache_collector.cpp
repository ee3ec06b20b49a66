#include "actors/cache_collector.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/human_bytes.hpp"

namespace medianest {

namespace {

double ratio(uint64_t hits, uint64_t misses) {
  auto lookups = hits + misses;
  return lookups ? static_cast<double>(hits) / static_cast<double>(lookups) : 0.0;
}

void sample_redis(collector_actor::stateful_pointer<cache_collector_state> self) {
  auto& st = self->state;
  std::string error;
  auto fail = [&] {
    st.probe.reset();
    self->send(st.hub, unavailable_atom::value, section_kind::cache, "redis: " + error);
    schedule_tick(self, st.health, st.health.failed("redis: " + error));
  };
  if (!st.redis->connected() && !st.redis->connect(error))
    return fail();
  auto text = st.redis->info(error);
  if (!text)
    return fail();
  auto info = sources::parse_redis_info(*text);
  if (!info.parsed_ok) {
    error = "INFO reply could not be parsed";
    return fail();
  }
  auto sample = st.probe.update(info);
  sample.connected_clients = info.connected_clients;
  self->send(st.hub, std::move(sample));
  schedule_tick(self, st.health, st.health.succeeded());
}

void sample_builtin(collector_actor::stateful_pointer<cache_collector_state> self) {
  auto& st = self->state;
  self->request(st.builtin, std::chrono::seconds(1), status_atom::value)
    .then(
      [self](const cache_counters& own) {
        auto& st = self->state;
        auto counters = st.gateway_cache ? own + st.gateway_cache() : own;
        self->send(st.hub, builtin_cache_sample(counters, st.previous));
        st.previous = counters;
        schedule_tick(self, st.health, st.health.succeeded());
      },
      [self](const caf::error& err) {
        auto& st = self->state;
        auto reason = "built-in cache: " + caf::to_string(err);
        self->send(st.hub, unavailable_atom::value, section_kind::cache, reason);
        schedule_tick(self, st.health, st.health.failed(reason));
      });
}

} // namespace

cache_sample builtin_cache_sample(const cache_counters& now,
                                  const std::optional<cache_counters>& previous) {
  cache_sample s;
  s.source = "builtin";
  s.hit_rate = ratio(now.hits, now.misses);
  if (previous && now.hits >= previous->hits && now.misses >= previous->misses) {
    auto hits = now.hits - previous->hits;
    auto misses = now.misses - previous->misses;
    if (hits + misses > 0)
      s.hit_rate = ratio(hits, misses);
  }
  s.total_keys = now.keys;
  s.memory_bytes = now.bytes;
  s.memory_usage = human_bytes(now.bytes);
  s.evictions = now.evictions;
  s.gets = now.hits + now.misses;
  s.sets = now.sets;
  s.deletes = now.deletes;
  return s;
}

collector_actor::behavior_type
cache_collector(collector_actor::stateful_pointer<cache_collector_state> self,
                metrics_hub_actor hub, std::optional<redis_target> redis,
                response_cache_actor builtin, std::function<cache_counters()> gateway_cache,
                std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.builtin = std::move(builtin);
  st.gateway_cache = std::move(gateway_cache);
  st.health = source_health{redis ? "cache collector (redis)" : "cache collector", interval};
  if (redis)
    st.redis.emplace(std::move(*redis));
  self->send(self, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      if (self->state.redis)
        sample_redis(self);
      else
        sample_builtin(self);
    },
  };
}

} // namespace medianest
