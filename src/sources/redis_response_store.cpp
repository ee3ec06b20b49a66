#include "sources/redis_response_store.hpp"

#include <spdlog/spdlog.h>

#include "sources/redis_client.hpp"

namespace medianest::sources {

namespace {

constexpr auto reconnect_pause = std::chrono::seconds(2);
constexpr std::string_view key_prefix = "medianest:gw:";

int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

} // namespace

redis_response_store::redis_response_store(redis_target target, size_t max_queue)
  : client_(std::make_unique<redis_client>(std::move(target), std::chrono::milliseconds(200))),
    max_queue_(max_queue) {
  worker_ = std::thread([this] { run(); });
}

redis_response_store::~redis_response_store() {
  {
    std::lock_guard guard{mutex_};
    stopping_ = true;
  }
  wake_.notify_one();
  worker_.join();
}

bool redis_response_store::enqueue(task t) {
  {
    std::lock_guard guard{mutex_};
    if (stopping_ || tasks_.size() >= max_queue_) {
      ++failures_;
      return false;
    }
    tasks_.push_back(std::move(t));
  }
  wake_.notify_one();
  return true;
}

void redis_response_store::run() {
  for (;;) {
    task next;
    {
      std::unique_lock guard{mutex_};
      wake_.wait(guard, [this] { return stopping_ || !tasks_.empty(); });
      if (tasks_.empty())
        return;
      next = std::move(tasks_.front());
      tasks_.pop_front();
    }
    next();
  }
}

bool redis_response_store::ready() {
  if (client_->connected())
    return true;
  auto now = std::chrono::steady_clock::now();
  if (now < next_connect_)
    return false;
  std::string error;
  if (client_->connect(error))
    return true;
  next_connect_ = now + reconnect_pause;
  spdlog::warn("gateway cache: Redis unavailable ({}); serving from the local cache only", error);
  return false;
}

void redis_response_store::lookup(std::string key, lookup_handler done) {
  auto shared_done = std::make_shared<lookup_handler>(std::move(done));
  bool queued = enqueue([this, key = std::move(key), shared_done] {
    std::optional<decoded_response> found;
    if (ready()) {
      std::string error;
      auto full_key = std::string{key_prefix} + key;
      auto bytes = client_->command_string({"GET", full_key}, error);
      if (bytes) {
        found = decode_cached_response(*bytes);
        if (found && found->expires_unix_ms <= unix_ms_now())
          found.reset();
      } else if (error.rfind("nil", 0) != 0) {
        ++failures_;
      }
    }
    (*shared_done)(std::move(found));
  });
  if (!queued)
    (*shared_done)(std::nullopt);
}

void redis_response_store::store(std::string key, std::string encoded,
                                 std::chrono::milliseconds ttl) {
  enqueue([this, key = std::move(key), encoded = std::move(encoded), ttl] {
    if (!ready())
      return;
    std::string error;
    auto full_key = std::string{key_prefix} + key;
    if (!client_->command_ok({"SET", full_key, encoded, "PX", std::to_string(ttl.count())}, error))
      ++failures_;
  });
}

uint64_t redis_response_store::failures() const noexcept {
  return failures_.load(std::memory_order_relaxed);
}

} // namespace medianest::sources
