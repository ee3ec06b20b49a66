#include <catch2/catch.hpp>

#include <cstdlib>
#include <memory>
#include <vector>

#include "sources/optimizers.hpp"
#include "sources/timeseries_sql.hpp"
#include "unit/sources/sql_test_databases.hpp"

using medianest::database_target;
using medianest::retention_policy;
using medianest::rollup_row;
using medianest::sources::sql_session;
namespace src = medianest::sources;
using medianest::test::scalar;

namespace {

constexpr int64_t now_unix = 1'800'000'000;

double scalar_double(sql_session& db, const std::string& sql) {
  double value = -2;
  std::string error;
  bool ok = db.run(sql, [&](soci::session& s) { s << sql, soci::into(value); }, error);
  INFO(sql << ": " << error);
  REQUIRE(ok);
  return value;
}

/// A migrated database holding `fresh` current 1m roll-ups and `expired` ones older than
/// the 1m retention.
void seed(sql_session& db, int fresh, int expired) {
  std::string error;
  bool migrated = false;
  REQUIRE(src::ensure_schema(db, migrated, error));
  std::vector<rollup_row> rows;
  auto row = [](int64_t start) {
    rollup_row r;
    r.metric = "response_time";
    r.resolution = 60;
    r.start = start;
    r.count = 1;
    r.sum = r.min = r.max = r.p95 = r.p99 = 10;
    r.sketch = "x";
    return r;
  };
  for (int i = 0; i < fresh; ++i)
    rows.push_back(row(now_unix - 60 * (i + 1)));
  for (int i = 0; i < expired; ++i)
    rows.push_back(row(now_unix - 30 * 86400 - 60 * i));
  INFO(error);
  REQUIRE(src::upsert_rollups(db, "optimizer-test", rows, error));
}

} // namespace

TEST_CASE("optimize_database analyzes SQLite and prunes expired roll-ups", "[optimization]") {
  medianest::test::sqlite_database database;
  sql_session db{database.target()};
  seed(db, 50, 20);
  src::database_pass pass;
  std::string error;
  REQUIRE(src::optimize_database(db, false, retention_policy{}, now_unix, pass, error));
  INFO(error);
  CHECK(pass.pruned_rows == 20);
  CHECK(scalar(db, "SELECT count(*) FROM rollups") == 50);
  // ANALYZE left its statistics where SQLite's planner reads them.
  CHECK(scalar(db, "SELECT count(*) FROM sqlite_stat1 WHERE tbl = 'rollups'") >= 1);
  CHECK(pass.size_before > 0);
  CHECK(pass.actions.size() == 3);
  CHECK(pass.took_ms >= 0);
}

TEST_CASE("aggressive optimize_database vacuums SQLite to a smaller file", "[optimization]") {
  medianest::test::sqlite_database database;
  sql_session db{database.target()};
  seed(db, 10, 20000);
  src::database_pass pass;
  std::string error;
  REQUIRE(src::optimize_database(db, true, retention_policy{}, now_unix, pass, error));
  INFO(error);
  CHECK(pass.pruned_rows == 20000);
  INFO("before " << pass.size_before << " after " << pass.size_after);
  CHECK(pass.size_after < pass.size_before);
  CHECK(pass.actions.size() == 5);
}

TEST_CASE("optimize_database analyzes PostgreSQL", "[optimization][postgres]") {
  medianest::test::postgres_database database;
  sql_session db{database.target()};
  seed(db, 40, 5);
  // A table never analyzed has no row estimate (-1); ANALYZE gives it the real count.
  CHECK(scalar_double(db, "SELECT reltuples::float8 FROM pg_class WHERE relname = 'rollups'")
        < 0);
  for (bool aggressive : {false, true}) {
    src::database_pass pass;
    std::string error;
    INFO("aggressive " << aggressive);
    REQUIRE(src::optimize_database(db, aggressive, retention_policy{}, now_unix, pass, error));
    INFO(error);
    CHECK(scalar_double(db, "SELECT reltuples::float8 FROM pg_class WHERE relname = 'rollups'")
          == 40);
  }
}

TEST_CASE("trim_heap leaves the process no larger and the freed heap returned", "[optimization]") {
  // 96 MiB of small blocks, all freed but one allocated after them. Whether free() already
  // gave the pages back depends on the allocator's state; after trim_heap they must be gone,
  // and the trim itself must not make the process grow.
  std::vector<void*> blocks;
  blocks.reserve(96 * 1024);
  for (int i = 0; i < 96 * 1024; ++i) {
    auto* p = static_cast<char*>(std::malloc(1000));
    for (int j = 0; j < 1000; j += 64)
      p[j] = 1;
    blocks.push_back(p);
  }
  void* pin = std::malloc(1000);
  auto peak = src::resident_bytes();
  for (auto* p : blocks)
    std::free(p);
  auto trim = src::trim_heap();
  std::free(pin);
  INFO("RSS at peak " << peak << ", before trim " << trim.rss_before << ", after "
                      << trim.rss_after);
  CHECK(peak > (96u << 20));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  WARN("a sanitizer replaces malloc and quarantines freed memory: malloc_trim has nothing to do");
#else
  CHECK(trim.rss_after <= trim.rss_before + (1u << 20));
  CHECK(trim.rss_after + (48u << 20) < peak);
#endif
}
