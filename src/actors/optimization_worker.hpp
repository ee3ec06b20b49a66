#pragma once

// One optimization type's work, in its own detached (blocking) actor that the supervisor
// monitors: database statements, Redis commands and heap trims block.

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/blocking_actor.hpp>

#include "actors/interfaces.hpp"
#include "app/config.hpp"

namespace medianest {

/// The gateway's response cache as the cache optimizations see it; every function is empty
/// without --upstream. The daemon binds them to http::gateway.
struct gateway_controls {
  std::function<std::vector<route_usage>()> usage;
  std::function<std::vector<cache_rule>()> rules;
  std::function<void(const std::string&, std::chrono::seconds)> set_ttl;
  std::function<cache_counters()> counters;
  std::function<void(uint64_t)> resize;
  std::function<size_t()> purge_expired;
  std::function<uint64_t()> clear;

  explicit operator bool() const noexcept {
    return static_cast<bool>(usage);
  }
};

/// What workers may change, built once by the daemon and shared read-only.
struct optimization_context {
  database_target database;
  retention_policy retention;
  gateway_controls gateway;
  std::optional<redis_target> redis;
  /// The built-in response cache (history answers).
  response_cache_actor cache;
  timeseries_store_actor store;
};

/// One type of one run, as the supervisor hands it to a worker.
struct optimization_job {
  std::string run_id;
  optimization_type type = optimization_type::memory_cleanup;
  bool aggressive = false;
  std::shared_ptr<const optimization_context> context;
  /// Receives `(optimize_atom, run_id, type, worker_outcome)`.
  caf::actor supervisor;
  /// cache_strategy: the gateway's counters at the previous run (the plan uses what changed).
  std::vector<route_usage> usage_baseline;
  cache_counters cache_baseline;
  /// database_queries: the database collector's latest sample (slowest statements).
  std::optional<database_sample> database;
};

/// Does the job, sends the outcome (completed, or failed with OPTIMIZATION_FAILED and the
/// reason) and ends. An exception that escapes ends the actor abnormally: the supervisor
/// sees it in the down message.
void optimization_worker(caf::blocking_actor* self, optimization_job job);

/// The work of each type, for the worker and for tests. Each throws std::runtime_error with
/// the reason when a step fails.
worker_outcome run_cache_strategy(caf::blocking_actor* self, const optimization_job& job);
worker_outcome run_database_queries(const optimization_job& job);
worker_outcome run_memory_cleanup(caf::blocking_actor* self, const optimization_job& job);

} // namespace medianest
