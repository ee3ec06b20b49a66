#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "model/cached_response_codec.hpp"

namespace medianest::sources {

class redis_client;

/// The gateway cache's shared tier: cached responses in Redis, so that several daemons in
/// front of one upstream share them. hiredis blocks, so one worker thread owns the connection
/// and runs the commands in order; callers never wait on it. When the queue is full or Redis
/// is down, a lookup is a miss and a store is dropped: the cache degrades, requests do not.
class redis_response_store {
public:
  using lookup_handler = std::function<void(std::optional<decoded_response>)>;

  explicit redis_response_store(redis_target target, size_t max_queue = 4096);
  ~redis_response_store();

  redis_response_store(const redis_response_store&) = delete;
  redis_response_store& operator=(const redis_response_store&) = delete;

  /// Looks `key` up; `done` runs on the worker thread (post it where it belongs).
  void lookup(std::string key, lookup_handler done);

  /// Stores an encoded response under `key` until it expires.
  void store(std::string key, std::string encoded, std::chrono::milliseconds ttl);

  /// Commands that failed (Redis down, timeouts) and requests dropped on a full queue.
  uint64_t failures() const noexcept;

private:
  using task = std::function<void()>;
  bool enqueue(task t);
  void run();
  /// Connects if needed; false (and a warning, rate-limited) when Redis is unreachable.
  bool ready();

  std::unique_ptr<redis_client> client_;
  size_t max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<task> tasks_;
  bool stopping_ = false;
  std::atomic<uint64_t> failures_{0};
  std::chrono::steady_clock::time_point next_connect_{};
  std::thread worker_;
};

} // namespace medianest::sources
