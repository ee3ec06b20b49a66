#pragma once

#include <map>
#include <optional>

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "sources/sql_session.hpp"

namespace medianest {

struct optimization_db_state {
  static inline const char* name = "optimization_db";

  std::optional<sources::sql_session> session;
  bool migrated = false;
  /// Runs whose latest version is not in SQL yet (the database was down), by id.
  std::map<std::string, optimization_run> unsaved;
  database_collector_actor usage_sink;
  source_health health{"optimization database", std::chrono::seconds(5)};
};

/// At most this many runs wait for a database that is down; past it the oldest is dropped.
inline constexpr size_t max_unsaved_runs = 1'000;

optimization_db_actor::behavior_type
optimization_db(optimization_db_actor::stateful_pointer<optimization_db_state> self,
                database_target target, database_collector_actor usage_sink);

} // namespace medianest
