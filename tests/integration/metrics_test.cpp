#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <csignal>
#include <fstream>
#include <regex>
#include <sstream>
#include <sys/statvfs.h>
#include <thread>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "app/config.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/scratch_database.hpp"
#include "support/test_servers.hpp"

using namespace medianest::test;
namespace json = boost::json;

namespace {

const std::string metrics_path = "/api/v1/performance/metrics";
const std::string resources_path = "/api/v1/performance/resources";

json::object data_of(const http_result& r) {
  INFO(r.body);
  INFO(r.error);
  REQUIRE(r.status == 200);
  auto doc = json::parse(r.body).as_object();
  REQUIRE(doc.at("success").as_bool());
  return doc.at("data").as_object();
}

/// Polls `path` until `ready(data)` holds or the deadline passes; returns the last data.
template <class Pred>
json::object wait_for(daemon_process& d, http_client& c, const std::string& token,
                      const std::string& path, Pred ready,
                      std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  json::object data;
  while (true) {
    data = data_of(c.get(d.base_url() + path, {bearer(token)}));
    if (ready(data) || std::chrono::steady_clock::now() > deadline)
      return data;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

bool section_ok(const json::object& data, const char* name) {
  return data.at(name).as_object().at("status").as_string() == "ok";
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// A "Key:   123 kB" line of /proc/meminfo or /proc/PID/status, in bytes.
uint64_t kb_field(const std::string& text, const std::string& key) {
  std::smatch m;
  std::regex re(key + R"(:\s+(\d+) kB)");
  REQUIRE(std::regex_search(text, m, re));
  return std::stoull(m[1]) * 1024;
}

double num(const json::value& v) {
  return v.is_double() ? v.as_double() : static_cast<double>(v.to_number<int64_t>());
}

const std::vector<std::string> fast_sampling{"--sample-interval", "0.25"};

} // namespace

TEST_CASE("GET /metrics returns every field of the spec with its type") {
  daemon_process d{{fast_sampling, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  auto data = wait_for(d, c, token, metrics_path, [](const json::object& x) {
    return section_ok(x, "api") && section_ok(x, "system") && section_ok(x, "database")
           && section_ok(x, "cache");
  });
  CHECK(std::regex_match(std::string{data.at("timestamp").as_string()},
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
  auto& api = data.at("api").as_object();
  for (auto key : {"requestsPerMinute", "averageResponseTime", "p95ResponseTime",
                   "p99ResponseTime", "errorRate", "activeConnections"})
    CHECK(api.at(key).is_number());
  CHECK(api.at("slowestEndpoints").is_array());
  auto& db = data.at("database").as_object();
  for (auto key : {"averageQueryTime", "slowQueries", "connectionPoolUsage", "activeConnections"})
    CHECK(db.at(key).is_number());
  for (auto key : {"selects", "inserts", "updates", "deletes"})
    CHECK(db.at("queryStats").at(key).is_number());
  auto& sys = data.at("system").as_object();
  CHECK(sys.at("cpu").at("usage").is_number());
  CHECK(sys.at("cpu").at("cores").is_number());
  CHECK(sys.at("cpu").at("loadAverage").as_array().size() == 3);
  for (auto key : {"total", "used", "free", "percentage", "heapUsed", "heapTotal"})
    CHECK(sys.at("memory").at(key).is_number());
  for (auto key : {"total", "used", "free", "percentage"})
    CHECK(sys.at("disk").at(key).is_number());
  auto& cache = data.at("cache").as_object();
  CHECK(cache.at("hitRate").is_number());
  CHECK(cache.at("totalKeys").is_number());
  CHECK(cache.at("memoryUsage").is_string());
  CHECK(cache.at("evictions").is_number());
  for (auto key : {"gets", "sets", "deletes"})
    CHECK(cache.at("operations").at(key).is_number());
}

TEST_CASE("system numbers agree with proc and statvfs read by the test") {
  daemon_process d{{fast_sampling, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  auto data = wait_for(d, c, token, metrics_path,
                       [](const json::object& x) { return section_ok(x, "system"); });
  auto& sys = data.at("system").as_object();
  auto meminfo = read_file("/proc/meminfo");
  CHECK(num(sys.at("memory").at("total")) == kb_field(meminfo, "MemTotal"));
  auto used = num(sys.at("memory").at("used"));
  auto free_ = num(sys.at("memory").at("free"));
  CHECK(used + free_ == num(sys.at("memory").at("total")));
  // MemAvailable moves a little between the two readings.
  CHECK(std::abs(free_ - kb_field(meminfo, "MemAvailable")) < 0.05 * kb_field(meminfo, "MemTotal"));
  CHECK(num(sys.at("memory").at("percentage"))
        == Approx(used / num(sys.at("memory").at("total")) * 100).margin(0.01));
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // A sanitizer replaces malloc: glibc's mallinfo2 sees none of the daemon's heap.
  WARN("sanitizer build: heapUsed is not checked");
#else
  CHECK(num(sys.at("memory").at("heapUsed")) > 0);
#endif
  CHECK(num(sys.at("memory").at("heapUsed")) <= num(sys.at("memory").at("heapTotal")));
  CHECK(num(sys.at("cpu").at("cores")) == std::stoi(run_command("nproc")));
  auto usage = num(sys.at("cpu").at("usage"));
  CHECK(usage >= 0);
  CHECK(usage <= 100);
  std::istringstream loadavg(read_file("/proc/loadavg"));
  double l1 = 0;
  loadavg >> l1;
  CHECK(num(sys.at("cpu").at("loadAverage").at(0)) == Approx(l1).margin(0.5));
  struct statvfs vfs {};
  REQUIRE(::statvfs(d.data_dir().c_str(), &vfs) == 0);
  CHECK(num(sys.at("disk").at("total")) == static_cast<double>(vfs.f_blocks) * vfs.f_frsize);
  CHECK(std::string{sys.at("disk").at("path").as_string()} == d.data_dir().string());
  auto disk_free = num(sys.at("disk").at("free"));
  CHECK(std::abs(disk_free - static_cast<double>(vfs.f_bavail) * vfs.f_frsize)
        < 0.01 * num(sys.at("disk").at("total")));
}

TEST_CASE("api metrics count the requests the daemon served under their route templates") {
  // A database that refuses connections: a run that is not in memory cannot be looked up,
  // and GET /optimize/{id} answers 503.
  auto args = fast_sampling;
  args.insert(args.end(), {"--database", "postgresql://nobody@127.0.0.1:1/none"});
  daemon_process d{{args, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  for (int i = 0; i < 30; ++i)
    REQUIRE(c.get(d.base_url() + "/health").status == 200);
  // 503 answers are server errors and count in errorRate.
  for (int i = 0; i < 10; ++i)
    REQUIRE(c.get(d.base_url() + "/api/v1/performance/optimize/opt-" + std::to_string(i),
                  {bearer(token)})
              .status
            == 503);
  auto data = wait_for(d, c, token, metrics_path, [](const json::object& x) {
    // Until the api collector's first sample the section holds nulls.
    if (!x.at("api").at("slowestEndpoints").is_array())
      return false;
    for (const auto& e : x.at("api").at("slowestEndpoints").as_array())
      if (e.at("path").as_string() == "/health" && e.at("count").to_number<int64_t>() >= 30)
        return true;
    return false;
  });
  auto& api = data.at("api").as_object();
  auto rpm = num(api.at("requestsPerMinute"));
  CHECK(rpm >= 40);
  CHECK(rpm < 200);
  bool saw_template = false;
  for (const auto& e : api.at("slowestEndpoints").as_array()) {
    CHECK(e.at("path").as_string().find("opt-") == json::string::npos);
    if (e.at("path").as_string() == "/api/v1/performance/optimize/:id") {
      saw_template = true;
      CHECK(e.at("count").to_number<int64_t>() == 10);
    }
  }
  CHECK(saw_template);
  // 10 errors among the requests in the window (the /metrics polls count too).
  auto errors = num(api.at("errorRate")) * rpm;
  CHECK(errors == Approx(10).margin(0.5));
  CHECK(num(api.at("p99ResponseTime")) >= num(api.at("p95ResponseTime")));
  CHECK(num(api.at("averageResponseTime")) > 0);
  CHECK(num(api.at("activeConnections")) >= 1);
}

TEST_CASE("GET /resources lists the daemon with its real RSS and the host counters") {
  daemon_process d{{fast_sampling, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  auto before = read_file("/proc/net/dev");
  auto data = wait_for(d, c, token, resources_path, [](const json::object& x) {
    // This client's keep-alive connection is open while the daemon samples.
    return x.at("status").as_string() == "ok" && num(x.at("connections").at("http")) >= 1;
  });
  CHECK(data.at("timestamp").is_string());
  auto& procs = data.at("processes").as_array();
  REQUIRE(procs.size() >= 1);
  auto& self = procs.at(0).as_object();
  CHECK(self.at("pid").to_number<int64_t>() == d.pid());
  auto rss = kb_field(read_file("/proc/" + std::to_string(d.pid()) + "/status"), "VmRSS");
  CHECK(std::abs(num(self.at("memory")) - static_cast<double>(rss)) < 0.25 * rss);
  CHECK(num(self.at("uptime")) < 60);
  CHECK(num(self.at("cpu")) >= 0);
  for (auto key : {"bytesReceived", "bytesSent", "packetsReceived", "packetsSent", "errors"})
    CHECK(data.at("network").at(key).is_number());
  for (auto key : {"reads", "writes", "readBytes", "writeBytes", "iops"})
    CHECK(data.at("storage").at(key).is_number());
  CHECK(num(data.at("connections").at("http")) >= 1);
  CHECK(data.at("connections").at("database").is_number());
}

TEST_CASE("watched processes appear in /resources by name") {
  // A child of the test with a distinctive name.
  auto dir = make_temp_dir("medianest-watch");
  auto script = dir / "medianest-sleeper";
  std::ofstream(script) << "#!/bin/sh\nexec sleep 30\n";
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  auto pid_text = run_command("(" + script.string() + " >/dev/null 2>&1 & echo $!)");
  auto pid = std::stoi(pid_text);
  daemon_process d{{{"--sample-interval", "0.25", "--watch-process", "sleep"}, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  auto data = wait_for(d, c, token, resources_path, [pid](const json::object& x) {
    if (x.at("status").as_string() != "ok")
      return false;
    for (const auto& p : x.at("processes").as_array())
      if (p.at("pid").to_number<int64_t>() == pid)
        return true;
    return false;
  });
  bool found = false;
  for (const auto& p : data.at("processes").as_array())
    if (p.at("pid").to_number<int64_t>() == pid) {
      found = true;
      CHECK(p.at("name").as_string() == "sleep");
      CHECK(num(p.at("memory")) > 0);
    }
  CHECK(found);
  ::kill(pid, SIGKILL);
  std::filesystem::remove_all(dir);
}

TEST_CASE("the cache section reads Redis INFO: keys hits misses memory and operations") {
  private_redis redis;
  daemon_process d{{{"--sample-interval", "0.25", "--redis", redis.url()}, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  redis.cli("FLUSHALL");
  redis.cli("CONFIG RESETSTAT");
  for (int i = 0; i < 7; ++i)
    redis.cli("SET key:" + std::to_string(i) + " value" + std::to_string(i));
  for (int i = 0; i < 3; ++i)
    redis.cli("-n 1 SET other:" + std::to_string(i) + " x");
  for (int i = 0; i < 5; ++i)
    redis.cli("GET key:" + std::to_string(i));
  for (int i = 0; i < 3; ++i)
    redis.cli("GET missing:" + std::to_string(i));
  auto data = wait_for(d, c, token, metrics_path, [](const json::object& x) {
    // Once an interval without lookups has passed, the rate is the lifetime ratio since
    // CONFIG RESETSTAT: exactly the test's 5 hits and 3 misses.
    return section_ok(x, "cache") && x.at("cache").at("totalKeys").to_number<int64_t>() == 10
           && x.at("cache").at("operations").at("gets").to_number<int64_t>() >= 8
           && num(x.at("cache").at("hitRate")) == Approx(5.0 / 8.0);
  });
  auto& cache = data.at("cache").as_object();
  CHECK(cache.at("source").as_string() == "redis");
  CHECK(cache.at("totalKeys").to_number<int64_t>() == 10);
  CHECK(num(cache.at("hitRate")) == Approx(5.0 / 8.0));
  CHECK(cache.at("operations").at("gets").to_number<int64_t>() == 8);
  CHECK(cache.at("operations").at("sets").to_number<int64_t>() == 10);
  auto used_memory = std::stoull(redis.info_field("used_memory"));
  // used_memory moves with every client connection: 5 % or 256 KiB, whichever is larger.
  CHECK(std::abs(num(cache.at("memoryBytes")) - static_cast<double>(used_memory))
        < std::max(0.05 * used_memory, 262144.0));
  CHECK(cache.at("memoryUsage").as_string().find("B") != json::string::npos);
  CHECK(cache.at("evictions").to_number<int64_t>()
        == std::stoll(redis.info_field("evicted_keys")));
  auto resources = data_of(c.get(d.base_url() + resources_path, {bearer(token)}));
  CHECK(num(resources.at("connections").at("redis")) >= 1);
}

TEST_CASE("Redis going down marks the cache unavailable and it recovers when Redis returns") {
  private_redis redis;
  daemon_process d{{{"--sample-interval", "0.25", "--redis", redis.url()}, {}, {}}};
  http_client c;
  auto token = d.token("admin");
  wait_for(d, c, token, metrics_path, [](const json::object& x) { return section_ok(x, "cache"); });
  redis.stop();
  auto down = wait_for(d, c, token, metrics_path,
                       [](const json::object& x) { return !section_ok(x, "cache"); });
  auto& cache = down.at("cache").as_object();
  CHECK(cache.at("status").as_string() == "unavailable");
  CHECK(cache.at("error").as_string().find("redis") != json::string::npos);
  CHECK(cache.at("since").is_string());
  CHECK(cache.at("hitRate").is_null());
  // Everything else keeps being served.
  CHECK(section_ok(down, "system"));
  CHECK(c.get(d.base_url() + "/health").status == 200);
  std::this_thread::sleep_for(std::chrono::seconds(2));
  redis.start();
  redis.cli("SET back 1");
  auto up = wait_for(d, c, token, metrics_path, [](const json::object& x) {
    return section_ok(x, "cache") && x.at("cache").at("totalKeys").to_number<int64_t>() == 1;
  });
  CHECK(section_ok(up, "cache"));
  d.stop();
  // One warning for the outage and one line for the recovery, not one per sample.
  auto log = d.log();
  size_t warnings = 0;
  for (size_t pos = 0; (pos = log.find("source unavailable", pos)) != std::string::npos; ++pos)
    ++warnings;
  CHECK(warnings <= 2);
  CHECK(log.find("source is back") != std::string::npos);
}

TEST_CASE("the database section reads PostgreSQL activity and max_connections") {
  scratch_database database{"metrics_test_" + std::to_string(::getpid())};
  auto db_url = database.url();
  {
    soci::session setup(*soci::factory_postgresql(), medianest::postgres_conninfo(db_url));
    setup << "CREATE EXTENSION IF NOT EXISTS pg_stat_statements";
  }
  std::vector<std::unique_ptr<soci::session>> clients;
  for (int i = 0; i < 3; ++i)
    clients.push_back(std::make_unique<soci::session>(*soci::factory_postgresql(),
                                                      medianest::postgres_conninfo(db_url)));
  {
    daemon_process d{{{"--sample-interval", "0.25", "--database", db_url}, {}, {}}};
    http_client c;
    auto token = d.token("admin");
    auto data = wait_for(d, c, token, metrics_path, [](const json::object& x) {
      return section_ok(x, "database")
             && x.at("database").at("queryStats").at("selects").to_number<int64_t>() > 6
             && !x.at("database").at("topStatements").as_array().empty();
    });
    auto& db = data.at("database").as_object();
    CHECK(db.at("backend").as_string() == "postgresql");
    long long expected = 0;
    *clients[0] << "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                   "AND backend_type = 'client backend'",
      soci::into(expected);
    // Three test clients and the daemon's sessions: the collector's, the time-series writer's
    // and reader's (the reader connects on its first query: it may not have yet) and the alerts'.
    CHECK(expected >= 3 + 2);
    CHECK(expected <= 3 + 4);
    CHECK(db.at("activeConnections").to_number<int64_t>() == expected);
    std::string max_conn;
    *clients[0] << "SHOW max_connections", soci::into(max_conn);
    CHECK(db.at("maxConnections").to_number<int64_t>() == std::stoll(max_conn));
    CHECK(num(db.at("averageQueryTime")) > 0);
    CHECK(num(db.at("connectionPoolUsage")) >= 0);
    CHECK(num(db.at("connectionPoolUsage")) <= 100);
    CHECK(db.at("topStatements").as_array().at(0).at("calls").to_number<int64_t>() >= 1);
  }
  clients.clear();
}

TEST_CASE("an unreachable PostgreSQL marks the database unavailable while the rest is served") {
  auto port = free_port();
  daemon_process d{{{"--sample-interval", "0.25", "--database",
                     "postgresql://postgres@127.0.0.1:" + std::to_string(port) + "/postgres"},
                    {},
                    {}}};
  http_client c;
  auto token = d.token("admin");
  auto data = wait_for(d, c, token, metrics_path, [](const json::object& x) {
    return x.at("database").at("status").as_string() == "unavailable"
           && x.at("database").as_object().contains("since") && section_ok(x, "system");
  });
  CHECK(data.at("database").at("status").as_string() == "unavailable");
  CHECK_FALSE(data.at("database").at("error").as_string().empty());
  CHECK(section_ok(data, "system"));
}
