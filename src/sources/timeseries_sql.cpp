#include "sources/timeseries_sql.hpp"

#include <soci/sqlite3/soci-sqlite3.h>


#include <ctime>
#include <functional>
#include <stdexcept>

namespace medianest::sources {

namespace {

/// Arbitrary, fixed: the advisory lock every medianest-perf instance takes to migrate.
constexpr long long schema_lock_key = 0x6d6e7065726631;

struct migration {
  int version;
  std::vector<std::string> sqlite;
  std::vector<std::string> postgresql;
};

const std::vector<migration>& migrations() {
  static const std::vector<migration> all{
    {1,
     {"CREATE TABLE rollups (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
      "bucket_start INTEGER NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL, "
      "min REAL NOT NULL, max REAL NOT NULL, p95 REAL NOT NULL, p99 REAL NOT NULL, "
      "PRIMARY KEY (metric, resolution, bucket_start)) WITHOUT ROWID",
      // Sketches live apart so that reading a long period scans only the small rows.
      "CREATE TABLE rollup_sketches (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
      "bucket_start INTEGER NOT NULL, sketch TEXT NOT NULL, "
      "PRIMARY KEY (metric, resolution, bucket_start)) WITHOUT ROWID"},
     {"CREATE TABLE rollups (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
      "bucket_start BIGINT NOT NULL, count BIGINT NOT NULL, sum DOUBLE PRECISION NOT NULL, "
      "min DOUBLE PRECISION NOT NULL, max DOUBLE PRECISION NOT NULL, "
      "p95 DOUBLE PRECISION NOT NULL, p99 DOUBLE PRECISION NOT NULL, "
      "PRIMARY KEY (metric, resolution, bucket_start))",
      "CREATE TABLE rollup_sketches (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
      "bucket_start BIGINT NOT NULL, sketch TEXT NOT NULL, "
      "PRIMARY KEY (metric, resolution, bucket_start))"}},
    {2,
     {"CREATE TABLE alert_config (id INTEGER PRIMARY KEY, document TEXT NOT NULL, "
      "updated_at INTEGER NOT NULL)",
      "CREATE TABLE alert_events (seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, "
      "metric TEXT NOT NULL, severity TEXT NOT NULL, state TEXT NOT NULL, value REAL NOT NULL, "
      "threshold REAL NOT NULL, started_at INTEGER NOT NULL, resolved_at INTEGER, "
      "at INTEGER NOT NULL)",
      "CREATE INDEX alert_events_at ON alert_events (at)",
      "CREATE TABLE deliveries (seq INTEGER PRIMARY KEY AUTOINCREMENT, alert_id TEXT NOT NULL, "
      "state TEXT NOT NULL, severity TEXT NOT NULL, channel TEXT NOT NULL, "
      "destination TEXT NOT NULL, attempt INTEGER NOT NULL, ok INTEGER NOT NULL, "
      "status INTEGER NOT NULL, error TEXT NOT NULL, at INTEGER NOT NULL)",
      "CREATE INDEX deliveries_at ON deliveries (at)"},
     {"CREATE TABLE alert_config (id INTEGER PRIMARY KEY, document TEXT NOT NULL, "
      "updated_at BIGINT NOT NULL)",
      "CREATE TABLE alert_events (seq BIGSERIAL PRIMARY KEY, alert_id TEXT NOT NULL, "
      "metric TEXT NOT NULL, severity TEXT NOT NULL, state TEXT NOT NULL, "
      "value DOUBLE PRECISION NOT NULL, threshold DOUBLE PRECISION NOT NULL, "
      "started_at BIGINT NOT NULL, resolved_at BIGINT, at BIGINT NOT NULL)",
      "CREATE INDEX alert_events_at ON alert_events (at)",
      "CREATE TABLE deliveries (seq BIGSERIAL PRIMARY KEY, alert_id TEXT NOT NULL, "
      "state TEXT NOT NULL, severity TEXT NOT NULL, channel TEXT NOT NULL, "
      "destination TEXT NOT NULL, attempt INTEGER NOT NULL, ok INTEGER NOT NULL, "
      "status INTEGER NOT NULL, error TEXT NOT NULL, at BIGINT NOT NULL)",
      "CREATE INDEX deliveries_at ON deliveries (at)"}},
    {3,
     // One row per optimization run: the GET /optimize/{id} document as stored, with the
     // columns needed to find runs (status: interrupted ones; started_at: the newest).
     {"CREATE TABLE optimization_runs (id TEXT PRIMARY KEY, trigger TEXT NOT NULL, "
      "status TEXT NOT NULL, started_at INTEGER NOT NULL, completed_at INTEGER, "
      "document TEXT NOT NULL)",
      "CREATE INDEX optimization_runs_started ON optimization_runs (started_at)"},
     {"CREATE TABLE optimization_runs (id TEXT PRIMARY KEY, trigger TEXT NOT NULL, "
      "status TEXT NOT NULL, started_at BIGINT NOT NULL, completed_at BIGINT, "
      "document TEXT NOT NULL)",
      "CREATE INDEX optimization_runs_started ON optimization_runs (started_at)"}},
    {4,
     // Roll-ups get their owner: the instance name leads the key. Rows from before have none
     // ('') until a daemon claims them (claim_unowned_rollups). SQLite cannot change a
     // primary key in place, so its tables are rebuilt.
     {"CREATE TABLE rollups_v4 (instance TEXT NOT NULL, metric TEXT NOT NULL, "
      "resolution INTEGER NOT NULL, bucket_start INTEGER NOT NULL, count INTEGER NOT NULL, "
      "sum REAL NOT NULL, min REAL NOT NULL, max REAL NOT NULL, p95 REAL NOT NULL, "
      "p99 REAL NOT NULL, PRIMARY KEY (instance, metric, resolution, bucket_start)) "
      "WITHOUT ROWID",
      "INSERT INTO rollups_v4 SELECT '', metric, resolution, bucket_start, count, sum, min, "
      "max, p95, p99 FROM rollups",
      "DROP TABLE rollups",
      "ALTER TABLE rollups_v4 RENAME TO rollups",
      "CREATE TABLE rollup_sketches_v4 (instance TEXT NOT NULL, metric TEXT NOT NULL, "
      "resolution INTEGER NOT NULL, bucket_start INTEGER NOT NULL, sketch TEXT NOT NULL, "
      "PRIMARY KEY (instance, metric, resolution, bucket_start)) WITHOUT ROWID",
      "INSERT INTO rollup_sketches_v4 SELECT '', metric, resolution, bucket_start, sketch "
      "FROM rollup_sketches",
      "DROP TABLE rollup_sketches",
      "ALTER TABLE rollup_sketches_v4 RENAME TO rollup_sketches"},
     {"ALTER TABLE rollups ADD COLUMN instance TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE rollups DROP CONSTRAINT rollups_pkey",
      "ALTER TABLE rollups ADD PRIMARY KEY (instance, metric, resolution, bucket_start)",
      "ALTER TABLE rollup_sketches ADD COLUMN instance TEXT NOT NULL DEFAULT ''",
      "ALTER TABLE rollup_sketches DROP CONSTRAINT rollup_sketches_pkey",
      "ALTER TABLE rollup_sketches ADD PRIMARY KEY (instance, metric, resolution, bucket_start)"}},
  };
  return all;
}

} // namespace

namespace {

/// Takes the schema lock for the rest of the transaction, so that the daemon's own
/// connections (and other instances sharing the database) never migrate at the same time:
/// PostgreSQL serialises on an advisory lock, SQLite on its write lock, taken up front.
void begin_locked_migration(soci::session& s, bool postgresql) {
  if (postgresql) {
    s << "BEGIN";
    int locked = 0;
    s << "SELECT 1 FROM (SELECT pg_advisory_xact_lock(" << schema_lock_key << ")) AS l",
      soci::into(locked);
  } else {
    s << "BEGIN IMMEDIATE";
  }
}

/// Applies every migration newer than the recorded version; runs inside the locked transaction.
void apply_pending_migrations(soci::session& s, bool postgresql) {
  s << "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
       "applied_at TEXT NOT NULL)";
  int current = 0;
  soci::indicator ind = soci::i_ok;
  s << "SELECT max(version) FROM schema_migrations", soci::into(current, ind);
  if (ind == soci::i_null)
    current = 0;
  if (current > schema_version)
    throw std::runtime_error("database schema version " + std::to_string(current)
                             + " is newer than this build understands ("
                             + std::to_string(schema_version) + "); upgrade medianest-perf");
  for (const auto& m : migrations()) {
    if (m.version <= current)
      continue;
    try {
      for (const auto& sql : postgresql ? m.postgresql : m.sqlite)
        s << sql;
      // Bound values must outlive the statement, which runs at the end of the expression.
      auto applied_at = std::to_string(std::time(nullptr));
      s << "INSERT INTO schema_migrations (version, applied_at) VALUES (:v, :t)",
        soci::use(m.version), soci::use(applied_at);
    } catch (const std::exception& e) {
      throw std::runtime_error("migration " + std::to_string(m.version) + " failed: " + e.what());
    }
  }
}

} // namespace

bool migrate(sql_session& db, std::string& error) {
  return db.run(
    "CREATE (schema migration)",
    [&](soci::session& s) {
      begin_locked_migration(s, db.is_postgresql());
      try {
        apply_pending_migrations(s, db.is_postgresql());
        s << "COMMIT";
      } catch (...) {
        try {
          s << "ROLLBACK";
        } catch (...) {
          // the connection is broken; the server rolls back on its own
        }
        throw;
      }
    },
    error);
}

bool ensure_schema(sql_session& db, bool& migrated, std::string& error) {
  db.close_if_stale();
  if (!db.is_open()) {
    migrated = false;
    if (!db.open(error))
      return false;
  }
  if (!migrated) {
    if (!migrate(db, error)) {
      db.close();
      return false;
    }
    migrated = true;
  }
  return true;
}

bool claim_unowned_rollups(sql_session& db, const std::string& instance, uint64_t& claimed,
                           std::string& error) {
  claimed = 0;
  std::string owner = instance;
  bool ok = db.run(
    "UPDATE rollups SET instance",
    [&](soci::session& s) {
      soci::transaction tx(s);
      soci::statement st = (s.prepare << "UPDATE rollups SET instance = :i WHERE instance = ''",
                            soci::use(owner));
      st.execute(true);
      claimed = static_cast<uint64_t>(st.get_affected_rows());
      s << "UPDATE rollup_sketches SET instance = :i WHERE instance = ''", soci::use(owner);
      tx.commit();
    },
    error);
  if (ok)
    db.note(statement_kind::update, 1);
  return ok;
}

bool upsert_rollups(sql_session& db, const std::string& instance,
                    const std::vector<rollup_row>& rows, std::string& error) {
  if (rows.empty())
    return true;
  static const std::string sql =
    "INSERT INTO rollups (instance, metric, resolution, bucket_start, count, sum, min, max, "
    "p95, p99) VALUES (:i, :m, :r, :b, :c, :s, :mn, :mx, :p95, :p99) "
    "ON CONFLICT (instance, metric, resolution, bucket_start) DO UPDATE SET "
    "count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max, "
    "p95 = excluded.p95, p99 = excluded.p99";
  static const std::string sketch_sql =
    "INSERT INTO rollup_sketches (instance, metric, resolution, bucket_start, sketch) "
    "VALUES (:i, :m, :r, :b, :k) ON CONFLICT (instance, metric, resolution, bucket_start) "
    "DO UPDATE SET sketch = excluded.sketch";
  std::string owner = instance;
  bool ok = db.run(
    sql,
    [&](soci::session& s) {
      rollup_row row;
      long long resolution = 0, start = 0, count = 0;
      soci::transaction tx(s);
      soci::statement st = (s.prepare << sql, soci::use(owner), soci::use(row.metric),
                            soci::use(resolution), soci::use(start), soci::use(count),
                            soci::use(row.sum), soci::use(row.min), soci::use(row.max),
                            soci::use(row.p95), soci::use(row.p99));
      soci::statement sk = (s.prepare << sketch_sql, soci::use(owner), soci::use(row.metric),
                            soci::use(resolution), soci::use(start), soci::use(row.sketch));
      for (const auto& r : rows) {
        row = r;
        resolution = r.resolution;
        start = r.start;
        count = static_cast<long long>(r.count);
        st.execute(true);
        sk.execute(true);
      }
      tx.commit();
    },
    error);
  if (ok)
    db.note(statement_kind::insert, 2 * rows.size() - 1);
  return ok;
}

namespace {

bool select_rows(sql_session& db, const std::string& sql, bool with_sketch,
                 const std::function<void(soci::statement&)>& bind, std::vector<rollup_row>& out,
                 std::string& error) {
  return db.run(
    sql,
    [&](soci::session& s) {
      rollup_row row;
      long long resolution = 0, start = 0, count = 0;
      soci::indicator sketch_ind = soci::i_ok;
      soci::statement st(s);
      st.exchange(soci::into(row.metric));
      st.exchange(soci::into(resolution));
      st.exchange(soci::into(start));
      st.exchange(soci::into(count));
      st.exchange(soci::into(row.sum));
      st.exchange(soci::into(row.min));
      st.exchange(soci::into(row.max));
      st.exchange(soci::into(row.p95));
      st.exchange(soci::into(row.p99));
      if (with_sketch)
        st.exchange(soci::into(row.sketch, sketch_ind));
      bind(st);
      st.alloc();
      st.prepare(sql);
      st.define_and_bind();
      st.execute(false);
      while (st.fetch()) {
        row.resolution = resolution;
        row.start = start;
        row.count = static_cast<uint64_t>(count);
        out.push_back(row);
      }
    },
    error);
}

} // namespace

bool load_open_rollups(sql_session& db, const std::string& instance, int64_t now_unix,
                       std::vector<rollup_row>& out, std::string& error) {
  long long now = now_unix;
  std::string owner = instance;
  return select_rows(
    db,
    "SELECT r.metric, r.resolution, r.bucket_start, r.count, r.sum, r.min, r.max, r.p95, r.p99, "
    "k.sketch FROM rollups r JOIN rollup_sketches k "
    "USING (instance, metric, resolution, bucket_start) "
    "WHERE r.instance = :i AND r.bucket_start + r.resolution > :now",
    true,
    [&](soci::statement& st) {
      st.exchange(soci::use(owner));
      st.exchange(soci::use(now));
    },
    out, error);
}

namespace {

/// Reads rows without sketches in bulk (vectors of 1,024 rows per fetch): several times
/// faster than row-by-row exchange for long periods.
bool read_rollups_bulk(sql_session& db, const std::string& instance, const std::string& metric,
                       int64_t resolution, int64_t from, int64_t to,
                       std::vector<rollup_row>& out, std::string& error) {
  static const std::string sql =
    "SELECT bucket_start, count, sum, min, max, p95, p99 FROM rollups WHERE instance = :i AND "
    "metric = :m AND resolution = :r AND bucket_start >= :lo AND bucket_start < :hi "
    "ORDER BY bucket_start";
  long long res = resolution, lo = from, hi = to;
  std::string owner = instance, m = metric;
  return db.run(
    sql,
    [&](soci::session& s) {
      constexpr size_t batch = 1024;
      std::vector<long long> start(batch), count(batch);
      std::vector<double> sum(batch), min(batch), max(batch), p95(batch), p99(batch);
      soci::statement st = (s.prepare << sql, soci::into(start), soci::into(count),
                            soci::into(sum), soci::into(min), soci::into(max), soci::into(p95),
                            soci::into(p99), soci::use(owner), soci::use(m), soci::use(res),
                            soci::use(lo), soci::use(hi));
      st.execute(false);
      while (st.fetch()) {
        for (size_t i = 0; i < start.size(); ++i) {
          rollup_row row;
          row.metric = metric;
          row.resolution = resolution;
          row.start = start[i];
          row.count = static_cast<uint64_t>(count[i]);
          row.sum = sum[i];
          row.min = min[i];
          row.max = max[i];
          row.p95 = p95[i];
          row.p99 = p99[i];
          out.push_back(std::move(row));
        }
        start.resize(batch);
        count.resize(batch);
        sum.resize(batch);
        min.resize(batch);
        max.resize(batch);
        p95.resize(batch);
        p99.resize(batch);
      }
    },
    error);
}

/// The same read through SQLite's own API on the session's connection: SOCI's SQLite backend
/// converts every value through text, which costs ~0.8 µs a row on long periods.
bool read_rollups_sqlite(sql_session& db, const std::string& instance, const std::string& metric,
                         int64_t resolution, int64_t from, int64_t to,
                         std::vector<rollup_row>& out, std::string& error) {
  static const char* sql =
    "SELECT bucket_start, count, sum, min, max, p95, p99 FROM rollups WHERE metric = ?1 AND "
    "resolution = ?2 AND bucket_start >= ?3 AND bucket_start < ?4 AND instance = ?5 "
    "ORDER BY bucket_start";
  return db.run(
    sql,
    [&](soci::session& s) {
      using namespace sqlite_api; // SOCI's copy of the SQLite declarations
      auto* backend = static_cast<soci::sqlite3_session_backend*>(s.get_backend());
      sqlite3_stmt* st = nullptr;
      if (sqlite3_prepare_v2(backend->conn_, sql, -1, &st, nullptr) != SQLITE_OK)
        throw std::runtime_error(sqlite3_errmsg(backend->conn_));
      std::unique_ptr<sqlite3_stmt, int (*)(sqlite3_stmt*)> guard{st, sqlite3_finalize};
      sqlite3_bind_text(st, 1, metric.data(), static_cast<int>(metric.size()), SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, resolution);
      sqlite3_bind_int64(st, 3, from);
      sqlite3_bind_int64(st, 4, to);
      sqlite3_bind_text(st, 5, instance.data(), static_cast<int>(instance.size()), SQLITE_STATIC);
      out.reserve(out.size() + static_cast<size_t>(std::max<int64_t>(0, (to - from) / resolution)));
      int rc;
      while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        rollup_row row;
        row.metric = metric;
        row.resolution = resolution;
        row.start = sqlite3_column_int64(st, 0);
        row.count = static_cast<uint64_t>(sqlite3_column_int64(st, 1));
        row.sum = sqlite3_column_double(st, 2);
        row.min = sqlite3_column_double(st, 3);
        row.max = sqlite3_column_double(st, 4);
        row.p95 = sqlite3_column_double(st, 5);
        row.p99 = sqlite3_column_double(st, 6);
        out.push_back(std::move(row));
      }
      if (rc != SQLITE_DONE)
        throw std::runtime_error(sqlite3_errmsg(backend->conn_));
    },
    error);
}

} // namespace

bool read_rollups(sql_session& db, const std::string& instance, const std::string& metric,
                  int64_t resolution, int64_t from, int64_t to, bool with_sketch,
                  std::vector<rollup_row>& out, std::string& error) {
  if (!with_sketch && !db.is_postgresql())
    return read_rollups_sqlite(db, instance, metric, resolution, from, to, out, error);
  if (!with_sketch)
    return read_rollups_bulk(db, instance, metric, resolution, from, to, out, error);
  long long res = resolution, lo = from, hi = to;
  std::string owner = instance, m = metric;
  static const std::string sql =
    "SELECT r.metric, r.resolution, r.bucket_start, r.count, r.sum, r.min, r.max, r.p95, r.p99, "
    "k.sketch FROM rollups r JOIN rollup_sketches k "
    "USING (instance, metric, resolution, bucket_start) "
    "WHERE r.instance = :i AND r.metric = :m AND r.resolution = :r AND r.bucket_start >= :lo "
    "AND r.bucket_start < :hi ORDER BY r.bucket_start";
  return select_rows(
    db, sql, true,
    [&](soci::statement& st) {
      st.exchange(soci::use(owner));
      st.exchange(soci::use(m));
      st.exchange(soci::use(res));
      st.exchange(soci::use(lo));
      st.exchange(soci::use(hi));
    },
    out, error);
}

bool apply_retention(sql_session& db, const retention_policy& keep, int64_t now_unix, uint64_t& deleted,
                     std::string& error) {
  deleted = 0;
  const std::pair<int64_t, int64_t> rules[] = {{resolution_1m, keep.minute_seconds},
                                               {resolution_5m, keep.five_minutes_seconds},
                                               {resolution_1h, keep.hour_seconds}};
  for (auto [res, keep_seconds] : rules) {
    long long r = res, cutoff = now_unix - keep_seconds;
    bool ok = db.run(
      "DELETE FROM rollups",
      [&](soci::session& s) {
        soci::transaction tx(s);
        soci::statement st = (s.prepare << "DELETE FROM rollups WHERE resolution = :r AND "
                                           "bucket_start + resolution <= :cutoff",
                              soci::use(r), soci::use(cutoff));
        st.execute(true);
        deleted += static_cast<uint64_t>(st.get_affected_rows());
        s << "DELETE FROM rollup_sketches WHERE resolution = :r AND "
             "bucket_start + resolution <= :cutoff",
          soci::use(r), soci::use(cutoff);
        tx.commit();
      },
      error);
    if (!ok)
      return false;
  }
  return true;
}

bool sum_and_count(sql_session& db, const std::string& instance, const std::string& metric,
                   int64_t from, int64_t to, double& sum, uint64_t& count, std::string& error) {
  long long lo = from, hi = to, c = 0;
  double s_total = 0;
  soci::indicator sum_ind = soci::i_ok, count_ind = soci::i_ok;
  std::string owner = instance, m = metric;
  bool ok = db.run(
    "SELECT sum(sum), sum(count) FROM rollups",
    [&](soci::session& s) {
      s << "SELECT sum(sum), CAST(sum(count) AS BIGINT) FROM rollups WHERE instance = :i "
           "AND metric = :m AND resolution = 3600 "
           "AND bucket_start >= :lo AND bucket_start < :hi",
        soci::into(s_total, sum_ind), soci::into(c, count_ind), soci::use(owner), soci::use(m),
        soci::use(lo), soci::use(hi);
    },
    error);
  sum = sum_ind == soci::i_null ? 0.0 : s_total;
  count = count_ind == soci::i_null ? 0 : static_cast<uint64_t>(c);
  return ok;
}

} // namespace medianest::sources
