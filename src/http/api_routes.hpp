#pragma once

#include <chrono>
#include <memory>

#include "http/router.hpp"
#include "http/snapshot_view.hpp"
#include "actors/interfaces.hpp"

namespace medianest::http {

/// What the endpoint handlers talk to. Grows an actor handle per capability.
struct api_services {
  std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();
  /// The hub's latest snapshot, rendered.
  std::shared_ptr<const snapshot_view> snapshots;
  /// Answers /history and /summary.
  timeseries_store_actor store;
  /// Owns the alert configuration (GET/PUT /alerts).
  alert_evaluator_actor alerts;
  /// The alert and delivery logs.
  alerts_db_actor alerts_db;
  /// Optimization runs (POST/GET /optimize).
  optimization_supervisor_actor optimizer;
  /// Asks actors on behalf of handlers (see ask()).
  caf::actor_system* system = nullptr;
  /// GET /prometheus without a token (--prometheus-public); otherwise admin only. Read when
  /// the router is built.
  bool prometheus_public = false;
};

/// The route table of the daemon: every endpoint of the spec with its access rule.
std::shared_ptr<const router> make_api_router(std::shared_ptr<const api_services> services);

/// The prefix of every performance endpoint.
inline constexpr std::string_view api_prefix = "/api/v1/performance";

} // namespace medianest::http
