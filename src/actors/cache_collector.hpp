#pragma once

#include <functional>
#include <optional>

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "app/config.hpp"
#include "sources/redis_client.hpp"

namespace medianest {

struct cache_collector_state {
  static inline const char* name = "cache_collector";

  std::optional<sources::redis_client> redis;
  sources::redis_cache_probe probe;
  response_cache_actor builtin;
  std::function<cache_counters()> gateway_cache;
  std::optional<cache_counters> previous;
  metrics_hub_actor hub;
  source_health health{"cache collector", std::chrono::seconds(1)};
};

/// Samples Redis INFO through hiredis when a Redis is configured, otherwise the built-in
/// response cache plus, in gateway mode, the gateway's local cache (`gateway_cache`, may be
/// empty). Talks to Redis with blocking calls: spawn it detached.
collector_actor::behavior_type
cache_collector(collector_actor::stateful_pointer<cache_collector_state> self,
                metrics_hub_actor hub, std::optional<redis_target> redis,
                response_cache_actor builtin, std::function<cache_counters()> gateway_cache,
                std::chrono::milliseconds interval);

/// The cache sample of the built-in cache: hit rate over the interval since `previous` (the
/// lifetime ratio when the interval had no lookups), lifetime operation counts.
cache_sample builtin_cache_sample(const cache_counters& now,
                                  const std::optional<cache_counters>& previous);

} // namespace medianest
