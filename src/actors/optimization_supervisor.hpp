#pragma once

#include <deque>
#include <functional>
#include <map>
#include <memory>

#include "actors/interfaces.hpp"
#include "actors/optimization_worker.hpp"

namespace medianest {

/// Starts the worker of one job and returns it (the supervisor monitors it). Tests give their
/// own to make workers fail in every way.
using worker_factory = std::function<caf::actor(caf::actor_system&, optimization_job)>;

/// Spawns optimization_worker (a detached blocking actor).
worker_factory default_worker_factory();

struct optimization_settings {
  /// Traffic measured before a run and after each type's work.
  std::chrono::milliseconds window{60'000};
  /// A type's work longer than this fails it.
  std::chrono::milliseconds timeout{300'000};
  /// Automatic runs on firing alerts, at most one per type per cooldown.
  bool automatic = true;
  std::chrono::milliseconds cooldown{900'000};
};

/// Runs kept in memory (newest first); older finished runs are read from SQL by id.
inline constexpr size_t max_runs_in_memory = 100;
/// Entries of /summary's recentOptimizations.
inline constexpr size_t max_recent_entries = 10;

struct optimization_supervisor_state {
  static inline const char* name = "optimization_supervisor";

  optimization_settings settings;
  std::shared_ptr<const optimization_context> context;
  worker_factory spawn_worker;
  optimization_db_actor db;
  timeseries_store_actor store;

  /// Newest first: the runs in progress and the recent finished ones.
  std::deque<optimization_run> runs;
  /// The traffic of the window before each run in progress.
  std::map<std::string, window_measure> before;
  /// The run each type in progress belongs to (a second run of it is a CONFLICT).
  std::map<optimization_type, std::string> running;
  /// Each live worker's run and type.
  std::map<caf::actor_addr, std::pair<std::string, optimization_type>> workers;
  /// Types whose work is over and whose after-window is being measured: when the work ended.
  std::map<std::pair<std::string, optimization_type>, int64_t> measuring;
  /// The traffic of recent samples, oldest first (the last window and a margin).
  std::deque<measurement_point> points;
  sys_ms api_seen{}, cache_seen{};
  std::optional<database_sample> database;
  /// When each type last started automatically.
  std::map<optimization_type, std::chrono::steady_clock::time_point> last_automatic;
  /// Receive every run as it starts and changes (the live feed).
  std::vector<caf::actor> listeners;
  /// What the previous cache_strategy run planned from.
  std::vector<route_usage> usage_baseline;
  cache_counters cache_baseline;
};

optimization_supervisor_actor::behavior_type
optimization_supervisor(optimization_supervisor_actor::stateful_pointer<optimization_supervisor_state> self,
                        optimization_settings settings,
                        std::shared_ptr<const optimization_context> context,
                        optimization_db_actor db, metrics_hub_actor hub,
                        timeseries_store_actor store, worker_factory spawn_worker);

} // namespace medianest
