#include <catch2/catch.hpp>

#include <initializer_list>
#include <limits>
#include <string>

#include <boost/json.hpp>

#include "model/json.hpp"
#include "model/metrics_json.hpp"

using namespace medianest;
namespace json = boost::json;

namespace {

/// 2025-01-15T12:00:00.000Z, the spec's example timestamp.
constexpr int64_t spec_epoch_ms = 1'736'942'400'000;

sys_ms at(int64_t ms) {
  return sys_ms{std::chrono::milliseconds{ms}};
}

/// Serializes like the HTTP layer does and parses the text back.
json::object round_trip(const json::object& o) {
  auto text = to_json(o);
  return json::parse(text).as_object();
}

double number(const json::value& v) {
  return v.to_number<double>();
}

const std::initializer_list<const char*> api_keys{
  "requestsPerMinute", "averageResponseTime", "p95ResponseTime", "p99ResponseTime",
  "errorRate",         "activeConnections",   "slowestEndpoints"};
const std::initializer_list<const char*> database_keys{
  "averageQueryTime", "slowQueries", "connectionPoolUsage", "activeConnections", "queryStats"};
const std::initializer_list<const char*> system_keys{"cpu", "memory", "disk"};
const std::initializer_list<const char*> cache_keys{"hitRate",   "totalKeys", "memoryUsage",
                                                    "evictions", "operations"};
const std::initializer_list<const char*> resources_keys{"processes", "network", "storage",
                                                        "connections"};

api_sample sample_api() {
  api_sample a;
  a.requests_per_minute = 45.0;
  a.average_response_time = 234.5678;
  a.p95_response_time = 456.004;
  a.p99_response_time = 789.996;
  a.error_rate = 0.0212345;
  a.active_connections = 12;
  a.slowest_endpoints.push_back({"/api/v1/media/search", "GET", 450.126, 125});
  return a;
}

database_sample sample_database() {
  database_sample d;
  d.backend = "sqlite";
  d.average_query_time = 25.0049;
  d.slow_queries = 2;
  d.connection_pool_usage = 45.5;
  d.active_connections = 8;
  d.max_connections = 1;
  d.query_stats = {1240, 45, 23, 8};
  return d;
}

system_sample sample_system() {
  system_sample s;
  s.cpu.usage = 25.5;
  s.cpu.cores = 8;
  s.cpu.load_average = {1.234, 1.5, 1.8};
  s.memory.total = 16'777'216'000;
  s.memory.used = 8'388'608'000;
  s.memory.free = 8'388'608'000;
  s.memory.percentage = 50.0;
  s.memory.heap_used = 256'000'000;
  s.memory.heap_total = 512'000'000;
  s.disk.path = "/var/lib/medianest";
  s.disk.total = 1'000'000'000'000;
  s.disk.used = 500'000'000'000;
  s.disk.free = 500'000'000'000;
  s.disk.percentage = 50.0;
  return s;
}

cache_sample sample_cache() {
  cache_sample c;
  c.source = "builtin";
  c.hit_rate = 0.85126;
  c.total_keys = 1245;
  c.memory_usage = "128MB";
  c.memory_bytes = 128ull << 20;
  c.evictions = 12;
  c.gets = 5420;
  c.sets = 234;
  c.deletes = 45;
  return c;
}

template <class T>
section<T> available(T value, int64_t ms) {
  section<T> s;
  s.value = std::move(value);
  s.updated = at(ms);
  return s;
}

} // namespace

TEST_CASE("metrics data renders available sections with the spec keys and status ok") {
  snapshot s;
  s.timestamp = at(spec_epoch_ms);
  s.api = available(sample_api(), spec_epoch_ms);
  s.database = available(sample_database(), spec_epoch_ms);
  s.system = available(sample_system(), spec_epoch_ms);
  s.cache = available(sample_cache(), spec_epoch_ms);
  auto data = round_trip(metrics_data(s));

  CHECK(data.at("timestamp").as_string() == "2025-01-15T12:00:00.000Z");
  for (const char* section : {"api", "database", "system", "cache"}) {
    INFO(section);
    REQUIRE(data.contains(section));
    auto& obj = data.at(section).as_object();
    CHECK(obj.at("status").as_string() == "ok");
    CHECK_FALSE(obj.contains("error"));
    CHECK_FALSE(obj.contains("since"));
  }

  auto& api = data.at("api").as_object();
  for (const char* key : api_keys) {
    INFO(key);
    CHECK(api.contains(key));
  }
  CHECK(number(api.at("requestsPerMinute")) == 45.0);
  CHECK(api.at("activeConnections").to_number<int64_t>() == 12);
  auto& slowest = api.at("slowestEndpoints").as_array();
  REQUIRE(slowest.size() == 1);
  CHECK(slowest[0].at("path").as_string() == "/api/v1/media/search");
  CHECK(slowest[0].at("method").as_string() == "GET");
  CHECK(slowest[0].at("count").to_number<int64_t>() == 125);

  auto& db = data.at("database").as_object();
  for (const char* key : database_keys) {
    INFO(key);
    CHECK(db.contains(key));
  }
  CHECK(db.at("slowQueries").to_number<int64_t>() == 2);
  CHECK(number(db.at("connectionPoolUsage")) == 45.5);
  CHECK(db.at("activeConnections").to_number<int64_t>() == 8);
  auto& qs = db.at("queryStats").as_object();
  CHECK(qs.at("selects").to_number<int64_t>() == 1240);
  CHECK(qs.at("inserts").to_number<int64_t>() == 45);
  CHECK(qs.at("updates").to_number<int64_t>() == 23);
  CHECK(qs.at("deletes").to_number<int64_t>() == 8);
  CHECK(db.at("backend").as_string() == "sqlite");

  auto& sys = data.at("system").as_object();
  for (const char* key : system_keys) {
    INFO(key);
    CHECK(sys.contains(key));
  }
  auto& cpu = sys.at("cpu").as_object();
  CHECK(number(cpu.at("usage")) == 25.5);
  CHECK(cpu.at("cores").to_number<int64_t>() == 8);
  auto& load = cpu.at("loadAverage").as_array();
  REQUIRE(load.size() == 3);
  CHECK(number(load[1]) == 1.5);
  CHECK(number(load[2]) == 1.8);
  auto& mem = sys.at("memory").as_object();
  for (const char* key : {"total", "used", "free", "percentage", "heapUsed", "heapTotal"}) {
    INFO(key);
    CHECK(mem.contains(key));
  }
  CHECK(mem.at("total").to_number<int64_t>() == 16'777'216'000);
  CHECK(mem.at("heapTotal").to_number<int64_t>() == 512'000'000);
  auto& disk = sys.at("disk").as_object();
  for (const char* key : {"total", "used", "free", "percentage"}) {
    INFO(key);
    CHECK(disk.contains(key));
  }
  CHECK(disk.at("total").to_number<int64_t>() == 1'000'000'000'000);
  CHECK(number(disk.at("percentage")) == 50.0);

  auto& cache = data.at("cache").as_object();
  for (const char* key : cache_keys) {
    INFO(key);
    CHECK(cache.contains(key));
  }
  CHECK(cache.at("totalKeys").to_number<int64_t>() == 1245);
  CHECK(cache.at("memoryUsage").as_string() == "128MB");
  CHECK(cache.at("evictions").to_number<int64_t>() == 12);
  auto& ops = cache.at("operations").as_object();
  CHECK(ops.at("gets").to_number<int64_t>() == 5420);
  CHECK(ops.at("sets").to_number<int64_t>() == 234);
  CHECK(ops.at("deletes").to_number<int64_t>() == 45);
}

TEST_CASE("metrics numbers are rounded to two decimals and rates to four") {
  snapshot s;
  s.timestamp = at(spec_epoch_ms);
  s.api = available(sample_api(), spec_epoch_ms);
  s.database = available(sample_database(), spec_epoch_ms);
  s.system = available(sample_system(), spec_epoch_ms);
  s.cache = available(sample_cache(), spec_epoch_ms);
  auto data = round_trip(metrics_data(s));
  auto& api = data.at("api").as_object();
  CHECK(number(api.at("averageResponseTime")) == Approx(234.57).margin(1e-9));
  CHECK(number(api.at("p95ResponseTime")) == Approx(456.0).margin(1e-9));
  CHECK(number(api.at("p99ResponseTime")) == Approx(790.0).margin(1e-9));
  CHECK(number(api.at("errorRate")) == Approx(0.0212).margin(1e-12));
  CHECK(number(api.at("slowestEndpoints").as_array()[0].at("averageTime")) ==
        Approx(450.13).margin(1e-9));
  CHECK(number(data.at("database").at("averageQueryTime")) == Approx(25.0).margin(1e-9));
  CHECK(number(data.at("system").at("cpu").at("loadAverage").as_array()[0]) ==
        Approx(1.23).margin(1e-9));
  CHECK(number(data.at("cache").at("hitRate")) == Approx(0.8513).margin(1e-12));
}

TEST_CASE("metrics numbers are written as plain decimals") {
  snapshot s;
  s.api = available(sample_api(), spec_epoch_ms);
  s.system = available(sample_system(), spec_epoch_ms);
  auto text = to_json(metrics_data(s));
  CHECK(text.find("\"usage\":25.5") != std::string::npos);
  CHECK(text.find("\"averageResponseTime\":234.57") != std::string::npos);
  CHECK(text.find("E1") == std::string::npos);
  CHECK(text.find("e+") == std::string::npos);
}

TEST_CASE("an unavailable section renders every spec key as null with its error and since") {
  snapshot s;
  s.timestamp = at(spec_epoch_ms + 5000);
  // A stale value is still held, but the source failed afterwards.
  s.api = available(sample_api(), spec_epoch_ms);
  s.api.error = "api collector stalled";
  s.api.updated = at(spec_epoch_ms + 1234);
  s.database.error = "sqlite: unable to open database file";
  s.database.updated = at(spec_epoch_ms + 61'007);
  s.system.error = "cannot read /proc/stat";
  s.system.updated = at(spec_epoch_ms);
  s.cache.error = "redis: connection refused";
  s.cache.updated = at(spec_epoch_ms + 999);
  auto data = round_trip(metrics_data(s));

  struct expectation {
    const char* section;
    std::initializer_list<const char*> keys;
    const char* error;
    const char* since;
  };
  for (const auto& e : std::initializer_list<expectation>{
         {"api", api_keys, "api collector stalled", "2025-01-15T12:00:01.234Z"},
         {"database", database_keys, "sqlite: unable to open database file",
          "2025-01-15T12:01:01.007Z"},
         {"system", system_keys, "cannot read /proc/stat", "2025-01-15T12:00:00.000Z"},
         {"cache", cache_keys, "redis: connection refused", "2025-01-15T12:00:00.999Z"}}) {
    INFO(e.section);
    auto& obj = data.at(e.section).as_object();
    for (const char* key : e.keys) {
      INFO(key);
      REQUIRE(obj.contains(key));
      CHECK(obj.at(key).is_null());
    }
    CHECK(obj.at("status").as_string() == "unavailable");
    CHECK(obj.at("error").as_string() == e.error);
    CHECK(obj.at("since").as_string() == e.since);
    // No stale number survives anywhere in the section.
    for (const auto& kv : obj) {
      INFO(kv.key());
      bool allowed_text = kv.key() == "status" || kv.key() == "error" || kv.key() == "since";
      CHECK((kv.value().is_null() || allowed_text));
    }
  }
  CHECK(data.at("timestamp").as_string() == "2025-01-15T12:00:05.000Z");
}

TEST_CASE("a section never sampled is unavailable with no sample yet") {
  snapshot s;
  s.timestamp = at(spec_epoch_ms);
  s.api = available(sample_api(), spec_epoch_ms);
  auto data = round_trip(metrics_data(s));
  CHECK(data.at("api").at("status").as_string() == "ok");
  for (const char* section : {"database", "system", "cache"}) {
    INFO(section);
    auto& obj = data.at(section).as_object();
    CHECK(obj.at("status").as_string() == "unavailable");
    CHECK(obj.at("error").as_string() == "no sample yet");
    CHECK_FALSE(obj.contains("since"));
  }
  for (const char* key : cache_keys) {
    INFO(key);
    CHECK(data.at("cache").at(key).is_null());
  }
}

TEST_CASE("resources data puts the timestamp first and the sections flat") {
  resources_sample r;
  r.processes.push_back({"medianest-perf", 1234, 15.555, 256'000'000, 3600});
  r.network = {1'048'576'000, 2'097'152'000, 1'024'000, 2'048'000, 3};
  r.storage = {1250, 450, 1'048'576'000, 524'288'000, 125.4567};
  r.connections = {8, 4, 12, 25};
  snapshot s;
  s.timestamp = at(spec_epoch_ms + 42);
  s.resources = available(r, spec_epoch_ms);

  auto text = to_json(resources_data(s));
  CHECK(text.rfind("{\"timestamp\":\"2025-01-15T12:00:00.042Z\"", 0) == 0);

  auto data = json::parse(text).as_object();
  REQUIRE(data.begin() != data.end());
  CHECK(data.begin()->key() == "timestamp");
  for (const char* key : resources_keys) {
    INFO(key);
    CHECK(data.contains(key));
  }
  CHECK(data.at("status").as_string() == "ok");
  auto& procs = data.at("processes").as_array();
  REQUIRE(procs.size() == 1);
  CHECK(procs[0].at("name").as_string() == "medianest-perf");
  CHECK(procs[0].at("pid").to_number<int64_t>() == 1234);
  CHECK(number(procs[0].at("cpu")) == Approx(15.56).margin(1e-9));
  CHECK(procs[0].at("memory").to_number<int64_t>() == 256'000'000);
  CHECK(procs[0].at("uptime").to_number<int64_t>() == 3600);
  auto& net = data.at("network").as_object();
  CHECK(net.at("bytesReceived").to_number<int64_t>() == 1'048'576'000);
  CHECK(net.at("bytesSent").to_number<int64_t>() == 2'097'152'000);
  CHECK(net.at("packetsReceived").to_number<int64_t>() == 1'024'000);
  CHECK(net.at("packetsSent").to_number<int64_t>() == 2'048'000);
  CHECK(net.at("errors").to_number<int64_t>() == 3);
  auto& st = data.at("storage").as_object();
  CHECK(st.at("reads").to_number<int64_t>() == 1250);
  CHECK(st.at("writes").to_number<int64_t>() == 450);
  CHECK(st.at("readBytes").to_number<int64_t>() == 1'048'576'000);
  CHECK(st.at("writeBytes").to_number<int64_t>() == 524'288'000);
  CHECK(number(st.at("iops")) == Approx(125.46).margin(1e-9));
  auto& conn = data.at("connections").as_object();
  CHECK(conn.at("database").to_number<int64_t>() == 8);
  CHECK(conn.at("redis").to_number<int64_t>() == 4);
  CHECK(conn.at("websocket").to_number<int64_t>() == 12);
  CHECK(conn.at("http").to_number<int64_t>() == 25);
}

TEST_CASE("unavailable resources keep the timestamp first and null every section") {
  snapshot s;
  s.timestamp = at(spec_epoch_ms);
  s.resources.error = "cannot read /proc/net/dev";
  s.resources.updated = at(spec_epoch_ms - 1);
  auto data = round_trip(resources_data(s));
  CHECK(data.begin()->key() == "timestamp");
  CHECK(data.at("timestamp").as_string() == "2025-01-15T12:00:00.000Z");
  for (const char* key : resources_keys) {
    INFO(key);
    REQUIRE(data.contains(key));
    CHECK(data.at(key).is_null());
  }
  CHECK(data.at("status").as_string() == "unavailable");
  CHECK(data.at("error").as_string() == "cannot read /proc/net/dev");
  CHECK(data.at("since").as_string() == "2025-01-15T11:59:59.999Z");
}

TEST_CASE("round2 rounds half away from zero and maps non finite values to zero") {
  CHECK(round2(2.345678) == Approx(2.35).margin(1e-12));
  CHECK(round2(-2.345678) == Approx(-2.35).margin(1e-12));
  CHECK(round2(0.125) == Approx(0.13).margin(1e-12));
  CHECK(round2(std::numeric_limits<double>::infinity()) == 0.0);
  CHECK(round2(std::numeric_limits<double>::quiet_NaN()) == 0.0);
}
