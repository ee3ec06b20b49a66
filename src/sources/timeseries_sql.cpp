#include "sources/timeseries_sql.hpp"

#include <ctime>
#include <functional>

namespace medianest::sources {

namespace {

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
      "sketch TEXT NOT NULL, PRIMARY KEY (metric, resolution, bucket_start)) WITHOUT ROWID"},
     {"CREATE TABLE rollups (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
      "bucket_start BIGINT NOT NULL, count BIGINT NOT NULL, sum DOUBLE PRECISION NOT NULL, "
      "min DOUBLE PRECISION NOT NULL, max DOUBLE PRECISION NOT NULL, "
      "p95 DOUBLE PRECISION NOT NULL, p99 DOUBLE PRECISION NOT NULL, sketch TEXT NOT NULL, "
      "PRIMARY KEY (metric, resolution, bucket_start))"}},
  };
  return all;
}

} // namespace

bool migrate(sql_session& db, std::string& error) {
  if (!db.execute("CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, "
                  "applied_at TEXT NOT NULL)",
                  error))
    return false;
  int current = 0;
  soci::indicator ind = soci::i_ok;
  if (!db.run("SELECT max(version) FROM schema_migrations",
              [&](soci::session& s) {
                s << "SELECT max(version) FROM schema_migrations", soci::into(current, ind);
              },
              error))
    return false;
  if (ind == soci::i_null)
    current = 0;
  if (current > schema_version) {
    error = "database schema version " + std::to_string(current)
            + " is newer than this build understands (" + std::to_string(schema_version)
            + "); upgrade medianest-perf";
    return false;
  }
  for (const auto& m : migrations()) {
    if (m.version <= current)
      continue;
    const auto& statements = db.is_postgresql() ? m.postgresql : m.sqlite;
    bool ok = db.run(
      "CREATE (migration)",
      [&](soci::session& s) {
        soci::transaction tx(s);
        for (const auto& sql : statements)
          s << sql;
        s << "INSERT INTO schema_migrations (version, applied_at) VALUES (:v, :t)",
          soci::use(m.version), soci::use(std::to_string(std::time(nullptr)));
        tx.commit();
      },
      error);
    if (!ok) {
      error = "migration " + std::to_string(m.version) + " failed: " + error;
      return false;
    }
  }
  return true;
}

bool upsert_rollups(sql_session& db, const std::vector<rollup_row>& rows, std::string& error) {
  if (rows.empty())
    return true;
  static const std::string sql =
    "INSERT INTO rollups (metric, resolution, bucket_start, count, sum, min, max, p95, p99, "
    "sketch) VALUES (:m, :r, :b, :c, :s, :mn, :mx, :p95, :p99, :k) "
    "ON CONFLICT (metric, resolution, bucket_start) DO UPDATE SET count = excluded.count, "
    "sum = excluded.sum, min = excluded.min, max = excluded.max, p95 = excluded.p95, "
    "p99 = excluded.p99, sketch = excluded.sketch";
  bool ok = db.run(
    sql,
    [&](soci::session& s) {
      rollup_row row;
      long long resolution = 0, start = 0, count = 0;
      soci::transaction tx(s);
      soci::statement st = (s.prepare << sql, soci::use(row.metric), soci::use(resolution),
                            soci::use(start), soci::use(count), soci::use(row.sum),
                            soci::use(row.min), soci::use(row.max), soci::use(row.p95),
                            soci::use(row.p99), soci::use(row.sketch));
      for (const auto& r : rows) {
        row = r;
        resolution = r.resolution;
        start = r.start;
        count = static_cast<long long>(r.count);
        st.execute(true);
      }
      tx.commit();
    },
    error);
  if (ok && rows.size() > 1)
    db.note(statement_kind::insert, rows.size() - 1);
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

bool load_open_rollups(sql_session& db, int64_t now_unix, std::vector<rollup_row>& out,
                       std::string& error) {
  long long now = now_unix;
  return select_rows(
    db,
    "SELECT metric, resolution, bucket_start, count, sum, min, max, p95, p99, sketch FROM rollups "
    "WHERE bucket_start + resolution > :now",
    true, [&](soci::statement& st) { st.exchange(soci::use(now)); }, out, error);
}

bool read_rollups(sql_session& db, const std::string& metric, int64_t resolution, int64_t from,
                  int64_t to, bool with_sketch, std::vector<rollup_row>& out,
                  std::string& error) {
  long long res = resolution, lo = from, hi = to;
  std::string m = metric;
  std::string sql = with_sketch
                      ? "SELECT metric, resolution, bucket_start, count, sum, min, max, p95, p99, "
                        "sketch FROM rollups "
                      : "SELECT metric, resolution, bucket_start, count, sum, min, max, p95, p99 "
                        "FROM rollups ";
  sql += "WHERE metric = :m AND resolution = :r AND bucket_start >= :lo AND bucket_start < :hi "
         "ORDER BY bucket_start";
  return select_rows(
    db, sql, with_sketch,
    [&](soci::statement& st) {
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
        soci::statement st = (s.prepare << "DELETE FROM rollups WHERE resolution = :r AND "
                                           "bucket_start + resolution <= :cutoff",
                              soci::use(r), soci::use(cutoff));
        st.execute(true);
        deleted += static_cast<uint64_t>(st.get_affected_rows());
      },
      error);
    if (!ok)
      return false;
  }
  return true;
}

bool sum_and_count(sql_session& db, const std::string& metric, int64_t from, int64_t to,
                   double& sum, uint64_t& count, std::string& error) {
  long long lo = from, hi = to, c = 0;
  double s_total = 0;
  soci::indicator sum_ind = soci::i_ok, count_ind = soci::i_ok;
  std::string m = metric;
  bool ok = db.run(
    "SELECT sum(sum), sum(count) FROM rollups",
    [&](soci::session& s) {
      s << "SELECT sum(sum), CAST(sum(count) AS BIGINT) FROM rollups WHERE metric = :m "
           "AND resolution = 3600 "
           "AND bucket_start >= :lo AND bucket_start < :hi",
        soci::into(s_total, sum_ind), soci::into(c, count_ind), soci::use(m), soci::use(lo),
        soci::use(hi);
    },
    error);
  sum = sum_ind == soci::i_null ? 0.0 : s_total;
  count = count_ind == soci::i_null ? 0 : static_cast<uint64_t>(c);
  return ok;
}

} // namespace medianest::sources
