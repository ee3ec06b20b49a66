#include "model/response_cache.hpp"

namespace medianest {

namespace {

constexpr uint64_t entry_overhead = 128; // list node, map node, control block

} // namespace

response_cache::response_cache(uint64_t capacity_bytes) {
  counters_.capacity_bytes = capacity_bytes;
}

cache_counters operator+(cache_counters a, const cache_counters& b) noexcept {
  a.hits += b.hits;
  a.misses += b.misses;
  a.sets += b.sets;
  a.deletes += b.deletes;
  a.evictions += b.evictions;
  a.expired += b.expired;
  a.keys += b.keys;
  a.bytes += b.bytes;
  a.capacity_bytes += b.capacity_bytes;
  return a;
}

uint64_t response_cache::cost_of(const std::string& key, const cached_response& value) noexcept {
  uint64_t cost = key.size() + value.body.size() + value.content_type.size() + entry_overhead;
  for (const auto& [name, text] : value.headers)
    cost += name.size() + text.size() + 2 * sizeof(std::string);
  return cost;
}

cached_response_ptr response_cache::get(const std::string& key, clock::time_point now) {
  auto it = index_.find(key);
  if (it == index_.end()) {
    ++counters_.misses;
    return nullptr;
  }
  if (it->second->expires <= now) {
    ++counters_.misses;
    ++counters_.expired;
    drop(it->second);
    return nullptr;
  }
  ++counters_.hits;
  lru_.splice(lru_.begin(), lru_, it->second);
  return it->second->value;
}

void response_cache::put(const std::string& key, cached_response_ptr value,
                         std::chrono::milliseconds ttl, clock::time_point now) {
  if (!value)
    return;
  auto cost = cost_of(key, *value);
  if (auto it = index_.find(key); it != index_.end())
    drop(it->second);
  if (cost > counters_.capacity_bytes)
    return;
  ++counters_.sets;
  evict_to(counters_.capacity_bytes - cost);
  lru_.push_front({key, std::move(value), now + ttl, cost});
  index_[key] = lru_.begin();
  counters_.bytes += cost;
  counters_.keys = index_.size();
}

bool response_cache::erase(const std::string& key) {
  auto it = index_.find(key);
  if (it == index_.end())
    return false;
  ++counters_.deletes;
  drop(it->second);
  return true;
}

size_t response_cache::purge_expired(clock::time_point now) {
  size_t dropped = 0;
  for (auto it = lru_.begin(); it != lru_.end();) {
    auto next = std::next(it);
    if (it->expires <= now) {
      ++counters_.expired;
      drop(it);
      ++dropped;
    }
    it = next;
  }
  return dropped;
}

uint64_t response_cache::clear() {
  auto freed = counters_.bytes;
  lru_.clear();
  index_.clear();
  counters_.bytes = 0;
  counters_.keys = 0;
  return freed;
}

void response_cache::resize(uint64_t capacity_bytes) {
  counters_.capacity_bytes = capacity_bytes;
  evict_to(capacity_bytes);
}

cache_counters response_cache::counters() const noexcept {
  return counters_;
}

void response_cache::drop(lru_list::iterator it) {
  counters_.bytes -= it->cost;
  index_.erase(it->key);
  lru_.erase(it);
  counters_.keys = index_.size();
}

void response_cache::evict_to(uint64_t budget) {
  while (counters_.bytes > budget && !lru_.empty()) {
    ++counters_.evictions;
    drop(std::prev(lru_.end()));
  }
}

} // namespace medianest
