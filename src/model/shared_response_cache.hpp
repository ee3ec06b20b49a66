#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <vector>

#include "model/response_cache.hpp"

namespace medianest {

/// A response cache that any thread may use: `shards` response caches, each behind its own
/// mutex and holding its share of the byte budget, chosen by a hash of the key.
class shared_response_cache {
public:
  using clock = response_cache::clock;

  explicit shared_response_cache(uint64_t capacity_bytes, size_t shards = 16);

  cached_response_ptr get(const std::string& key, clock::time_point now = clock::now());
  void put(const std::string& key, cached_response_ptr value, std::chrono::milliseconds ttl,
           clock::time_point now = clock::now());
  /// The largest entry worth storing: a shard's budget.
  uint64_t max_entry_bytes() const noexcept {
    return shard_capacity_.load(std::memory_order_relaxed);
  }
  /// The counters of every shard, summed.
  cache_counters counters() const;

  /// Drops every expired entry; returns how many.
  size_t purge_expired(clock::time_point now = clock::now());
  /// Drops every entry; returns the bytes they held.
  uint64_t clear();
  /// Changes the byte budget (shared evenly by the shards; evicts as needed).
  void resize(uint64_t capacity_bytes);

private:
  struct alignas(64) shard {
    explicit shard(uint64_t capacity) : cache(capacity) {}
    mutable std::mutex mutex;
    response_cache cache;
  };
  shard& shard_for(const std::string& key) noexcept;

  std::atomic<uint64_t> shard_capacity_;
  std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace medianest
