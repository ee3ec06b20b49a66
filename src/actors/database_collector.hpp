#pragma once

#include <deque>
#include <tuple>

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "sources/sql_session.hpp"

namespace medianest {

/// averageQueryTime is the mean over the queries of this window (since start while none ran
/// in it), so that it follows a slowdown instead of being diluted by the whole uptime.
inline constexpr std::chrono::seconds query_time_window{60};

struct database_collector_state {
  static inline const char* name = "database_collector";

  std::optional<sources::sql_session> session;
  /// SQL sessions the daemon keeps open, this one included: the pool.
  uint64_t pool_size = 1;
  sql_usage totals;
  /// Queries and their time per sample over the last query_time_window, oldest first.
  std::deque<std::tuple<std::chrono::steady_clock::time_point, uint64_t, uint64_t>> recent;
  uint64_t busy_us_interval = 0;
  /// Queries (every session's) and their time since the previous sample.
  uint64_t queries_interval = 0;
  uint64_t query_us_interval = 0;
  std::chrono::steady_clock::time_point last_sample = std::chrono::steady_clock::now();
  std::optional<bool> has_pg_stat_statements;
  unsigned ticks = 0;
  metrics_hub_actor hub;
  source_health health{"database collector", std::chrono::seconds(1)};
};

/// Samples the configured SQL database: the daemon's own query counts and timings (its own
/// session plus the usage other SQL sessions report), pool usage, and on PostgreSQL
/// pg_stat_activity, max_connections and, when installed, pg_stat_statements. Blocking SQL:
/// spawn it detached.
database_collector_actor::behavior_type
database_collector(database_collector_actor::stateful_pointer<database_collector_state> self,
                   metrics_hub_actor hub, database_target target, uint64_t pool_size,
                   std::chrono::milliseconds slow_query, std::chrono::milliseconds interval);

/// Adds one usage report to running totals.
void accumulate(sql_usage& totals, const sql_usage& delta) noexcept;

} // namespace medianest
