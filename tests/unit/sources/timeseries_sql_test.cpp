#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <functional>
#include <map>
#include <numeric>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include <boost/json.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "actors/timeseries_db.hpp"
#include "app/config.hpp"
#include "model/error.hpp"
#include "model/history.hpp"
#include "model/series.hpp"
#include "sources/sql_session.hpp"
#include "sources/timeseries_sql.hpp"
#include "unit/sources/sql_test_databases.hpp"

using medianest::database_target;
using medianest::find_metric;
using medianest::history_request;
using medianest::rollup;
using medianest::rollup_row;
using medianest::sources::sql_session;
namespace ts = medianest::sources;
namespace fs = std::filesystem;
namespace json = boost::json;

using medianest::test::postgres_database;
using medianest::test::run_on;
using medianest::test::scalar;
using medianest::test::sqlite_database;

namespace {

/// An hour-aligned unix time (2023-11-14T22:00:00Z).
constexpr int64_t H = 1'699'999'200;
static_assert(H % 3600 == 0);
constexpr int64_t hour = 3600;
constexpr int64_t day = 86400;

#define TIMESERIES_TEST(title, body) ON_BOTH_SQL_BACKENDS(title, "", body)

/// The --instance of the daemon whose roll-ups most tests write and read.
const std::string daemon_a = "daemon-a";

// -- helpers ------------------------------------------------------------------------------

void migrated(sql_session& db) {
  std::string error;
  bool ok = ts::migrate(db, error);
  INFO(error);
  REQUIRE(ok);
}

rollup_row row_of(const std::string& metric, int64_t resolution, int64_t start,
                  const std::vector<double>& values) {
  auto info = find_metric(metric);
  REQUIRE(info);
  rollup r;
  r.start = start;
  for (auto v : values)
    r.add(v, info->scale);
  return medianest::to_row(metric, resolution, r, info->scale);
}

void upsert(sql_session& db, const std::vector<rollup_row>& rows,
            const std::string& instance = daemon_a) {
  std::string error;
  bool ok = ts::upsert_rollups(db, instance, rows, error);
  INFO(error);
  REQUIRE(ok);
}

std::vector<rollup_row> read(sql_session& db, const std::string& metric, int64_t resolution,
                             int64_t from, int64_t to, bool with_sketch,
                             const std::string& instance = daemon_a) {
  std::vector<rollup_row> out;
  std::string error;
  bool ok = ts::read_rollups(db, instance, metric, resolution, from, to, with_sketch, out, error);
  INFO(error);
  REQUIRE(ok);
  return out;
}

std::vector<rollup_row> read_everything(sql_session& db, const std::string& metric,
                                        int64_t resolution) {
  return read(db, metric, resolution, 0, int64_t{4'000'000'000}, true);
}

double exact_quantile(std::vector<double> values, double q) {
  REQUIRE_FALSE(values.empty());
  std::sort(values.begin(), values.end());
  auto rank = static_cast<size_t>(std::ceil(q * static_cast<double>(values.size()) - 1e-9));
  rank = std::clamp<size_t>(rank, 1, values.size());
  return values[rank - 1];
}

bool within(double got, double want, double rel) {
  return std::abs(got - want) <= rel * std::abs(want);
}

std::string iso(int64_t unix_s) {
  std::time_t t = unix_s;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

int64_t parse_iso(const std::string& text) {
  std::tm tm{};
  int ms = 0;
  REQUIRE(std::sscanf(text.c_str(), "%d-%d-%dT%d:%d:%d.%dZ", &tm.tm_year, &tm.tm_mon,
                      &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms)
          == 7);
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  return static_cast<int64_t>(timegm(&tm));
}

double num(const json::value& v) {
  return v.to_number<double>();
}

double sum_of(const std::vector<double>& v) {
  return std::accumulate(v.begin(), v.end(), 0.0);
}

/// `n` response times in ms, whole µs, uniform in [lo, hi).
std::vector<double> times_ms(std::mt19937_64& rng, size_t n, double lo, double hi) {
  std::vector<double> out;
  auto lo_us = static_cast<uint64_t>(lo * 1000), span = static_cast<uint64_t>((hi - lo) * 1000);
  for (size_t i = 0; i < n; ++i)
    out.push_back(static_cast<double>(lo_us + rng() % span) / 1000.0);
  return out;
}

/// Checks a /history body against the samples of each bucket it must show.
void check_history(const std::string& body, const std::map<int64_t, std::vector<double>>& shown) {
  json::value doc;
  REQUIRE_NOTHROW(doc = json::parse(body));
  auto& points = doc.at("dataPoints").as_array();
  REQUIRE(points.size() == shown.size());
  std::vector<double> all;
  size_t i = 0;
  for (const auto& [start, values] : shown) {
    INFO("bucket " << iso(start));
    const auto& p = points[i++];
    CHECK(p.at("timestamp").as_string() == iso(start));
    CHECK(p.at("count").to_number<uint64_t>() == values.size());
    CHECK(num(p.at("value")) == Approx(sum_of(values) / static_cast<double>(values.size())).margin(0.006));
    CHECK(num(p.at("p95")) == Approx(exact_quantile(values, 0.95)).epsilon(0.01).margin(0.006));
    CHECK(num(p.at("p99")) == Approx(exact_quantile(values, 0.99)).epsilon(0.01).margin(0.006));
    all.insert(all.end(), values.begin(), values.end());
  }
  auto& s = doc.at("summary").as_object();
  CHECK(s.at("count").to_number<uint64_t>() == all.size());
  CHECK(num(s.at("average")) == Approx(sum_of(all) / static_cast<double>(all.size())).margin(0.006));
  CHECK(num(s.at("min")) == Approx(*std::min_element(all.begin(), all.end())).margin(0.006));
  CHECK(num(s.at("max")) == Approx(*std::max_element(all.begin(), all.end())).margin(0.006));
  auto p95 = exact_quantile(all, 0.95), p99 = exact_quantile(all, 0.99);
  INFO("exact p95 " << p95 << " p99 " << p99 << "; answered " << num(s.at("p95")) << " "
                    << num(s.at("p99")));
  CHECK(within(num(s.at("p95")), p95, 0.01));
  CHECK(within(num(s.at("p99")), p99, 0.01));
}

// -- migrate ------------------------------------------------------------------------------

void migrate_is_idempotent(sql_session& db) {
  auto started = std::time(nullptr);
  std::string error;
  REQUIRE(ts::migrate(db, error));
  // One row per migration, the newest being the build's schema version.
  CHECK(scalar(db, "SELECT count(*) FROM schema_migrations") == ts::schema_version);
  CHECK(scalar(db, "SELECT max(version) FROM schema_migrations") == ts::schema_version);
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 0);
  std::string applied_at;
  REQUIRE(db.run(
    "SELECT applied_at FROM schema_migrations",
    [&](soci::session& s) {
      s << "SELECT applied_at FROM schema_migrations WHERE version = 1", soci::into(applied_at);
    },
    error));
  auto applied = std::stoll(applied_at);
  CHECK(applied >= started - 5);
  CHECK(applied <= std::time(nullptr) + 5);

  // Running again (same session, then a new connection) changes nothing and keeps the data.
  upsert(db, {row_of("cpu", 60, H, {1, 2, 3})});
  REQUIRE(ts::migrate(db, error));
  db.close();
  REQUIRE(db.open(error));
  REQUIRE(ts::migrate(db, error));
  CHECK(scalar(db, "SELECT count(*) FROM schema_migrations") == ts::schema_version);
  CHECK(scalar(db, "SELECT max(version) FROM schema_migrations") == ts::schema_version);
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 1);
}
TIMESERIES_TEST("migrate is idempotent and records every schema version", migrate_is_idempotent)

/// A database as version 3 left it: the roll-up tables without an owner, one bucket in them.
void create_version_3_rollups(sql_session& db, const rollup_row& row) {
  std::string error;
  auto big = db.is_postgresql() ? std::string{"BIGINT"} : std::string{"INTEGER"};
  auto real = db.is_postgresql() ? std::string{"DOUBLE PRECISION"} : std::string{"REAL"};
  for (const auto& sql : {
         std::string{"CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                     "applied_at TEXT NOT NULL)"},
         std::string{"INSERT INTO schema_migrations VALUES (1, '0'), (2, '0'), (3, '0')"},
         "CREATE TABLE rollups (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
         "bucket_start " + big + " NOT NULL, count " + big + " NOT NULL, sum " + real
           + " NOT NULL, min " + real + " NOT NULL, max " + real + " NOT NULL, p95 " + real
           + " NOT NULL, p99 " + real + " NOT NULL, "
             "PRIMARY KEY (metric, resolution, bucket_start))",
         "CREATE TABLE rollup_sketches (metric TEXT NOT NULL, resolution INTEGER NOT NULL, "
         "bucket_start " + big + " NOT NULL, sketch TEXT NOT NULL, "
         "PRIMARY KEY (metric, resolution, bucket_start))",
       }) {
    INFO(sql);
    REQUIRE(db.execute(sql, error));
  }
  long long resolution = row.resolution, start = row.start,
            count = static_cast<long long>(row.count);
  REQUIRE(db.run(
    "INSERT INTO rollups",
    [&](soci::session& s) {
      s << "INSERT INTO rollups VALUES (:m, :r, :b, :c, :s, :mn, :mx, :p95, :p99)",
        soci::use(row.metric), soci::use(resolution), soci::use(start), soci::use(count),
        soci::use(row.sum), soci::use(row.min), soci::use(row.max), soci::use(row.p95),
        soci::use(row.p99);
      s << "INSERT INTO rollup_sketches VALUES (:m, :r, :b, :k)", soci::use(row.metric),
        soci::use(resolution), soci::use(start), soci::use(row.sketch);
    },
    error));
}

void version_3_rollups_are_kept_and_claimed(sql_session& db) {
  auto old = row_of("cpu", 60, H, {10, 20, 30});
  create_version_3_rollups(db, old);
  migrated(db);
  CHECK(scalar(db, "SELECT max(version) FROM schema_migrations") == ts::schema_version);
  CHECK(scalar(db, "SELECT count(*) FROM rollups WHERE instance = ''") == 1);
  CHECK(scalar(db, "SELECT count(*) FROM rollup_sketches WHERE instance = ''") == 1);
  CHECK(read_everything(db, "cpu", 60).empty()); // nobody's yet

  // The first daemon to start after the upgrade continues the history; the next finds none.
  uint64_t claimed = 0;
  std::string error;
  REQUIRE(ts::claim_unowned_rollups(db, daemon_a, claimed, error));
  CHECK(claimed == 1);
  REQUIRE(ts::claim_unowned_rollups(db, "daemon-b", claimed, error));
  CHECK(claimed == 0);
  auto rows = read_everything(db, "cpu", 60);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].count == 3);
  CHECK(rows[0].sum == Approx(60));
  CHECK(rows[0].max == Approx(30));
  CHECK(rows[0].sketch == old.sketch);
  CHECK(read_everything(db, "cpu", 60).size() == 1);
  CHECK(read(db, "cpu", 60, 0, int64_t{4'000'000'000}, true, "daemon-b").empty());
}
TIMESERIES_TEST("a version 3 database keeps its roll-ups, which the first daemon to start claims",
                version_3_rollups_are_kept_and_claimed)

/// The daemon's writer, reader and alert connections all migrate at start-up, and several
/// instances may share one PostgreSQL: they must take turns rather than fail.
void concurrent_first_migrations_all_succeed(const database_target& target) {
  constexpr int connections = 6;
  std::vector<std::string> errors(connections);
  std::vector<int> succeeded(connections, 0);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < connections; ++i)
      threads.emplace_back([&, i] {
        sql_session db{target};
        if (db.open(errors[i]) && ts::migrate(db, errors[i]))
          succeeded[i] = 1;
      });
  }
  for (int i = 0; i < connections; ++i) {
    INFO("connection " << i << ": " << errors[i]);
    CHECK(succeeded[i] == 1);
  }
  run_on(target, [](sql_session& db) {
    CHECK(scalar(db, "SELECT count(*) FROM schema_migrations") == ts::schema_version);
    CHECK(scalar(db, "SELECT count(*) FROM rollups") == 0);
  });
}
TEST_CASE("concurrent first migrations all succeed on sqlite") {
  sqlite_database database;
  concurrent_first_migrations_all_succeed(database.target());
}
TEST_CASE("concurrent first migrations all succeed on postgresql", "[postgres]") {
  postgres_database database;
  concurrent_first_migrations_all_succeed(database.target());
}

void newer_schema_is_refused(sql_session& db) {
  migrated(db);
  upsert(db, {row_of("cpu", 60, H, {1})});
  std::string error;
  auto newer = ts::schema_version + 1;
  REQUIRE(db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES ("
                       + std::to_string(newer) + ", '0')",
                     error));
  std::string refusal;
  CHECK_FALSE(ts::migrate(db, refusal));
  INFO(refusal);
  CHECK(refusal.find("newer") != std::string::npos);
  CHECK(refusal.find("version " + std::to_string(newer)) != std::string::npos);
  CHECK(refusal.find("(" + std::to_string(ts::schema_version) + ")") != std::string::npos);
  CHECK(refusal.find("upgrade") != std::string::npos);
  // Nothing was touched.
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 1);
  CHECK(scalar(db, "SELECT count(*) FROM schema_migrations") == ts::schema_version + 1);
}
TIMESERIES_TEST("a database with a newer schema version is refused with a clear error",
                newer_schema_is_refused)

void newer_schema_refused_before_creating_tables(sql_session& db) {
  std::string error;
  REQUIRE(db.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, "
                     "applied_at TEXT NOT NULL)",
                     error));
  REQUIRE(db.execute("INSERT INTO schema_migrations (version, applied_at) VALUES (7, '0')", error));
  std::string refusal;
  CHECK_FALSE(ts::migrate(db, refusal));
  CHECK(refusal.find("version 7") != std::string::npos);
  // The rollups table of version 1 was not created on top of an unknown schema.
  std::string probe_error;
  CHECK_FALSE(db.execute("SELECT count(*) FROM rollups", probe_error));
}
TIMESERIES_TEST("a newer schema is refused before any table is created",
                newer_schema_refused_before_creating_tables)

// -- upsert and read ----------------------------------------------------------------------

void upsert_inserts_then_updates(sql_session& db) {
  migrated(db);
  auto first = row_of("cpu", 60, H + 120, {10, 20, 30});
  upsert(db, {first});
  auto rows = read(db, "cpu", 60, H, H + hour, true);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].metric == "cpu");
  CHECK(rows[0].resolution == 60);
  CHECK(rows[0].start == H + 120);
  CHECK(rows[0].count == 3);
  CHECK(rows[0].sum == Approx(60.0));
  CHECK(rows[0].min == Approx(10.0));
  CHECK(rows[0].max == Approx(30.0));
  CHECK(rows[0].p95 == Approx(first.p95));
  CHECK(rows[0].p99 == Approx(first.p99));
  CHECK(rows[0].sketch == first.sketch);

  // The same bucket again, with new contents: still one row, now with the new values.
  auto second = row_of("cpu", 60, H + 120, {40, 50, 60, 70.5});
  upsert(db, {second});
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 1);
  rows = read(db, "cpu", 60, H, H + hour, true);
  REQUIRE(rows.size() == 1);
  CHECK(rows[0].count == 4);
  CHECK(rows[0].sum == Approx(220.5));
  CHECK(rows[0].min == Approx(40.0));
  CHECK(rows[0].max == Approx(70.5));
  CHECK(rows[0].p99 == Approx(second.p99));
  CHECK(rows[0].sketch == second.sketch);
  rollup decoded;
  REQUIRE(medianest::from_row(rows[0], decoded));
  CHECK(decoded.sketch.count() == 4);

  // Another metric, another resolution and another start are other rows; within one batch
  // the last version of a bucket wins.
  upsert(db, {row_of("memory", 60, H + 120, {1}), row_of("cpu", 300, H, {2}),
              row_of("cpu", 60, H + 180, {3}), row_of("cpu", 60, H + 180, {4, 5})});
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 4);
  auto later = read(db, "cpu", 60, H + 180, H + 240, false);
  REQUIRE(later.size() == 1);
  CHECK(later[0].count == 2);
  CHECK(later[0].sum == Approx(9.0));

  std::string error;
  CHECK(ts::upsert_rollups(db, daemon_a, {}, error));
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 4);
}
TIMESERIES_TEST("upsert inserts a bucket then updates the same bucket in place",
                upsert_inserts_then_updates)

void read_rollups_returns_the_range_ascending(sql_session& db) {
  migrated(db);
  const int64_t from = H + 600, to = H + 1200;
  std::vector<int64_t> starts;
  for (int64_t t = from - 180; t <= to + 120; t += 60)
    starts.push_back(t);
  std::mt19937_64 rng(3);
  std::shuffle(starts.begin(), starts.end(), rng); // inserted in no particular order
  std::map<int64_t, rollup_row> written;
  std::vector<rollup_row> rows;
  for (auto t : starts) {
    auto r = row_of("cpu", 60, t, {static_cast<double>(t - H) / 60.0, 1.0 + static_cast<double>(t % 7)});
    written[t] = r;
    rows.push_back(r);
    rows.push_back(row_of("memory", 60, t, {99}));
    rows.push_back(row_of("cpu", 300, t, {98}));
  }
  upsert(db, rows);

  for (bool with_sketch : {false, true}) {
    INFO("with_sketch = " << with_sketch);
    auto got = read(db, "cpu", 60, from, to, with_sketch);
    REQUIRE(got.size() == 10); // from, from + 60, …, to - 60
    for (size_t i = 0; i < got.size(); ++i) {
      auto want_start = from + static_cast<int64_t>(i) * 60;
      const auto& want = written.at(want_start);
      CHECK(got[i].metric == "cpu");
      CHECK(got[i].resolution == 60);
      CHECK(got[i].start == want_start);
      CHECK(got[i].count == want.count);
      CHECK(got[i].sum == Approx(want.sum));
      CHECK(got[i].min == Approx(want.min));
      CHECK(got[i].max == Approx(want.max));
      CHECK(got[i].p95 == Approx(want.p95));
      CHECK(got[i].p99 == Approx(want.p99));
      if (with_sketch)
        CHECK(got[i].sketch == want.sketch);
      else
        CHECK(got[i].sketch.empty());
    }
  }
  CHECK(read(db, "cpu", 60, from, from, true).empty());
  CHECK(read(db, "cpu", 60, to + 180, to + 600, true).empty());
  CHECK(read(db, "disk", 60, from, to, true).empty());
  CHECK(read(db, "cpu", 3600, from, to, true).empty());
}
TIMESERIES_TEST("read_rollups returns the rows of the range in ascending order",
                read_rollups_returns_the_range_ascending)

void load_open_rollups_returns_open_buckets(sql_session& db) {
  migrated(db);
  const int64_t now = H + 1260; // 22:21:00
  struct case_row {
    const char* metric;
    int64_t resolution;
    int64_t start;
    bool open;
  };
  const case_row cases[] = {
    {"cpu", 60, H + 1260, true},     // 22:21-22:22
    {"cpu", 60, H + 1200, false},    // ended exactly at now
    {"cpu", 60, H + 600, false},
    {"cpu", 60, H + 1320, true},     // not even started: still open
    {"cpu", 300, H + 1200, true},    // 22:20-22:25
    {"cpu", 300, H + 900, false},    // ended at 22:20
    {"cpu", 3600, H, true},
    {"cpu", 3600, H - hour, false},
    {"memory", 3600, H, true},
    {"memory", 60, H + 1140, false},
  };
  std::vector<rollup_row> rows;
  for (const auto& c : cases)
    rows.push_back(row_of(c.metric, c.resolution, c.start, {12.5, 17.25}));
  upsert(db, rows);

  std::vector<rollup_row> loaded;
  std::string error;
  REQUIRE(ts::load_open_rollups(db, daemon_a, now, loaded, error));
  std::set<std::tuple<std::string, int64_t, int64_t>> got, want;
  for (const auto& r : loaded) {
    got.emplace(r.metric, r.resolution, r.start);
    CHECK(r.count == 2);
    CHECK(r.sum == Approx(29.75));
    rollup decoded;
    CHECK(medianest::from_row(r, decoded)); // sketches come along
    CHECK(decoded.sketch.count() == 2);
  }
  for (const auto& c : cases)
    if (c.open)
      want.emplace(c.metric, c.resolution, c.start);
  CHECK(got == want);
  CHECK(loaded.size() == want.size());
}
TIMESERIES_TEST("load_open_rollups returns only buckets still open at now",
                load_open_rollups_returns_open_buckets)

void daemons_sharing_a_database_keep_their_own_buckets(sql_session& db) {
  migrated(db);
  const std::string daemon_b = "daemon-b";
  // The same buckets, written by two daemons.
  upsert(db, {row_of("response_time", 60, H, {100}), row_of("response_time", 3600, H, {100})});
  upsert(db, {row_of("response_time", 60, H, {300, 500}), row_of("response_time", 3600, H, {400})},
         daemon_b);
  auto a = read_everything(db, "response_time", 60);
  auto b = read(db, "response_time", 60, 0, int64_t{4'000'000'000}, true, daemon_b);
  REQUIRE(a.size() == 1);
  REQUIRE(b.size() == 1);
  CHECK(a[0].count == 1);
  CHECK(a[0].max == Approx(100));
  CHECK(b[0].count == 2);
  CHECK(b[0].max == Approx(500));
  // Each daemon's writes overwrite only its own bucket.
  upsert(db, {row_of("response_time", 60, H, {100, 110, 120})});
  CHECK(read_everything(db, "response_time", 60)[0].count == 3);
  CHECK(read(db, "response_time", 60, 0, int64_t{4'000'000'000}, false, daemon_b)[0].count == 2);

  std::vector<rollup_row> open_a, open_b;
  std::string error;
  REQUIRE(ts::load_open_rollups(db, daemon_a, H + 30, open_a, error));
  REQUIRE(ts::load_open_rollups(db, daemon_b, H + 30, open_b, error));
  REQUIRE(open_a.size() == 2);
  REQUIRE(open_b.size() == 2);
  for (const auto& r : open_b)
    CHECK(r.max == Approx(r.resolution == 60 ? 500 : 400));

  double sum = 0;
  uint64_t count = 0;
  REQUIRE(ts::sum_and_count(db, daemon_b, "response_time", H, H + hour, sum, count, error));
  CHECK(count == 1);
  CHECK(sum == Approx(400));

  // Retention expires every daemon's rows, a retired daemon's included.
  uint64_t deleted = 0;
  REQUIRE(ts::apply_retention(db, medianest::retention_policy{}, H + 8 * day, deleted, error));
  CHECK(deleted == 2); // the two 1m rows
  CHECK(scalar(db, "SELECT count(*) FROM rollup_sketches") == 2);
}
TIMESERIES_TEST("daemons sharing a database each read and write their own buckets",
                daemons_sharing_a_database_keep_their_own_buckets)

void apply_retention_deletes_expired_rows(sql_session& db) {
  migrated(db);
  const int64_t now = H;
  medianest::retention_policy keep; // 7 days of 1m, 30 of 5m, 400 of 1h
  struct case_row {
    int64_t resolution;
    int64_t start;
    bool expired;
  };
  const case_row cases[] = {
    {60, now - 7 * day - 120, true},
    {60, now - 7 * day - 60, true},    // its minute ended exactly 7 days ago
    {60, now - 7 * day, false},        // still reaches into the last 7 days
    {60, now - hour, false},
    {60, now, false},
    {300, now - 30 * day - 600, true},
    {300, now - 30 * day - 300, true}, // ended exactly 30 days ago
    {300, now - 30 * day, false},
    {300, now - 8 * day, false},       // past the 1m retention, within the 5m one
    {3600, now - 400 * day - 7200, true},
    {3600, now - 400 * day - 3600, true},
    {3600, now - 400 * day, false},
    {3600, now - 31 * day, false},     // past the 5m retention, within the 1h one
  };
  std::vector<rollup_row> rows;
  uint64_t expired = 0;
  for (const auto& c : cases) {
    rows.push_back(row_of("cpu", c.resolution, c.start, {1}));
    rows.push_back(row_of("memory", c.resolution, c.start, {2}));
    expired += c.expired ? 2 : 0;
  }
  upsert(db, rows);
  REQUIRE(expired == 12);

  uint64_t deleted = 0;
  std::string error;
  REQUIRE(ts::apply_retention(db, keep, now, deleted, error));
  CHECK(deleted == expired);
  for (auto metric : {"cpu", "memory"}) {
    for (int64_t res : medianest::resolutions) {
      std::vector<int64_t> want, got;
      for (const auto& c : cases)
        if (c.resolution == res && !c.expired)
          want.push_back(c.start);
      std::sort(want.begin(), want.end());
      for (const auto& r : read_everything(db, metric, res))
        got.push_back(r.start);
      INFO(metric << " at " << res);
      CHECK(got == want);
    }
  }
  // Nothing is left to expire.
  REQUIRE(ts::apply_retention(db, keep, now, deleted, error));
  CHECK(deleted == 0);

  // A shorter policy expires more.
  medianest::retention_policy short_keep{3600, 86400, 40 * 86400};
  REQUIRE(ts::apply_retention(db, short_keep, now, deleted, error));
  // 1m: now - 7d is gone (now - 1h ends at now - 59 min, kept); 5m: now-30d and now-8d;
  // 1h: now - 400d (now - 31d is kept). Twice over, for both metrics.
  CHECK(deleted == 2 * (1 + 2 + 1));
}
TIMESERIES_TEST("apply_retention deletes exactly the expired rows of each resolution",
                apply_retention_deletes_expired_rows)

void sum_and_count_adds_hourly_rows(sql_session& db) {
  migrated(db);
  upsert(db, {
               row_of("response_time", 3600, H - 3 * hour, {10, 20}),      // 30 / 2
               row_of("response_time", 3600, H - 2 * hour, {5, 15, 25}),   // 45 / 3
               row_of("response_time", 3600, H - hour, {100}),             // 100 / 1
               row_of("response_time", 3600, H, {1, 2, 3, 4}),             // 10 / 4
               row_of("response_time", 300, H - 2 * hour, {1000, 1000}),   // not hourly
               row_of("response_time", 60, H - hour, {5000}),              // not hourly
               row_of("memory", 3600, H - 2 * hour, {77}),                 // other metric
             });
  double sum = -1;
  uint64_t count = 99;
  std::string error;
  REQUIRE(ts::sum_and_count(db, daemon_a, "response_time", H - 2 * hour, H, sum, count, error));
  CHECK(sum == Approx(145.0));
  CHECK(count == 4);
  REQUIRE(
    ts::sum_and_count(db, daemon_a, "response_time", H - 3 * hour, H + hour, sum, count, error));
  CHECK(sum == Approx(185.0));
  CHECK(count == 10);
  REQUIRE(
    ts::sum_and_count(db, daemon_a, "response_time", H + hour, H + 5 * hour, sum, count, error));
  CHECK(sum == 0.0);
  CHECK(count == 0);
  REQUIRE(ts::sum_and_count(db, daemon_a, "cache_hit_rate", 0, H * 2, sum, count, error));
  CHECK(sum == 0.0);
  CHECK(count == 0);
}
TIMESERIES_TEST("sum_and_count sums the hourly rows of a range", sum_and_count_adds_hourly_rows)

// -- answer_history -----------------------------------------------------------------------

void history_within_one_hour(sql_session& db) {
  migrated(db);
  std::mt19937_64 rng(17);
  const int64_t now = H + 30 * 60 + 15;     // 22:30:15
  const int64_t from = H - 30 * 60;         // the minute holding now - 1h (21:30:15)
  const int64_t current = H + 30 * 60;      // the open minute
  const int64_t previous = current - 60;    // closed but not yet written
  std::map<int64_t, std::vector<double>> minutes;
  for (int64_t t = from - 120; t <= current; t += 60) {
    if (t == H - 600)
      continue; // a minute without requests
    bool slow = t == H - 300 || t == H + 600;
    minutes[t] = times_ms(rng, 20 + rng() % 40, slow ? 800 : 5, slow ? 1200 : 90);
  }
  // Before the period: huge values that must not show.
  minutes[from - 60] = times_ms(rng, 50, 9000, 9900);
  minutes[from - 120] = times_ms(rng, 50, 9000, 9900);

  std::vector<rollup_row> stored, pending;
  for (const auto& [t, values] : minutes) {
    if (t == current)
      pending.push_back(row_of("response_time", 60, t, values));
    else if (t == previous) {
      // An older version of the bucket was written; memory holds the newer, fuller one.
      stored.push_back(row_of("response_time", 60, t, {values[0], values[1]}));
      pending.push_back(row_of("response_time", 60, t, values));
    } else
      stored.push_back(row_of("response_time", 60, t, values));
  }
  stored.push_back(row_of("cpu", 60, H, {99}));                 // another metric
  stored.push_back(row_of("response_time", 300, H, {99999}));   // another resolution
  upsert(db, stored);

  history_request req;
  req.query.period = "1h";
  req.query.period_seconds = 3600;
  req.query.granularity = "1m";
  req.query.resolution = 60;
  req.now_unix = now;
  req.pending = pending;
  req.pending_hours = {row_of("response_time", 3600, H, minutes.at(current))};

  auto body = medianest::answer_history(db, daemon_a, req);
  REQUIRE(body);
  auto doc = json::parse(*body);
  CHECK(doc.at("period").as_string() == "1h");
  CHECK(doc.at("metric").as_string() == "response_time");
  CHECK(doc.at("granularity").as_string() == "1m");
  CHECK(doc.at("unit").as_string() == "ms");
  CHECK_FALSE(doc.as_object().contains("forecast"));

  std::map<int64_t, std::vector<double>> shown;
  for (const auto& [t, values] : minutes)
    if (t >= from)
      shown[t] = values;
  REQUIRE(shown.size() == 60); // 61 minutes from 21:30 to 22:30, one of them empty
  check_history(*body, shown);
}
TIMESERIES_TEST("answer_history over one hour matches the samples it was built from",
                history_within_one_hour)

void history_over_full_hours_and_edges(sql_session& db) {
  migrated(db);
  std::mt19937_64 rng(23);
  const int64_t now = H + 20 * 60 + 7;               // 22:20:07
  const int64_t from = H - day + 20 * 60;            // 5m bucket of now - 24h
  const int64_t first_full_hour = H - 23 * hour;
  const int64_t current = H + 20 * 60;               // the open 5m bucket
  const int64_t previous = current - 300;            // closed but not yet written
  // The last two 5m buckets of the previous hour: written at 5m, but the 1h row in SQL is an
  // older version without them (the newer one is still in memory).
  const int64_t late_a = H - 600, late_b = H - 300;

  std::map<int64_t, std::vector<double>> five; // every 5m bucket from 25 hours ago
  for (int64_t t = H - 25 * hour; t <= current; t += 300) {
    if (t < from)
      five[t] = times_ms(rng, 30, 5000, 6000); // before the period
    else if (t < first_full_hour || t >= H)
      five[t] = times_ms(rng, 15, 1000, 1100); // the partial hours at both edges
    else if (t == late_a || t == late_b)
      five[t] = times_ms(rng, 40, 3000, 3100);
    else
      five[t] = times_ms(rng, 5 + rng() % 15, 20, 200);
  }
  auto hour_values = [&](int64_t h, int64_t until) {
    std::vector<double> out;
    for (const auto& [t, values] : five)
      if (t >= h && t < h + hour && t < until)
        out.insert(out.end(), values.begin(), values.end());
    return out;
  };

  std::vector<rollup_row> stored, pending, pending_hours;
  for (const auto& [t, values] : five) {
    if (t == current)
      pending.push_back(row_of("response_time", 300, t, values));
    else if (t == previous) {
      stored.push_back(row_of("response_time", 300, t, {values[0], values[1], values[2]}));
      pending.push_back(row_of("response_time", 300, t, values));
    } else
      stored.push_back(row_of("response_time", 300, t, values));
  }
  for (int64_t h = H - 25 * hour; h <= H; h += hour) {
    if (h == H - hour) {
      stored.push_back(row_of("response_time", 3600, h, hour_values(h, late_a)));
      pending_hours.push_back(row_of("response_time", 3600, h, hour_values(h, H)));
    } else if (h == H) {
      stored.push_back(row_of("response_time", 3600, h, hour_values(h, previous)));
      pending_hours.push_back(row_of("response_time", 3600, h, hour_values(h, H + hour)));
    } else
      stored.push_back(row_of("response_time", 3600, h, hour_values(h, h + hour)));
  }
  upsert(db, stored);

  // What the period holds, and sanity checks that the data tells right from wrong.
  std::map<int64_t, std::vector<double>> shown;
  std::vector<double> all, with_hour_before, without_edges, with_stale_hour;
  for (const auto& [t, values] : five) {
    if (t >= from) {
      shown[t] = values;
      all.insert(all.end(), values.begin(), values.end());
      if (t >= first_full_hour && t < H)
        without_edges.insert(without_edges.end(), values.begin(), values.end());
      if (t != late_a && t != late_b)
        with_stale_hour.insert(with_stale_hour.end(), values.begin(), values.end());
    }
    if (t >= H - day)
      with_hour_before.insert(with_hour_before.end(), values.begin(), values.end());
  }
  REQUIRE(shown.size() == 289); // 24 hours of 5m buckets, both ends included
  auto differs = [&](const std::vector<double>& wrong) {
    return !within(exact_quantile(wrong, 0.95), exact_quantile(all, 0.95), 0.03)
           || !within(exact_quantile(wrong, 0.99), exact_quantile(all, 0.99), 0.03);
  };
  REQUIRE(differs(with_hour_before));
  REQUIRE(differs(without_edges));
  REQUIRE(differs(with_stale_hour));

  history_request req;
  req.query.period = "24h";
  req.query.period_seconds = day;
  req.query.granularity = "5m";
  req.query.resolution = 300;
  req.now_unix = now;
  req.pending = pending;
  req.pending_hours = pending_hours;
  auto body = medianest::answer_history(db, daemon_a, req);
  REQUIRE(body);
  check_history(*body, shown);
}
TIMESERIES_TEST("answer_history over a day merges hourly rows with finer rows at the edges",
                history_over_full_hours_and_edges)

void history_forecast_on_a_linear_series(sql_session& db) {
  migrated(db);
  const int64_t now = H + 600;
  // Memory rising one point an hour: 50 % a day ago, 74 % in the current hour.
  std::vector<rollup_row> stored;
  for (int i = 0; i < 24; ++i)
    stored.push_back(row_of("memory", 3600, H - day + i * hour,
                            std::vector<double>(10, 50.0 + i)));
  upsert(db, stored);
  history_request req;
  req.query.metric = "memory";
  req.query.granularity = "1h";
  req.query.resolution = 3600;
  req.query.forecast = true;
  req.now_unix = now;
  req.pending = {row_of("memory", 3600, H, std::vector<double>(10, 74.0))};
  req.pending_hours = req.pending;
  auto body = medianest::answer_history(db, daemon_a, req);
  REQUIRE(body);
  auto doc = json::parse(*body);
  REQUIRE(doc.at("dataPoints").as_array().size() == 25);
  CHECK(num(doc.at("dataPoints").at(24).at("value")) == Approx(74.0));
  CHECK(num(doc.at("summary").at("average")) == Approx(62.0));

  auto& f = doc.at("forecast").as_object();
  REQUIRE(f.at("available").as_bool());
  CHECK(num(f.at("trendPerHour")) == Approx(1.0).margin(0.01));
  auto& points = f.at("points").as_array();
  REQUIRE_FALSE(points.empty());
  CHECK(parse_iso(std::string{points.at(0).at("timestamp").as_string()}) == H + hour);
  CHECK(num(points.at(0).at("value")) == Approx(75.0).margin(0.01));
  // 80 % is 6 points above the last value: six hours later; 90 % sixteen hours later.
  auto& warning = f.at("warning").as_object();
  CHECK(num(warning.at("threshold")) == 80.0);
  CHECK_FALSE(warning.at("alreadyExceeded").as_bool());
  REQUIRE(warning.at("crossesAt").is_string());
  auto warn_at = parse_iso(std::string{warning.at("crossesAt").as_string()});
  CHECK(std::abs(warn_at - (H + 6 * hour)) <= 60);
  auto& critical = f.at("critical").as_object();
  REQUIRE(critical.at("crossesAt").is_string());
  auto crit_at = parse_iso(std::string{critical.at("crossesAt").as_string()});
  CHECK(std::abs(crit_at - (H + 16 * hour)) <= 60);
}
TIMESERIES_TEST("a forecast of a linear series finds when it crosses the warning threshold",
                history_forecast_on_a_linear_series)

void history_refuses_an_unknown_metric(sql_session& db) {
  migrated(db);
  history_request req;
  req.query.metric = "no_such_metric";
  req.now_unix = H;
  auto body = medianest::answer_history(db, daemon_a, req);
  REQUIRE_FALSE(body);
  auto err = medianest::from_caf_error(body.error());
  CHECK(err.code == medianest::errc::validation_error);
}
TIMESERIES_TEST("answer_history refuses an unknown metric", history_refuses_an_unknown_metric)

void history_of_an_empty_store(sql_session& db) {
  migrated(db);
  history_request req;
  req.now_unix = H + 1234;
  auto body = medianest::answer_history(db, daemon_a, req);
  REQUIRE(body);
  auto doc = json::parse(*body);
  CHECK(doc.at("dataPoints").as_array().empty());
  CHECK(doc.at("summary").at("count").to_number<uint64_t>() == 0);
  CHECK(num(doc.at("summary").at("p99")) == 0.0);
}
TIMESERIES_TEST("answer_history of an empty store has no points and a zero summary",
                history_of_an_empty_store)

// -- read_summary_data --------------------------------------------------------------------

void summary_data_windows(sql_session& db) {
  migrated(db);
  const int64_t now = H + 1800;
  std::vector<rollup_row> rows{
    // The last 24 hours: the current hour back to the hour that holds now - 24h.
    row_of("response_time", 3600, H, std::vector<double>(10, 100.0)),
    row_of("response_time", 3600, H - 23 * hour, std::vector<double>(30, 200.0)),
    row_of("response_time", 3600, H - 24 * hour, std::vector<double>(20, 50.0)),
    // The 24 hours before.
    row_of("response_time", 3600, H - 25 * hour, std::vector<double>(10, 50.0)),
    row_of("response_time", 3600, H - 48 * hour, std::vector<double>(10, 70.0)),
    // Older than both, or not hourly.
    row_of("response_time", 3600, H - 49 * hour, std::vector<double>(100, 10000.0)),
    row_of("response_time", 300, H - hour, std::vector<double>(100, 10000.0)),
  };
  for (int i = 0; i <= 25; ++i)
    rows.push_back(row_of("memory", 3600, H - 25 * hour + i * hour,
                          std::vector<double>(4, 40.0 + i)));
  upsert(db, rows);

  auto data = medianest::read_summary_data(db, daemon_a, now);
  REQUIRE(data);
  REQUIRE(data->response_time.last);
  CHECK(*data->response_time.last == Approx((1000.0 + 6000.0 + 1000.0) / 60.0));
  REQUIRE(data->response_time.previous);
  CHECK(*data->response_time.previous == Approx((500.0 + 700.0) / 20.0));
  // Memory: 25 hours (i = 1..25) in the last window, one (i = 0) before.
  REQUIRE(data->memory.last);
  CHECK(*data->memory.last == Approx(40.0 + 13.0));
  REQUIRE(data->memory.previous);
  CHECK(*data->memory.previous == Approx(40.0));
  CHECK_FALSE(data->cache_hit_rate.last);
  CHECK_FALSE(data->cache_hit_rate.previous);
  REQUIRE(data->memory_hours.size() == 25);
  for (size_t i = 0; i < data->memory_hours.size(); ++i) {
    CHECK(data->memory_hours[i].start == H - 24 * hour + static_cast<int64_t>(i) * hour);
    CHECK(data->memory_hours[i].sum / static_cast<double>(data->memory_hours[i].count)
          == Approx(41.0 + static_cast<double>(i)));
  }
}
TIMESERIES_TEST("read_summary_data averages the last day and the day before from hourly rows",
                summary_data_windows)

} // namespace

TEST_CASE("ensure_schema reconnects a connection the server ended while it sat idle",
          "[postgres]") {
  postgres_database database;
  sql_session db{database.target()};
  bool migrated = false;
  std::string error;
  REQUIRE(ts::ensure_schema(db, migrated, error));
  auto backend = scalar(db, "SELECT pg_backend_pid()");
  // What a server restart does to every connection: the server side goes away.
  {
    sql_session admin{database.target()};
    REQUIRE(admin.open(error));
    CHECK(scalar(admin, "SELECT count(*) FROM pg_stat_activity WHERE pid = "
                          + std::to_string(backend))
          == 1);
    REQUIRE(admin.execute("SELECT pg_terminate_backend(" + std::to_string(backend) + ")", error));
  }
  std::this_thread::sleep_for(sql_session::idle_check_after + std::chrono::milliseconds(100));
  // The first statement after the outage succeeds, on a new connection.
  INFO(error);
  REQUIRE(ts::ensure_schema(db, migrated, error));
  CHECK(scalar(db, "SELECT pg_backend_pid()") != backend);
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 0);
}

TEST_CASE("a PostgreSQL connection in use is not pinged before each statement", "[postgres]") {
  postgres_database database;
  sql_session db{database.target()};
  bool migrated = false;
  std::string error;
  REQUIRE(ts::ensure_schema(db, migrated, error));
  auto backend = scalar(db, "SELECT pg_backend_pid()");
  db.take_usage();
  for (int i = 0; i < 5; ++i)
    REQUIRE(ts::ensure_schema(db, migrated, error));
  CHECK(scalar(db, "SELECT pg_backend_pid()") == backend);
  // Only the one statement above ran: the recently used connection was trusted as it is.
  CHECK(db.take_usage().queries == 1);
}
