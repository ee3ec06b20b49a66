#pragma once

#include "actors/interfaces.hpp"
#include "model/response_cache.hpp"

namespace medianest {

struct response_cache_state {
  static inline const char* name = "response_cache";
  response_cache cache;
};

/// Owns the built-in response cache; purges expired entries every `purge_interval`.
response_cache_actor::behavior_type
response_cache_actor_impl(response_cache_actor::stateful_pointer<response_cache_state> self,
                          uint64_t capacity_bytes, std::chrono::milliseconds purge_interval);

} // namespace medianest
