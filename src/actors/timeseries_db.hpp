#pragma once

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "sources/sql_session.hpp"
#include "sources/timeseries_sql.hpp"

namespace medianest {

struct timeseries_db_state {
  static inline const char* name = "timeseries_db";

  std::optional<sources::sql_session> session;
  /// The owner of the roll-ups it reads and writes: the --instance given, or none ("").
  std::string instance;
  retention_policy keep;
  bool migrated = false;
  /// Whether this actor maintains the store: applies retention and claims the roll-ups without
  /// an owner (the writer does; a reader does not).
  bool maintains = true;
  bool claimed_unowned = false;
  unsigned ticks = 0;
  database_collector_actor usage_sink;
  source_health health{"time-series database", std::chrono::seconds(1)};
};

/// The time-series database actor (detached: SOCI blocks).
timeseries_db_actor::behavior_type
timeseries_db(timeseries_db_actor::stateful_pointer<timeseries_db_state> self,
              database_target target, std::string instance, retention_policy keep,
              database_collector_actor usage_sink, std::chrono::milliseconds slow_query,
              bool maintains);

/// Answers a history request from SQL rows and the pending buckets (exposed for tests).
caf::expected<std::string> answer_history(sources::sql_session& db, const std::string& instance,
                                          const history_request& req);

/// Reads the SQL part of the summary (exposed for tests).
caf::expected<summary_sql_data> read_summary_data(sources::sql_session& db,
                                                  const std::string& instance, int64_t now_unix);

} // namespace medianest
