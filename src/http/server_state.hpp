#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

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

  /// Registers a session; false if the connection cap is reached.
  bool enter(uint64_t id, const std::shared_ptr<http_session>& session);
  void leave(uint64_t id);
  size_t active() const noexcept {
    return active_.load(std::memory_order_relaxed);
  }
  /// Asks every live session to finish its request and close.
  void shutdown_sessions();
  uint64_t next_id() noexcept {
    return next_id_.fetch_add(1, std::memory_order_relaxed);
  }

private:
  mutable std::mutex mtx_;
  std::unordered_map<uint64_t, std::weak_ptr<http_session>> sessions_;
  std::atomic<size_t> active_{0};
  std::atomic<uint64_t> next_id_{1};
};

} // namespace medianest::http
