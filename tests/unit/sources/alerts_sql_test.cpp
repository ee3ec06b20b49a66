#include <catch2/catch.hpp>

#include <functional>

#include "sources/alerts_sql.hpp"
#include "sources/timeseries_sql.hpp"
#include "unit/sources/sql_test_databases.hpp"

using medianest::alert_event;
using medianest::database_target;
using medianest::delivery_record;
using medianest::sys_ms;
using medianest::sources::sql_session;
namespace src = medianest::sources;

namespace {

/// A time in unix ms far past 2^31: what every stored timestamp is.
const sys_ms when{std::chrono::milliseconds{1'800'000'000'123}};

void on_migrated(const database_target& target, const std::function<void(sql_session&)>& body) {
  sql_session db{target};
  std::string error;
  bool migrated = false;
  INFO(error);
  REQUIRE(src::ensure_schema(db, migrated, error));
  body(db);
}

void alert_log_keeps_millisecond_times(sql_session& db) {
  alert_event e;
  e.id = "alt-1";
  e.metric = "responseTime";
  e.severity = "critical";
  e.state = "resolved";
  e.value = 1200.5;
  e.threshold = 1000;
  e.started_at = when;
  e.resolved_at = when + std::chrono::milliseconds(61'001);
  e.at = when + std::chrono::milliseconds(61'002);
  std::string error;
  REQUIRE(src::insert_alert_event(db, e, error));
  std::vector<alert_event> events;
  REQUIRE(src::list_alert_events(db, 0, 10, events, error));
  INFO(error);
  REQUIRE(events.size() == 1);
  CHECK(events[0].started_at == e.started_at);
  REQUIRE(events[0].resolved_at);
  CHECK(*events[0].resolved_at == *e.resolved_at);
  CHECK(events[0].at == e.at);
  CHECK(events[0].value == 1200.5);

  delivery_record d;
  d.alert_id = "alt-1";
  d.state = "resolved";
  d.severity = "critical";
  d.channel = "webhook";
  d.destination = "https://hooks.example/***";
  d.attempt = 3;
  d.ok = true;
  d.status = 200;
  d.at = when;
  REQUIRE(src::insert_delivery(db, d, error));
  std::vector<delivery_record> deliveries;
  REQUIRE(src::list_deliveries(db, 10, deliveries, error));
  REQUIRE(deliveries.size() == 1);
  CHECK(deliveries[0].at == when);
  CHECK(deliveries[0].attempt == 3);
  CHECK(deliveries[0].status == 200);
}

} // namespace

TEST_CASE("the alert and delivery logs keep millisecond times on sqlite") {
  medianest::test::sqlite_database database;
  on_migrated(database.target(), alert_log_keeps_millisecond_times);
}

TEST_CASE("the alert and delivery logs keep millisecond times on postgresql", "[postgres]") {
  medianest::test::postgres_database database;
  on_migrated(database.target(), alert_log_keeps_millisecond_times);
}
