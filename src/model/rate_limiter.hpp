#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace medianest {

/// Limits of a per-client rate limiter.
struct rate_limit_config {
  /// Requests per window; 0 turns limiting off.
  uint32_t limit = 0;
  /// The window over which `limit` tokens are refilled; a window under one second counts as one second.
  std::chrono::seconds window{60};
  /// Extra capacity above `limit` (a full bucket holds limit + burst tokens); 0 = none.
  uint32_t burst = 0;
  /// The most buckets kept at once; a value of 0 counts as 1.
  size_t max_clients = 100000;
  /// 0: a client out of tokens gets single tokens back as they refill (the gateway's limits).
  /// Otherwise a client that spends its last token is then refused outright for this long, and
  /// starts again with a full bucket afterwards (the failed-authentication limit).
  std::chrono::seconds lockout{0};
};

/// The outcome of one request, with the values of the rate-limit response headers.
struct rate_decision {
  /// Whether the request may proceed (a token was consumed).
  bool allowed = true;
  /// `X-RateLimit-Limit`: the configured requests per window (0 when limiting is off: send no headers).
  uint32_t limit = 0;
  /// `X-RateLimit-Remaining`: whole tokens left after this request. With a burst it can exceed `limit`.
  uint32_t remaining = 0;
  /// `X-RateLimit-Reset` as delta seconds: time until the bucket is full again (rounded up).
  int64_t reset_seconds = 0;
  /// `Retry-After` when refused: seconds until one token is available (rounded up, >= 1); 0 when allowed.
  /// During a lockout: seconds until it ends.
  int64_t retry_after_seconds = 0;
  /// With a lockout configured: this check spent the client's last token and started the lockout.
  bool locked_out = false;
};

/// Token buckets per client key (a token subject or an address).
///
/// A bucket holds up to limit + burst tokens and refills continuously at `limit` tokens per `window`;
/// each allowed request consumes one token. A client seen for the first time starts with a full bucket.
///
/// Memory is bounded: at most `max_clients` buckets are kept; when full, the least recently used bucket
/// is evicted. An evicted client is forgotten and so starts again with a full bucket when it returns
/// (keep `max_clients` above the number of clients active within one window for exact limiting).
/// Buckets that have refilled completely (and are not locked out) hold nothing a fresh bucket would
/// not: they expire, and are dropped from the least recently used end when a new client arrives.
///
/// With `lockout`, a client that spends its last token is refused for the lockout's length whatever
/// the refill would give back, then starts with a full bucket (N failures per window → blocked).
///
/// A time point earlier than the last one seen for a bucket refills nothing (and does not rewind it).
///
/// Not thread-safe: use one per asio thread or behind a strand, or use `sharded_rate_limiter`.
/// A check for a known client does one hash lookup and no allocation.
class rate_limiter {
public:
  using clock = std::chrono::steady_clock;

  explicit rate_limiter(rate_limit_config cfg);

  /// Refills the client's bucket up to `now`, then consumes one token if one is available.
  /// When limiting is off, returns allowed with limit 0 and keeps no state.
  rate_decision check(std::string_view client, clock::time_point now);

  /// Seconds (rounded up) until the client's lockout ends; 0 when it is not locked out or unknown.
  /// Consumes nothing and keeps no state for an unknown client.
  int64_t locked_for(std::string_view client, clock::time_point now) const;

  /// The number of buckets held.
  size_t clients() const noexcept;

  /// The current limits.
  const rate_limit_config& config() const noexcept;

  /// Applies new limits. Existing buckets keep their fill level proportionally: a bucket holding
  /// half its old capacity holds half the new one. Refill owed since a bucket's last check is then
  /// granted at the new rate. Turning limiting off (limit 0) drops every bucket, so turning it back
  /// on starts every client full. A smaller `max_clients` evicts least recently used buckets.
  void configure(rate_limit_config cfg);

private:
  struct bucket {
    std::string key;
    double tokens;
    clock::time_point last;
    /// The end of the bucket's lockout; the epoch when none was started.
    clock::time_point locked_until{};
  };
  using lru_list = std::list<bucket>;

  double capacity() const noexcept;
  double tokens_per_ns() const noexcept;
  lru_list::iterator find_or_insert(std::string_view client, clock::time_point now);
  lru_list::iterator insert(std::string_view client, clock::time_point now);
  void refill(bucket& b, clock::time_point now) const noexcept;
  /// Whether the bucket would be full at `now` and holds no lockout: it can be forgotten.
  bool expired(const bucket& b, clock::time_point now) const noexcept;
  int64_t seconds_for(double tokens) const noexcept;
  rate_decision decide(bucket& b, clock::time_point now) const noexcept;
  void evict_to(size_t count);

  rate_limit_config cfg_;
  lru_list lru_; // front = most recently used
  std::unordered_map<std::string_view, lru_list::iterator> index_; // keys view lru_ nodes
};

/// A thread-safe rate limiter: `shards` rate limiters, each behind its own mutex, chosen by a hash
/// of the client key. Each shard keeps at most max_clients / shards buckets (at least 1).
class sharded_rate_limiter {
public:
  using clock = rate_limiter::clock;

  /// `shards` of 0 counts as 1.
  explicit sharded_rate_limiter(rate_limit_config cfg, size_t shards = 16);

  /// As `rate_limiter::check`, locking only the client's shard.
  rate_decision check(std::string_view client, clock::time_point now);

  /// As `rate_limiter::locked_for`, locking only the client's shard.
  int64_t locked_for(std::string_view client, clock::time_point now) const;

  /// The number of buckets held across all shards (locks each shard in turn).
  size_t clients() const;

  /// As `rate_limiter::configure`, shard by shard.
  void configure(rate_limit_config cfg);

private:
  struct alignas(64) shard {
    explicit shard(rate_limit_config cfg) : limiter(cfg) {}
    mutable std::mutex mutex;
    rate_limiter limiter;
  };

  static rate_limit_config per_shard(rate_limit_config cfg, size_t shards) noexcept;
  shard& shard_for(std::string_view client) const noexcept;

  std::vector<std::unique_ptr<shard>> shards_;
};

} // namespace medianest
