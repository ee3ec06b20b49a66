#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

namespace medianest {

/// A cached response: status, content type, body, and when it was stored.
struct cached_response {
  unsigned status = 200;
  std::string content_type;
  std::string body;
  /// When it was produced: lets a reader serve it stale while a refresh is under way.
  std::chrono::steady_clock::time_point produced = std::chrono::steady_clock::now();
  /// Further response headers to replay (the gateway keeps the upstream's end-to-end headers).
  std::vector<std::pair<std::string, std::string>> headers;
};

using cached_response_ptr = std::shared_ptr<const cached_response>;

/// Counters of a response cache since it was created.
struct cache_counters {
  uint64_t hits = 0;
  uint64_t misses = 0;
  uint64_t sets = 0;
  uint64_t deletes = 0;
  uint64_t evictions = 0;
  uint64_t expired = 0;
  uint64_t keys = 0;
  uint64_t bytes = 0;
  uint64_t capacity_bytes = 0;
};

/// The sum of two caches' counters.
cache_counters operator+(cache_counters a, const cache_counters& b) noexcept;

/// The daemon's built-in response cache: an LRU over a byte budget with a TTL per entry.
/// Not thread-safe (its actor owns it). An entry's cost is its key, body, content type and a fixed overhead.
class response_cache {
public:
  using clock = std::chrono::steady_clock;

  explicit response_cache(uint64_t capacity_bytes = 64ull << 20);

  /// The entry if present and fresh (counts a hit, refreshes its LRU position), else nullptr
  /// (counts a miss; an expired entry is dropped).
  cached_response_ptr get(const std::string& key, clock::time_point now = clock::now());

  /// Stores an entry for `ttl`, evicting least recently used entries past the byte budget.
  /// An entry larger than the whole budget is not stored.
  void put(const std::string& key, cached_response_ptr value, std::chrono::milliseconds ttl,
           clock::time_point now = clock::now());

  /// Removes an entry; true if it was there.
  bool erase(const std::string& key);

  /// Drops every expired entry; returns how many.
  size_t purge_expired(clock::time_point now = clock::now());

  /// Drops everything; returns the bytes freed.
  uint64_t clear();

  /// Changes the byte budget (evicting as needed).
  void resize(uint64_t capacity_bytes);

  cache_counters counters() const noexcept;

private:
  struct entry {
    std::string key;
    cached_response_ptr value;
    clock::time_point expires;
    uint64_t cost;
  };
  using lru_list = std::list<entry>;

  static uint64_t cost_of(const std::string& key, const cached_response& value) noexcept;
  void drop(lru_list::iterator it);
  void evict_to(uint64_t budget);

  lru_list lru_; // front = most recently used
  std::unordered_map<std::string, lru_list::iterator> index_;
  cache_counters counters_;
};

} // namespace medianest
