#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "http/auth_guard.hpp"
#include "http/server.hpp"

namespace medianest::http {

class http_session;
class gateway;
class live_feed;

/// What every session of one server shares: configuration, routes, the token verifier, the
/// observer, and the registry of live sessions used for connection caps and shutdown.
struct server_state {
  server_config config;
  std::shared_ptr<const router> routes;
  std::shared_ptr<const jwt_verifier> verifier;
  /// Counts failed authentications per address and locks out those with too many.
  std::unique_ptr<auth_guard> auth_failures;
  std::shared_ptr<spdlog::logger> access_log;
  request_observer observer;
  /// Gateway mode: set when --upstream is configured.
  std::shared_ptr<gateway> proxy;
  /// The WebSocket live feed, when enabled: where upgrades of its path go.
  std::shared_ptr<live_feed> live;
  std::string live_path;
  std::atomic<bool> stopping{false};
  /// Called when the last session is gone during shutdown.
  std::function<void()> on_drained;

  /// Registers a session; false if the connection cap is reached. At the cap, a connection
  /// that has not sent a byte for `silent_grace` since it was opened (an idle-connection flood,
  /// a browser's unused preconnect) is closed to make room, so that silent connections cannot
  /// lock everyone else out.
  bool enter(uint64_t id, const std::shared_ptr<http_session>& session);
  /// The session received its first bytes: it can no longer be closed to make room.
  void spoke(uint64_t id);
  void leave(uint64_t id);
  size_t active() const noexcept {
    return active_.load(std::memory_order_relaxed);
  }
  /// Asks every live session to finish its request and close.
  void shutdown_sessions();
  uint64_t next_id() noexcept {
    return next_id_.fetch_add(1, std::memory_order_relaxed);
  }

  /// How long a new connection may stay silent before, at the cap, it may be closed for another.
  static constexpr std::chrono::milliseconds silent_grace{1'000};

private:
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, std::weak_ptr<http_session>> sessions_;
  /// Sessions that have not sent a byte yet, by id (ids grow with time: the first is the oldest)
  /// with the time they were opened.
  std::map<uint64_t, std::chrono::steady_clock::time_point> silent_;
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> next_id_{1};
};

} // namespace medianest::http
