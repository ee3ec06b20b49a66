#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <csignal>
#include <thread>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "sources/timeseries_sql.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/scratch_database.hpp"

using namespace medianest::test;
namespace json = boost::json;

namespace {

const std::string history_path = "/api/v1/performance/history";
const std::vector<std::string> fast{"--sample-interval", "0.25", "--flush-interval", "1"};

json::object data_of(const http_result& r) {
  INFO(r.body);
  INFO(r.error);
  REQUIRE(r.status == 200);
  return json::parse(r.body).at("data").as_object();
}

int64_t total_count(const json::object& history) {
  int64_t n = 0;
  for (const auto& p : history.at("dataPoints").as_array())
    n += p.at("count").to_number<int64_t>();
  return n;
}

/// Waits until the response_time history counts at least `n` requests.
json::object wait_for_requests(daemon_process& d, http_client& c, const std::string& token,
                               int64_t n) {
  json::object data;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  do {
    data = data_of(c.get(d.base_url() + history_path + "?period=1h&granularity=1m",
                         {bearer(token)}));
    if (total_count(data) >= n)
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  } while (std::chrono::steady_clock::now() < deadline);
  return data;
}

} // namespace

TEST_CASE("GET /history rejects every invalid parameter naming it") {
  daemon_process d;
  http_client c;
  auto token = d.token("admin");
  struct bad {
    std::string query;
    std::string field;
  };
  for (const auto& [query, field] : std::vector<bad>{{"period=2h", "period"},
                                                     {"granularity=10s", "granularity"},
                                                     {"metric=bogus", "metric"},
                                                     {"forecast=yes", "forecast"},
                                                     {"period=1h&period=24h", "period"},
                                                     {"colour=blue", "colour"},
                                                     {"period=", "period"},
                                                     {"metric=%zz", "metric"}}) {
    INFO(query);
    auto r = c.get(d.base_url() + history_path + "?" + query, {bearer(token)});
    CHECK(r.status == 400);
    auto err = json::parse(r.body).at("error").as_object();
    CHECK(err.at("code").as_string() == "VALIDATION_ERROR");
    CHECK(err.at("details").at("field").as_string() == field);
  }
  auto user = c.get(d.base_url() + history_path, {bearer(d.token("user"))});
  CHECK(user.status == 403);
}

TEST_CASE("GET /history counts the served requests in aligned ascending buckets") {
  daemon_process d{{fast, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  for (int i = 0; i < 40; ++i)
    REQUIRE(c.get(d.base_url() + "/health").status == 200);
  auto data = wait_for_requests(d, c, token, 40);
  CHECK(data.at("period").as_string() == "1h");
  CHECK(data.at("metric").as_string() == "response_time");
  CHECK(data.at("granularity").as_string() == "1m");
  CHECK(total_count(data) >= 40);
  std::string previous;
  for (const auto& p : data.at("dataPoints").as_array()) {
    std::string ts{p.at("timestamp").as_string()};
    CHECK(ts.substr(17) == "00.000Z"); // aligned to the minute
    CHECK(ts > previous);
    previous = ts;
    CHECK(p.at("p99").to_number<double>() >= p.at("p95").to_number<double>());
  }
  auto& summary = data.at("summary").as_object();
  CHECK(summary.at("count").to_number<int64_t>() == total_count(data));
  CHECK(summary.at("max").to_number<double>() >= summary.at("p99").to_number<double>());
  CHECK(summary.at("min").to_number<double>() <= summary.at("average").to_number<double>());
  // The other metrics have data too.
  for (auto metric : {"cpu", "memory", "disk", "requests_per_minute"}) {
    auto m = data_of(c.get(d.base_url() + history_path + "?period=1h&granularity=5m&metric=" + metric,
                           {bearer(token)}));
    CHECK(m.at("dataPoints").as_array().size() >= 1);
  }
}

TEST_CASE("history survives a restart on the same data directory") {
  auto dir = make_temp_dir("medianest-history");
  int64_t before = 0;
  {
    daemon_process d{{fast, {}, dir}};
    http_client c;
    auto token = d.token("admin");
    for (int i = 0; i < 25; ++i)
      c.get(d.base_url() + "/health");
    before = total_count(wait_for_requests(d, c, token, 25));
    CHECK(d.stop() == 0); // a graceful stop flushes what is pending
  }
  {
    daemon_process d{{fast, {}, dir}};
    http_client c;
    auto token = d.token("admin");
    auto after = data_of(c.get(d.base_url() + history_path + "?period=1h&granularity=1m",
                               {bearer(token)}));
    CHECK(total_count(after) >= before);
    auto log = d.log();
    CHECK(log.find("continued") != std::string::npos);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("SIGKILL loses at most the unflushed interval and leaves the database intact") {
  auto dir = make_temp_dir("medianest-crash");
  int64_t flushed = 0;
  {
    daemon_process d{{fast, {}, dir}};
    http_client c;
    auto token = d.token("admin");
    for (int i = 0; i < 30; ++i)
      c.get(d.base_url() + "/health");
    flushed = total_count(wait_for_requests(d, c, token, 30));
    // Two flush intervals: everything counted so far is in SQL.
    std::this_thread::sleep_for(std::chrono::milliseconds(2500));
    CHECK(d.stop(SIGKILL) == 128 + SIGKILL);
  }
  {
    soci::session db(*soci::factory_sqlite3(), "db=" + (dir / "medianest.db").string());
    std::string integrity;
    db << "PRAGMA integrity_check", soci::into(integrity);
    CHECK(integrity == "ok");
  }
  {
    daemon_process d{{fast, {}, dir}};
    http_client c;
    auto token = d.token("admin");
    auto after = data_of(c.get(d.base_url() + history_path + "?period=1h&granularity=1m",
                               {bearer(token)}));
    CHECK(total_count(after) >= flushed);
  }
  std::filesystem::remove_all(dir);
}

TEST_CASE("GET /history with forecast returns a projection") {
  daemon_process d{{fast, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  auto r = data_of(c.get(d.base_url() + history_path + "?period=1h&granularity=1m&metric=cpu&forecast=true",
                         {bearer(token)}));
  REQUIRE(r.contains("forecast"));
  // A fresh daemon has fewer than 3 points: the forecast says why it has none.
  auto& f = r.at("forecast").as_object();
  if (!f.at("available").as_bool())
    CHECK(f.at("reason").is_string());
  else
    CHECK(f.at("points").is_array());
}

TEST_CASE("GET /summary is open to users and reports status score trends and recommendations") {
  daemon_process d{{fast, {}, {}}};
  http_client c;
  auto user = d.token("user");
  for (int i = 0; i < 5; ++i)
    c.get(d.base_url() + "/health");
  std::this_thread::sleep_for(std::chrono::milliseconds(800));
  auto data = data_of(c.get(d.base_url() + "/api/v1/performance/summary", {bearer(user)}));
  auto status = std::string{data.at("status").as_string()};
  CHECK((status == "optimal" || status == "good" || status == "degraded" || status == "critical"));
  REQUIRE(data.at("score").is_number()); // the system section has data by now
  auto score = data.at("score").to_number<int64_t>();
  CHECK(score >= 0);
  CHECK(score <= 100);
  for (auto key : {"responseTime", "memoryUsage", "cpuUsage", "errorRate"})
    CHECK(data.at("currentMetrics").as_object().contains(key));
  CHECK(data.at("currentMetrics").at("memoryUsage").is_number());
  for (auto key : {"responseTime", "memory", "cache"}) {
    auto& t = data.at("trends").at(key).as_object();
    // A fresh database has no previous day to compare with.
    CHECK(t.at("trend").as_string() == "insufficient_data");
    CHECK(t.at("period").as_string() == "24h");
  }
  CHECK(data.at("recommendations").is_array());
  CHECK(data.at("recentOptimizations").is_array());
  CHECK(data.at("alerts").is_array());
  CHECK(c.get(d.base_url() + "/api/v1/performance/summary").status == 401);
}

TEST_CASE("history is stored in PostgreSQL when it is the configured database") {
  scratch_database database{"history_test_" + std::to_string(::getpid())};
  auto db_url = database.url();
  {
    auto args = fast;
    args.insert(args.end(), {"--database", db_url});
    daemon_process d{{args, {}, {}}};
    http_client c;
    auto token = d.token("admin");
    for (int i = 0; i < 10; ++i)
      c.get(d.base_url() + "/health");
    auto data = wait_for_requests(d, c, token, 10);
    CHECK(total_count(data) >= 10);
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    auto rows = run_command("psql '" + db_url + "' -tAc \"SELECT count(*) FROM rollups WHERE metric = 'response_time'\"");
    CHECK(std::stoi(rows) >= 3); // 1m, 5m and 1h buckets
    auto version = run_command("psql '" + db_url + "' -tAc 'SELECT max(version) FROM schema_migrations'");
    CHECK(version == std::to_string(medianest::sources::schema_version));
  }
}

TEST_CASE("daemons sharing one PostgreSQL each keep their own history across restarts") {
  scratch_database database{"history_shared_" + std::to_string(::getpid())};
  auto db_url = database.url();
  auto args_for = [&](const std::string& instance) {
    auto args = fast;
    args.insert(args.end(), {"--database", db_url, "--instance", instance});
    return args;
  };
  auto busy_dir = make_temp_dir("medianest-history-busy");
  auto quiet_dir = make_temp_dir("medianest-history-quiet");
  // The same minute's buckets, written by a busy daemon and a quiet one.
  int64_t busy_before = 0, quiet_before = 0;
  {
    daemon_process busy{{args_for("busy"), {}, busy_dir}};
    daemon_process quiet{{args_for("quiet"), {}, quiet_dir}};
    http_client c;
    auto busy_token = busy.token("admin");
    auto quiet_token = quiet.token("admin");
    for (int i = 0; i < 200; ++i)
      c.get(busy.base_url() + "/health");
    for (int i = 0; i < 5; ++i)
      c.get(quiet.base_url() + "/health");
    busy_before = total_count(wait_for_requests(busy, c, busy_token, 200));
    quiet_before = total_count(wait_for_requests(quiet, c, quiet_token, 5));
    CHECK(quiet_before < 100);
    CHECK(busy.stop() == 0); // the busy one flushes first, the quiet one last
    CHECK(quiet.stop() == 0);
  }
  auto instances = run_command("psql '" + db_url
                               + "' -tAc 'SELECT count(DISTINCT instance) FROM rollups'");
  CHECK(instances == "2");
  {
    daemon_process busy{{args_for("busy"), {}, busy_dir}};
    daemon_process quiet{{args_for("quiet"), {}, quiet_dir}};
    http_client c;
    auto count_of = [&](daemon_process& d) {
      return total_count(data_of(c.get(d.base_url() + history_path + "?period=1h&granularity=1m",
                                       {bearer(d.token("admin"))})));
    };
    auto busy_after = count_of(busy);
    auto quiet_after = count_of(quiet);
    // Each continues its own count: the quiet daemon's last flush did not replace the busy one's.
    CHECK(busy_after >= busy_before);
    CHECK(quiet_after >= quiet_before);
    CHECK(quiet_after < 100);
  }
  std::filesystem::remove_all(busy_dir);
  std::filesystem::remove_all(quiet_dir);
}
