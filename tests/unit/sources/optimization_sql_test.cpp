#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <boost/json.hpp>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "app/config.hpp"
#include "model/json.hpp"
#include "model/optimization.hpp"
#include "model/time.hpp"
#include "sources/optimization_sql.hpp"
#include "unit/sources/sql_test_databases.hpp"
#include "sources/sql_session.hpp"
#include "sources/timeseries_sql.hpp"

using medianest::database_target;
using medianest::improvement;
using medianest::optimization_run;
using medianest::optimization_type;
using medianest::run_status;
using medianest::sys_ms;
using medianest::type_result;
using medianest::sources::sql_session;
namespace src = medianest::sources;
namespace fs = std::filesystem;
namespace json = boost::json;

using medianest::test::postgres_database;
using medianest::test::run_on;
using medianest::test::scalar;
using medianest::test::sqlite_database;

namespace {

/// 2023-11-14T22:00:00.000Z in unix ms.
constexpr int64_t T = 1'699'999'200'000;

#define OPTIMIZATION_SQL_TEST(title, body) ON_BOTH_SQL_BACKENDS(title, "[optimization]", body)

// -- helpers ------------------------------------------------------------------------------

void migrated(sql_session& db) {
  std::string error;
  bool ok = src::migrate(db, error);
  INFO(error);
  REQUIRE(ok);
}

std::string text(sql_session& db, const std::string& sql) {
  std::string value;
  std::string error;
  bool ok = db.run(sql, [&](soci::session& s) { s << sql, soci::into(value); }, error);
  INFO(sql << ": " << error);
  REQUIRE(ok);
  return value;
}

/// completed_at of run `id`: nullopt when NULL.
std::optional<long long> completed_at_of(sql_session& db, const std::string& id) {
  long long value = 0;
  soci::indicator ind = soci::i_ok;
  std::string error;
  bool ok = db.run(
    "SELECT completed_at FROM optimization_runs",
    [&](soci::session& s) {
      s << "SELECT completed_at FROM optimization_runs WHERE id = :i", soci::into(value, ind),
        soci::use(id);
    },
    error);
  INFO(error);
  REQUIRE(ok);
  if (ind == soci::i_null)
    return std::nullopt;
  return value;
}

sys_ms at(int64_t ms) {
  return sys_ms{std::chrono::milliseconds(ms)};
}

type_result result_of(optimization_type type, run_status status) {
  type_result r;
  r.type = type;
  r.status = status;
  if (status == run_status::completed) {
    r.actions = {"Cleared 12 stale cache entries", "Raised the TTL of hot keys to 300s"};
    r.improvements = {improvement{"responseTime", "-12ms", ""},
                      improvement{"cacheHitRate", std::nullopt,
                                  "insufficient traffic: 3 lookups before, 4 after, 30 needed"}};
  } else if (status == run_status::running) {
    r.actions = {"ANALYZE rollups"};
  }
  return r;
}

optimization_run run_of(std::string id, run_status status, int64_t started_ms,
                        std::optional<int64_t> completed_ms, std::vector<type_result> results) {
  optimization_run run;
  run.id = std::move(id);
  run.status = status;
  run.started_at = at(started_ms);
  if (completed_ms)
    run.completed_at = at(*completed_ms);
  run.results = std::move(results);
  return run;
}

std::string document_of(const optimization_run& run) {
  return medianest::to_json(medianest::run_json(run));
}

void save(sql_session& db, const optimization_run& run) {
  std::string error;
  bool ok = src::save_run(db, run, error);
  INFO(error);
  REQUIRE(ok);
}

std::optional<std::string> load(sql_session& db, const std::string& id) {
  std::optional<std::string> document;
  std::string error;
  bool ok = src::load_run_document(db, id, document, error);
  INFO(error);
  REQUIRE(ok);
  return document;
}

std::vector<std::string> recent(sql_session& db, size_t limit) {
  std::vector<std::string> out;
  std::string error;
  bool ok = src::recent_run_documents(db, limit, out, error);
  INFO(error);
  REQUIRE(ok);
  return out;
}

uint64_t mark_interrupted(sql_session& db, int64_t now_ms) {
  uint64_t marked = 99;
  std::string error;
  bool ok = src::mark_interrupted_runs(db, now_ms, marked, error);
  INFO(error);
  REQUIRE(ok);
  return marked;
}

std::string id_in(const std::string& document) {
  return std::string(json::parse(document).at("optimizationId").as_string());
}

// -- migrate ------------------------------------------------------------------------------

void migrate_creates_the_runs_table(sql_session& db) {
  migrated(db);
  CHECK(scalar(db, "SELECT count(*) FROM schema_migrations WHERE version = 3") == 1);
  CHECK(scalar(db, "SELECT max(version) FROM schema_migrations") == src::schema_version);
  CHECK(scalar(db, "SELECT count(*) FROM optimization_runs") == 0);
  auto index_sql = db.is_postgresql()
                     ? "SELECT count(*) FROM pg_indexes WHERE tablename = 'optimization_runs' "
                       "AND indexname = 'optimization_runs_started'"
                     : "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND "
                       "tbl_name = 'optimization_runs' AND name = 'optimization_runs_started'";
  CHECK(scalar(db, index_sql) == 1);
  // Upgrading a database from before version 4 is tested with the roll-ups it changed
  // (timeseries_sql_test.cpp).
}
OPTIMIZATION_SQL_TEST("migrate creates the optimization runs table as version 3",
                      migrate_creates_the_runs_table)

// -- save and load ------------------------------------------------------------------------

void save_then_load_round_trips(sql_session& db) {
  migrated(db);
  auto run = run_of("opt-0123456789ab", run_status::completed, T, T + 4'250,
                    {result_of(optimization_type::cache_strategy, run_status::completed),
                     result_of(optimization_type::memory_cleanup, run_status::completed)});
  run.aggressive = true;
  run.trigger = "automatic";
  run.triggered_by = "alert-high-cpu";
  save(db, run);

  auto document = load(db, run.id);
  REQUIRE(document);
  CHECK(*document == document_of(run));
  CHECK(json::parse(*document) == json::value(medianest::run_json(run)));

  // The columns.
  CHECK(text(db, "SELECT trigger FROM optimization_runs") == "automatic");
  CHECK(text(db, "SELECT status FROM optimization_runs") == "completed");
  CHECK(scalar(db, "SELECT started_at FROM optimization_runs") == T);
  CHECK(completed_at_of(db, run.id) == T + 4'250);

  // A run still in progress has no completed_at.
  auto running = run_of("opt-running00001", run_status::running, T + 1, std::nullopt,
                        {result_of(optimization_type::database_queries, run_status::running)});
  save(db, running);
  CHECK(completed_at_of(db, running.id) == std::nullopt);
  document = load(db, running.id);
  REQUIRE(document);
  CHECK(*document == document_of(running));

  // An unknown id has no document.
  CHECK_FALSE(load(db, "opt-000000000000").has_value());
}
OPTIMIZATION_SQL_TEST("a saved run loads back as its run_json document", save_then_load_round_trips)

void save_updates_an_existing_run(sql_session& db) {
  migrated(db);
  auto run = run_of("opt-aaaaaaaaaaaa", run_status::running, T, std::nullopt,
                    {result_of(optimization_type::cache_strategy, run_status::running)});
  save(db, run);
  CHECK(text(db, "SELECT status FROM optimization_runs") == "running");

  run.results[0] = result_of(optimization_type::cache_strategy, run_status::completed);
  run.status = run_status::completed;
  run.completed_at = at(T + 2'000);
  save(db, run);

  CHECK(scalar(db, "SELECT count(*) FROM optimization_runs") == 1);
  CHECK(text(db, "SELECT status FROM optimization_runs") == "completed");
  CHECK(completed_at_of(db, run.id) == T + 2'000);
  auto document = load(db, run.id);
  REQUIRE(document);
  CHECK(*document == document_of(run));
  CHECK(json::parse(*document).at("status").as_string() == "completed");
}
OPTIMIZATION_SQL_TEST("saving a run again updates its status and document",
                      save_updates_an_existing_run)

// -- recent -------------------------------------------------------------------------------

void recent_is_newest_first(sql_session& db) {
  migrated(db);
  CHECK(recent(db, 10).empty());
  // Saved out of order: the order comes from started_at.
  save(db, run_of("opt-second000000", run_status::completed, T + 60'000, T + 61'000, {}));
  save(db, run_of("opt-fourth000000", run_status::running, T + 180'000, std::nullopt, {}));
  save(db, run_of("opt-first0000000", run_status::failed, T, T + 500, {}));
  save(db, run_of("opt-third0000000", run_status::completed, T + 120'000, T + 125'000, {}));

  auto three = recent(db, 3);
  REQUIRE(three.size() == 3);
  CHECK(id_in(three[0]) == "opt-fourth000000");
  CHECK(id_in(three[1]) == "opt-third0000000");
  CHECK(id_in(three[2]) == "opt-second000000");
  CHECK(three[1] == document_of(run_of("opt-third0000000", run_status::completed, T + 120'000,
                                       T + 125'000, {})));

  auto all = recent(db, 100);
  REQUIRE(all.size() == 4);
  CHECK(id_in(all[3]) == "opt-first0000000");
  CHECK(recent(db, 1).size() == 1);
  CHECK(recent(db, 0).empty());
}
OPTIMIZATION_SQL_TEST("recent run documents are newest first and limited", recent_is_newest_first)

// -- interrupted runs ---------------------------------------------------------------------

void interrupted_runs_are_marked_failed(sql_session& db) {
  migrated(db);
  const int64_t now = T + 93'456;
  auto running = run_of("opt-running00000", run_status::running, T, std::nullopt,
                        {result_of(optimization_type::cache_strategy, run_status::completed),
                         result_of(optimization_type::database_queries, run_status::running)});
  auto started = run_of("opt-started00000", run_status::started, T + 90'000, std::nullopt,
                        {result_of(optimization_type::memory_cleanup, run_status::started)});
  auto completed = run_of("opt-complete0000", run_status::completed, T - 60'000, T - 55'000,
                          {result_of(optimization_type::cache_strategy, run_status::completed)});
  auto failed_type = result_of(optimization_type::memory_cleanup, run_status::failed);
  failed_type.error_code = "OPTIMIZATION_FAILED";
  failed_type.error_message = "malloc_trim is not available";
  auto failed = run_of("opt-failed000000", run_status::failed, T - 30'000, T - 29'000,
                       {failed_type});
  for (const auto* run : {&running, &started, &completed, &failed})
    save(db, *run);

  CHECK(mark_interrupted(db, now) == 2);

  // The running run: failed at `now`, the completed type as it was, the running one failed.
  auto document = load(db, running.id);
  REQUIRE(document);
  auto doc = json::parse(*document).as_object();
  CHECK(doc.at("status").as_string() == "failed");
  CHECK(doc.at("completedAt").as_string() == medianest::iso8601(at(now)));
  CHECK(doc.at("duration").to_number<double>() == Approx(93.456));
  auto& results = doc.at("results").as_array();
  REQUIRE(results.size() == 2);
  CHECK(results[0] == json::value(medianest::run_json(running).at("results").as_array()[0]));
  CHECK(results[0].at("status").as_string() == "completed");
  CHECK_FALSE(results[0].as_object().contains("error"));
  CHECK(results[1].at("type").as_string() == "database_queries");
  CHECK(results[1].at("status").as_string() == "failed");
  CHECK(results[1].at("error").at("code").as_string() == "OPTIMIZATION_FAILED");
  CHECK(results[1].at("error").at("message").as_string()
        == "interrupted: the daemon restarted before this optimization finished");
  CHECK(results[1].at("actions").as_array().size() == 1);

  // Exactly the document run_json gives for the run failed that way, byte for byte.
  auto expected = running;
  expected.status = run_status::failed;
  expected.completed_at = at(now);
  expected.results[1].status = run_status::failed;
  expected.results[1].error_code = "OPTIMIZATION_FAILED";
  expected.results[1].error_message = src::interrupted_message;
  CHECK(*document == document_of(expected));

  // The run that had only started.
  document = load(db, started.id);
  REQUIRE(document);
  auto expected_started = started;
  expected_started.status = run_status::failed;
  expected_started.completed_at = at(now);
  expected_started.results[0].status = run_status::failed;
  expected_started.results[0].error_code = "OPTIMIZATION_FAILED";
  expected_started.results[0].error_message = src::interrupted_message;
  CHECK(*document == document_of(expected_started));

  // The columns follow the documents.
  CHECK(scalar(db, "SELECT count(*) FROM optimization_runs WHERE status = 'failed'") == 3);
  CHECK(scalar(db, "SELECT count(*) FROM optimization_runs WHERE status IN ('started', "
                   "'running')")
        == 0);
  CHECK(completed_at_of(db, running.id) == now);
  CHECK(completed_at_of(db, started.id) == now);

  // Finished runs are untouched.
  CHECK(load(db, completed.id) == document_of(completed));
  CHECK(load(db, failed.id) == document_of(failed));
  CHECK(completed_at_of(db, completed.id) == T - 55'000);
  CHECK(completed_at_of(db, failed.id) == T - 29'000);
  CHECK(text(db, "SELECT status FROM optimization_runs WHERE id = 'opt-complete0000'")
        == "completed");

  // Nothing is left to mark.
  CHECK(mark_interrupted(db, now + 1'000) == 0);
  CHECK(load(db, running.id) == document_of(expected));
}
OPTIMIZATION_SQL_TEST("interrupted runs are marked failed and finished runs are untouched",
                      interrupted_runs_are_marked_failed)

void nothing_to_mark_on_an_empty_table(sql_session& db) {
  migrated(db);
  CHECK(mark_interrupted(db, T) == 0);
  CHECK(scalar(db, "SELECT count(*) FROM optimization_runs") == 0);
}
OPTIMIZATION_SQL_TEST("marking interrupted runs on an empty table marks none",
                      nothing_to_mark_on_an_empty_table)

void unreadable_document_is_an_error(sql_session& db) {
  migrated(db);
  save(db, run_of("opt-good00000000", run_status::running, T, std::nullopt,
                  {result_of(optimization_type::cache_strategy, run_status::running)}));
  std::string error;
  REQUIRE(db.execute("INSERT INTO optimization_runs (id, trigger, status, started_at, document) "
                     "VALUES ('opt-bad000000000', 'manual', 'running', 1, 'not json')",
                     error));
  uint64_t marked = 99;
  std::string failure;
  CHECK_FALSE(src::mark_interrupted_runs(db, T + 1'000, marked, failure));
  CHECK(marked == 0);
  CHECK(failure.find("opt-bad000000000") != std::string::npos);
  // The transaction rolled back: the good run was not changed either.
  CHECK(scalar(db, "SELECT count(*) FROM optimization_runs WHERE status = 'running'") == 2);
}
OPTIMIZATION_SQL_TEST("a stored document that is not JSON fails marking without changes",
                      unreadable_document_is_an_error)

} // namespace
