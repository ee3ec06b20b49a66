#include "model/rate_limiter.hpp"

#include <algorithm>
#include <cmath>

namespace medianest {

namespace {

/// Absorbs floating-point error in refill sums so that whole tokens count as whole.
constexpr double epsilon = 1e-9;

rate_limit_config normalized(rate_limit_config cfg) noexcept {
  cfg.window = std::max(cfg.window, std::chrono::seconds{1});
  cfg.max_clients = std::max<size_t>(cfg.max_clients, 1);
  cfg.lockout = std::max(cfg.lockout, std::chrono::seconds{0});
  return cfg;
}

/// Whole seconds in `d`, rounded up, at least 1.
int64_t ceil_seconds(std::chrono::steady_clock::duration d) noexcept {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d).count();
  return std::max<int64_t>(1, (ns + 999'999'999) / 1'000'000'000);
}

} // namespace

rate_limiter::rate_limiter(rate_limit_config cfg) : cfg_(normalized(cfg)) {}

double rate_limiter::capacity() const noexcept {
  return double(cfg_.limit) + double(cfg_.burst);
}

double rate_limiter::tokens_per_ns() const noexcept {
  using namespace std::chrono;
  return double(cfg_.limit) / double(duration_cast<nanoseconds>(cfg_.window).count());
}

rate_decision rate_limiter::check(std::string_view client, clock::time_point now) {
  if (cfg_.limit == 0)
    return {true, 0, 0, 0, 0};
  auto it = find_or_insert(client, now);
  auto& b = *it;
  if (b.locked_until != clock::time_point{}) {
    if (now < b.locked_until) {
      rate_decision d;
      d.allowed = false;
      d.limit = cfg_.limit;
      d.retry_after_seconds = ceil_seconds(b.locked_until - now);
      d.reset_seconds = d.retry_after_seconds; // full again the moment the lockout ends
      return d;
    }
    // The lockout is over: the client starts again with a full bucket.
    b.locked_until = {};
    b.tokens = capacity();
    b.last = now;
  }
  refill(b, now);
  return decide(b, now);
}

int64_t rate_limiter::locked_for(std::string_view client, clock::time_point now) const {
  auto found = index_.find(client);
  if (found == index_.end() || now >= found->second->locked_until)
    return 0;
  return ceil_seconds(found->second->locked_until - now);
}

rate_limiter::lru_list::iterator rate_limiter::find_or_insert(std::string_view client,
                                                              clock::time_point now) {
  if (auto found = index_.find(client); found != index_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    return found->second;
  }
  return insert(client, now);
}

rate_limiter::lru_list::iterator rate_limiter::insert(std::string_view client, clock::time_point now) {
  // Buckets that refilled completely expire: a fresh bucket would be the same. The least recently
  // used end holds the likeliest ones, so memory shrinks back after a crowd of clients has gone.
  while (!lru_.empty() && expired(lru_.back(), now)) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
  if (index_.size() >= cfg_.max_clients) {
    // Reuse the least recently used node: its key's storage and the list node itself.
    auto victim = std::prev(lru_.end());
    index_.erase(victim->key);
    victim->key.assign(client);
    victim->tokens = capacity();
    victim->last = now;
    victim->locked_until = {};
    lru_.splice(lru_.begin(), lru_, victim);
  } else {
    lru_.push_front({std::string(client), capacity(), now, {}});
  }
  index_.emplace(lru_.front().key, lru_.begin());
  return lru_.begin();
}

void rate_limiter::refill(bucket& b, clock::time_point now) const noexcept {
  if (now <= b.last)
    return;
  auto elapsed = std::chrono::duration_cast<std::chrono::nanoseconds>(now - b.last).count();
  b.tokens = std::min(capacity(), b.tokens + double(elapsed) * tokens_per_ns());
  b.last = now;
}

bool rate_limiter::expired(const bucket& b, clock::time_point now) const noexcept {
  if (b.locked_until != clock::time_point{})
    return now >= b.locked_until; // after its lockout a client starts full anyway
  double refilled = b.tokens;
  if (now > b.last)
    refilled += double(std::chrono::duration_cast<std::chrono::nanoseconds>(now - b.last).count())
                * tokens_per_ns();
  return refilled + epsilon >= capacity();
}

int64_t rate_limiter::seconds_for(double tokens) const noexcept {
  if (tokens <= epsilon)
    return 0;
  double seconds = tokens / double(cfg_.limit) * double(cfg_.window.count());
  return int64_t(std::ceil(seconds - epsilon));
}

rate_decision rate_limiter::decide(bucket& b, clock::time_point now) const noexcept {
  rate_decision d;
  d.limit = cfg_.limit;
  d.allowed = b.tokens + epsilon >= 1.0;
  if (d.allowed)
    b.tokens = std::max(0.0, b.tokens - 1.0);
  if (d.allowed && cfg_.lockout.count() > 0 && b.tokens + epsilon < 1.0) {
    b.locked_until = now + cfg_.lockout;
    d.locked_out = true;
    d.remaining = 0;
    d.reset_seconds = cfg_.lockout.count();
    return d;
  }
  if (!d.allowed)
    d.retry_after_seconds = std::max<int64_t>(1, seconds_for(1.0 - b.tokens));
  d.remaining = uint32_t(std::min(std::floor(b.tokens + epsilon), double(UINT32_MAX)));
  d.reset_seconds = seconds_for(capacity() - b.tokens);
  return d;
}

size_t rate_limiter::clients() const noexcept {
  return index_.size();
}

const rate_limit_config& rate_limiter::config() const noexcept {
  return cfg_;
}

void rate_limiter::configure(rate_limit_config cfg) {
  double old_capacity = capacity();
  cfg_ = normalized(cfg);
  if (cfg_.limit == 0) {
    index_.clear();
    lru_.clear();
    return;
  }
  double scale = old_capacity > 0 ? capacity() / old_capacity : 1.0;
  for (auto& b : lru_)
    b.tokens = std::min(capacity(), b.tokens * scale);
  evict_to(cfg_.max_clients);
}

void rate_limiter::evict_to(size_t count) {
  while (index_.size() > count) {
    index_.erase(lru_.back().key);
    lru_.pop_back();
  }
}

sharded_rate_limiter::sharded_rate_limiter(rate_limit_config cfg, size_t shards) {
  shards = std::max<size_t>(shards, 1);
  shards_.reserve(shards);
  for (size_t i = 0; i < shards; ++i)
    shards_.push_back(std::make_unique<shard>(per_shard(cfg, shards)));
}

rate_limit_config sharded_rate_limiter::per_shard(rate_limit_config cfg, size_t shards) noexcept {
  cfg.max_clients = std::max<size_t>(cfg.max_clients / shards, 1);
  return cfg;
}

sharded_rate_limiter::shard& sharded_rate_limiter::shard_for(std::string_view client) const noexcept {
  // Mix the hash so that the shard index does not correlate with the buckets of each shard's map.
  uint64_t h = std::hash<std::string_view>{}(client) * 0x9E3779B97F4A7C15ull;
  return *shards_[(h >> 32) % shards_.size()];
}

rate_decision sharded_rate_limiter::check(std::string_view client, clock::time_point now) {
  auto& s = shard_for(client);
  std::lock_guard lock(s.mutex);
  return s.limiter.check(client, now);
}

int64_t sharded_rate_limiter::locked_for(std::string_view client, clock::time_point now) const {
  auto& s = shard_for(client);
  std::lock_guard lock(s.mutex);
  return s.limiter.locked_for(client, now);
}

size_t sharded_rate_limiter::clients() const {
  size_t total = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    total += s->limiter.clients();
  }
  return total;
}

void sharded_rate_limiter::configure(rate_limit_config cfg) {
  for (auto& s : shards_) {
    std::lock_guard lock(s->mutex);
    s->limiter.configure(per_shard(cfg, shards_.size()));
  }
}

} // namespace medianest
