#include "sources/optimizers.hpp"

#include <malloc.h>

#include <chrono>
#include <fstream>
#include <sstream>

#include "sources/timeseries_sql.hpp"

namespace medianest::sources {

namespace {

bool sqlite_file_bytes(sql_session& db, uint64_t& bytes, std::string& error) {
  long long pages = 0, page_size = 0;
  return db.run(
    "SELECT (pragma page_count, page_size)",
    [&](soci::session& s) {
      s << "PRAGMA page_count", soci::into(pages);
      s << "PRAGMA page_size", soci::into(page_size);
      bytes = static_cast<uint64_t>(pages * page_size);
    },
    error);
}

bool step(sql_session& db, const std::string& sql, std::vector<std::string>& actions,
          const std::string& action, std::string& error) {
  if (!db.execute(sql, error)) {
    error = sql + ": " + error;
    return false;
  }
  actions.push_back(action);
  return true;
}

bool optimize_sqlite(sql_session& db, bool aggressive, database_pass& out, std::string& error) {
  if (!sqlite_file_bytes(db, out.size_before, error)
      || !step(db, "ANALYZE", out.actions, "ANALYZE: refreshed the query planner's statistics",
               error)
      || !step(db, "PRAGMA optimize", out.actions,
               "PRAGMA optimize: let SQLite refresh what else it judged stale", error))
    return false;
  if (aggressive
      && (!step(db, "PRAGMA wal_checkpoint(TRUNCATE)", out.actions,
                "Checkpointed and truncated the write-ahead log", error)
          || !step(db, "VACUUM", out.actions, "VACUUM: rebuilt the database file", error)))
    return false;
  return sqlite_file_bytes(db, out.size_after, error);
}

bool optimize_postgresql(sql_session& db, bool aggressive, database_pass& out,
                         std::string& error) {
  if (aggressive)
    return step(db, "VACUUM (ANALYZE)", out.actions,
                "VACUUM (ANALYZE): reclaimed dead rows and refreshed statistics", error);
  return step(db, "ANALYZE", out.actions, "ANALYZE: refreshed the query planner's statistics",
              error);
}

} // namespace

bool optimize_database(sql_session& db, bool aggressive, const retention_policy& keep,
                       int64_t now_unix, database_pass& out, std::string& error) {
  auto started = std::chrono::steady_clock::now();
  bool migrated = false;
  if (!ensure_schema(db, migrated, error))
    return false;
  if (!apply_retention(db, keep, now_unix, out.pruned_rows, error))
    return false;
  bool ok = db.is_postgresql() ? optimize_postgresql(db, aggressive, out, error)
                               : optimize_sqlite(db, aggressive, out, error);
  out.actions.push_back("Pruned " + std::to_string(out.pruned_rows)
                        + " expired roll-up rows");
  out.took_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now()
                                                          - started)
                  .count();
  return ok;
}

uint64_t resident_bytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) {
      std::istringstream fields(line.substr(6));
      uint64_t kb = 0;
      fields >> kb;
      return kb * 1024;
    }
  return 0;
}

heap_trim trim_heap() {
  heap_trim t;
  t.rss_before = resident_bytes();
  ::malloc_trim(0);
  t.rss_after = resident_bytes();
  return t;
}

} // namespace medianest::sources
