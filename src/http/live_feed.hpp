#pragma once

// The live feed's fan-out (docs/live.md): the latest metrics frames and the event frames,
// each serialized once and shared by every WebSocket session. Beast stays out of this header.

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

namespace medianest::http {

using shared_frame = std::shared_ptr<const std::string>;

/// A live session as the feed sees it. Every call may come from any thread; the session
/// moves the work onto its own connection's thread.
class live_subscriber {
public:
  virtual ~live_subscriber() = default;
  /// A newer metrics frame is available (read it with live_feed::latest).
  virtual void metrics_available() = 0;
  /// An alert or optimization frame for this session.
  virtual void event(shared_frame frame) = 0;
  /// The daemon is stopping: close with 1001.
  virtual void going_away() = 0;
  virtual bool is_admin() const noexcept = 0;
};

struct live_feed_config {
  size_t max_clients = 10'000;
  /// Origins browsers may connect from; empty: any.
  std::vector<std::string> allowed_origins;
  /// A write to a client that takes longer than this drops the client.
  std::chrono::milliseconds write_timeout{10'000};
  /// The kernel's send buffer of each live socket: bounds what a stalled client holds.
  int send_buffer_bytes = 64 * 1024;
};

class live_feed {
public:
  explicit live_feed(live_feed_config cfg);

  const live_feed_config& config() const noexcept {
    return cfg_;
  }

  // -- the producer (the live publisher actor) -----------------------------------------------

  /// Whether anyone listens: frames are not even rendered otherwise.
  bool has_clients() const noexcept {
    return clients_.load(std::memory_order_relaxed) > 0;
  }
  /// Installs the newest metrics frames (one per role) and tells every session.
  void publish_metrics(shared_frame admin_frame, shared_frame user_frame);
  /// Hands an event frame to every session (admins only when `admin_only`).
  void publish_event(shared_frame frame, bool admin_only);

  // -- the sessions --------------------------------------------------------------------------

  enum class join_result : uint8_t { joined, full, stopping };
  /// Registers a session, unless the feed is full or stopping.
  join_result join(uint64_t id, std::weak_ptr<live_subscriber> session);
  void leave(uint64_t id);
  /// The newest metrics frame for a role, its sequence number and when it was published (0
  /// and null before the first).
  shared_frame latest(bool admin, uint64_t& sequence,
                      std::chrono::steady_clock::time_point& published) const;
  size_t clients() const noexcept {
    return clients_.load(std::memory_order_relaxed);
  }
  /// Closes every session (going away) and refuses new ones.
  void shutdown();
  /// Called (from any thread) when the last session has left after shutdown().
  void on_drained(std::function<void()> callback);
  bool origin_allowed(std::string_view origin) const;

private:
  std::vector<std::shared_ptr<live_subscriber>> sessions() const;

  live_feed_config cfg_;
  mutable std::mutex mutex_;
  std::unordered_map<uint64_t, std::weak_ptr<live_subscriber>> sessions_;
  shared_frame admin_frame_, user_frame_;
  uint64_t sequence_ = 0;
  std::chrono::steady_clock::time_point published_{};
  bool stopping_ = false;
  std::function<void()> drained_;
  std::atomic<size_t> clients_{0};
};

} // namespace medianest::http
