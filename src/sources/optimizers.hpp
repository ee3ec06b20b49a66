#pragma once

// What the optimization types really do to the outside world, as plain blocking functions.
// The supervisor's worker actors (detached) call them; they never run on a scheduler or asio
// thread.

#include <cstdint>
#include <string>
#include <vector>

#include "model/series.hpp"
#include "sources/sql_session.hpp"

namespace medianest::sources {

/// What a database_queries pass did.
struct database_pass {
  std::vector<std::string> actions;
  uint64_t pruned_rows = 0;
  uint64_t size_before = 0; ///< SQLite: database file bytes (page_count * page_size); PG: 0
  uint64_t size_after = 0;
  double took_ms = 0;
};

/// Refreshes the planner's statistics and prunes expired roll-ups. SQLite: `ANALYZE` then
/// `PRAGMA optimize` (aggressive: also `VACUUM` and a truncating WAL checkpoint); PostgreSQL:
/// `ANALYZE` (aggressive: `VACUUM (ANALYZE)`). False with `error` when a statement failed.
bool optimize_database(sql_session& db, bool aggressive, const retention_policy& keep,
                       int64_t now_unix, database_pass& out, std::string& error);

/// What a heap trim did: the process's resident set before and after.
struct heap_trim {
  uint64_t rss_before = 0;
  uint64_t rss_after = 0;
};

/// Returns the heap's free pages to the OS (`malloc_trim`) and measures RSS around it.
heap_trim trim_heap();

/// This process's resident set size in bytes (VmRSS), 0 if it cannot be read.
uint64_t resident_bytes();

} // namespace medianest::sources
