#include "model/shared_response_cache.hpp"

#include <algorithm>
#include <functional>

namespace medianest {

shared_response_cache::shared_response_cache(uint64_t capacity_bytes, size_t shards)
  : shard_capacity_(capacity_bytes / std::max<size_t>(shards, 1)) {
  shards_.reserve(std::max<size_t>(shards, 1));
  for (size_t i = 0; i < std::max<size_t>(shards, 1); ++i)
    shards_.push_back(std::make_unique<shard>(shard_capacity_.load()));
}

shared_response_cache::shard& shared_response_cache::shard_for(const std::string& key) noexcept {
  return *shards_[std::hash<std::string>{}(key) % shards_.size()];
}

cached_response_ptr shared_response_cache::get(const std::string& key, clock::time_point now) {
  auto& s = shard_for(key);
  std::lock_guard guard{s.mutex};
  return s.cache.get(key, now);
}

void shared_response_cache::put(const std::string& key, cached_response_ptr value,
                                std::chrono::milliseconds ttl, clock::time_point now) {
  auto& s = shard_for(key);
  std::lock_guard guard{s.mutex};
  s.cache.put(key, std::move(value), ttl, now);
}

cache_counters shared_response_cache::counters() const {
  cache_counters sum;
  for (const auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    sum = sum + s->cache.counters();
  }
  return sum;
}

size_t shared_response_cache::purge_expired(clock::time_point now) {
  size_t dropped = 0;
  for (auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    dropped += s->cache.purge_expired(now);
  }
  return dropped;
}

uint64_t shared_response_cache::clear() {
  uint64_t freed = 0;
  for (auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    freed += s->cache.clear();
  }
  return freed;
}

void shared_response_cache::resize(uint64_t capacity_bytes) {
  auto per_shard = capacity_bytes / shards_.size();
  shard_capacity_.store(per_shard);
  for (auto& s : shards_) {
    std::lock_guard guard{s->mutex};
    s->cache.resize(per_shard);
  }
}

} // namespace medianest
