#pragma once

#include <deque>
#include <variant>

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "sources/sql_session.hpp"

namespace medianest {

struct alerts_db_state {
  static inline const char* name = "alerts_db";

  std::optional<sources::sql_session> session;
  bool migrated = false;
  /// Log entries not yet in SQL (the database was down), oldest first, bounded.
  std::deque<std::variant<alert_event, delivery_record>> unwritten;
  database_collector_actor usage_sink;
  source_health health{"alerts database", std::chrono::seconds(5)};
};

/// At most this many log entries wait for a database that is down; older ones are dropped
/// (and counted in the log) first.
inline constexpr size_t max_unwritten_log_entries = 10'000;

alerts_db_actor::behavior_type
alerts_db(alerts_db_actor::stateful_pointer<alerts_db_state> self, database_target target,
          database_collector_actor usage_sink);

} // namespace medianest
