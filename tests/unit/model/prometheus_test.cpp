#include <catch2/catch.hpp>

#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "model/metrics.hpp"
#include "model/prometheus.hpp"

using namespace medianest;

namespace {

template <class T>
void fill(section<T>& s, T value) {
  s.value = std::move(value);
  s.error.clear();
}

/// A snapshot with every section present, a gateway and this process' own figures.
snapshot full_snapshot(request_totals_builder* builder = nullptr) {
  snapshot s;
  api_sample api;
  api.active_connections = 3;
  if (builder)
    api.totals = builder->snapshot();
  fill(s.api, std::move(api));
  system_sample sys;
  sys.cpu = {42.5, 2, {0.5, 0.25, 0.125}};
  sys.memory.total = 8'000'000'000;
  sys.memory.used = 3'000'000'000;
  sys.memory.free = 5'000'000'000;
  sys.disk = {"/var/lib/medianest", 100, 40, 50, 44.4};
  fill(s.system, std::move(sys));
  database_sample db;
  db.backend = "postgresql";
  db.average_query_time = 2.5;
  db.slow_queries = 4;
  db.connection_pool_usage = 12.5;
  db.active_connections = 6;
  db.max_connections = 100;
  db.query_stats = {10, 20, 30, 40};
  fill(s.database, std::move(db));
  cache_sample cache;
  cache.source = "redis";
  cache.hit_rate = 0.875;
  cache.total_keys = 12;
  cache.memory_bytes = 1 << 20;
  cache.evictions = 7;
  cache.gets = 100;
  cache.sets = 50;
  cache.deletes = 5;
  cache.connected_clients = 2;
  fill(s.cache, std::move(cache));
  resources_sample res;
  res.processes.push_back({"medianest-perf", 4242, 12.5, 30'000'000, 60});
  res.network = {1000, 2000, 10, 20, 1};
  res.storage.iops = 3.5;
  res.connections = {6, 2, 1, 3};
  res.own = own_process_stats{1.25, 30'000'000, 900'000'000, 1'700'000'000.5, 17, 1024};
  fill(s.resources, std::move(res));
  gateway_sample gw;
  gw.requests = 99;
  gw.circuit_state = "half-open";
  fill(s.gateway, std::move(gw));
  return s;
}

request_record rec(const std::string* route, http_method m, uint16_t status, uint32_t us) {
  return {route, m, status, us, 1000};
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line))
    out.push_back(line);
  return out;
}

/// The metric name of a sample line (up to '{' or ' ').
std::string sample_name(const std::string& line) {
  return line.substr(0, line.find_first_of("{ "));
}

/// The value at the end of a sample line.
double sample_value(const std::string& line) {
  return std::stod(line.substr(line.rfind(' ') + 1));
}

/// The lines starting with `prefix`.
std::vector<std::string> starting_with(const std::string& text, const std::string& prefix) {
  std::vector<std::string> out;
  for (auto& l : lines_of(text))
    if (l.rfind(prefix, 0) == 0)
      out.push_back(l);
  return out;
}

/// Checks the structure both formats share: one HELP and one TYPE per family, before its
/// samples, and every sample inside the block of the family it belongs to.
void check_families(const std::string& body, bool openmetrics) {
  std::map<std::string, int> help, type;
  std::map<std::string, std::string> type_of;
  std::string current; // family whose block we are in
  std::set<std::string> closed;
  for (const auto& line : lines_of(body)) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) {
      auto name = line.substr(7, line.find(' ', 7) - 7);
      ++help[name];
      if (current != name) {
        if (!current.empty())
          closed.insert(current);
        CHECK(closed.count(name) == 0);
        current = name;
      }
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      auto rest = line.substr(7);
      auto name = rest.substr(0, rest.find(' '));
      ++type[name];
      type_of[name] = rest.substr(rest.find(' ') + 1);
      CHECK(name == current);
      continue;
    }
    if (line == "# EOF") {
      CHECK(openmetrics);
      continue;
    }
    REQUIRE_FALSE(line.empty());
    REQUIRE(line[0] != '#');
    auto name = sample_name(line);
    CHECK(valid_metric_name(name));
    // The sample belongs to the current family: its name, or its name plus a suffix the type
    // allows.
    auto t = type_of[current];
    bool belongs = name == current;
    if (t == "histogram")
      belongs = name == current + "_bucket" || name == current + "_sum"
                || name == current + "_count";
    if (t == "counter")
      belongs = openmetrics ? name == current + "_total" : name == current;
    CHECK(belongs);
  }
  for (const auto& [name, n] : help) {
    INFO(name);
    CHECK(n == 1);
    CHECK(type[name] == 1);
  }
  CHECK(help.size() == type.size());
  if (openmetrics) {
    REQUIRE(body.size() >= 6);
    CHECK(body.substr(body.size() - 6) == "# EOF\n");
  } else {
    CHECK(body.find("# EOF") == std::string::npos);
  }
}

} // namespace

TEST_CASE("label values escape backslash double quote and newline") {
  std::string out;
  append_label_value(out, "a\\b\"c\nd");
  CHECK(out == "a\\\\b\\\"c\\nd");
}

TEST_CASE("label values replace invalid UTF-8 and keep valid multibyte text") {
  std::string out;
  append_label_value(out, "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  CHECK(out == "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80");
  out.clear();
  // A lone continuation byte, a truncated sequence, an overlong '/' and a surrogate.
  append_label_value(out, "a\x80" "b\xE2\x82" "c\xC0\xAF" "d\xED\xA0\x80");
  std::string r = "\xEF\xBF\xBD";
  CHECK(out == "a" + r + "b" + r + r + "c" + r + r + "d" + r + r + r);
}

TEST_CASE("metric and label names are validated") {
  CHECK(valid_metric_name("medianest_http_requests_total"));
  CHECK(valid_metric_name("job:rate5m"));
  CHECK(valid_metric_name("_x"));
  CHECK_FALSE(valid_metric_name(""));
  CHECK_FALSE(valid_metric_name("1abc"));
  CHECK_FALSE(valid_metric_name("a-b"));
  CHECK_FALSE(valid_metric_name("a b"));
  CHECK(valid_label_name("route"));
  CHECK(valid_label_name("_x1"));
  CHECK_FALSE(valid_label_name("__name__"));
  CHECK_FALSE(valid_label_name("a:b"));
  CHECK_FALSE(valid_label_name("9"));
  CHECK_FALSE(valid_label_name(""));
}

TEST_CASE("sample values use the shortest exact text and the special spellings") {
  auto text = [](double v) {
    std::string out;
    append_value(out, v);
    return out;
  };
  CHECK(text(0) == "0");
  CHECK(text(42) == "42");
  CHECK(text(0.1) == "0.1");
  CHECK(text(-2.5) == "-2.5");
  CHECK(std::stod(text(1e21)) == 1e21);
  CHECK(std::stod(text(1.0 / 3)) == 1.0 / 3);
  CHECK(text(std::numeric_limits<double>::quiet_NaN()) == "NaN");
  CHECK(text(std::numeric_limits<double>::infinity()) == "+Inf");
  CHECK(text(-std::numeric_limits<double>::infinity()) == "-Inf");
  CHECK(le_label(0.005) == "0.005");
  CHECK(le_label(1) == "1.0");
  CHECK(le_label(10) == "10.0");
  CHECK(le_label(2.5) == "2.5");
  CHECK(le_label(std::numeric_limits<double>::infinity()) == "+Inf");
}

TEST_CASE("the histogram buckets are cumulative and end with +Inf equal to the count") {
  request_totals_builder b;
  auto r = intern_route("/api/v1/media/:id");
  // 1 ms, 5 ms (on the bound: le is inclusive), 7 ms, 30 ms, 3 s and 20 s.
  for (uint32_t us : {1'000u, 5'000u, 7'000u, 30'000u, 3'000'000u, 20'000'000u})
    b.add(rec(r, http_method::get, 200, us));
  auto s = full_snapshot(&b);
  auto body = render_prometheus(s, exposition_format::text);
  auto buckets = starting_with(body, "medianest_http_request_duration_seconds_bucket{");
  REQUIRE(buckets.size() == duration_bounds_us.size() + 1);
  std::vector<std::pair<std::string, double>> expected{
    {"0.005", 2}, {"0.01", 3}, {"0.025", 3}, {"0.05", 4}, {"0.1", 4},  {"0.25", 4},
    {"0.5", 4},   {"1.0", 4},  {"2.5", 4},   {"5.0", 5},  {"10.0", 5}, {"+Inf", 6}};
  double previous = 0;
  for (size_t i = 0; i < buckets.size(); ++i) {
    INFO(buckets[i]);
    CHECK(buckets[i].find("method=\"GET\",route=\"/api/v1/media/:id\",le=\"" + expected[i].first
                          + "\"}")
          != std::string::npos);
    CHECK(sample_value(buckets[i]) == expected[i].second);
    CHECK(sample_value(buckets[i]) >= previous);
    previous = sample_value(buckets[i]);
  }
  auto count = starting_with(body, "medianest_http_request_duration_seconds_count{");
  REQUIRE(count.size() == 1);
  CHECK(sample_value(count[0]) == 6);
  auto sum = starting_with(body, "medianest_http_request_duration_seconds_sum{");
  REQUIRE(sum.size() == 1);
  CHECK(sample_value(sum[0]) == Approx(23.043));
}

TEST_CASE("request counters carry method route and status per series") {
  request_totals_builder b;
  auto metrics = intern_route("/api/v1/performance/metrics");
  auto health = intern_route("/health");
  for (int i = 0; i < 3; ++i)
    b.add(rec(health, http_method::get, 200, 100));
  b.add(rec(metrics, http_method::get, 401, 100));
  b.add(rec(metrics, http_method::get, 200, 100));
  b.add(rec(metrics, http_method::post, 405, 100));
  auto body = render_prometheus(full_snapshot(&b), exposition_format::text);
  auto counters = starting_with(body, "medianest_http_requests_total{");
  REQUIRE(counters.size() == 4);
  // Sorted by route, then method, then status.
  CHECK(counters[0]
        == "medianest_http_requests_total{method=\"GET\",route=\"/api/v1/performance/metrics\","
           "status=\"200\"} 1");
  CHECK(counters[1]
        == "medianest_http_requests_total{method=\"GET\",route=\"/api/v1/performance/metrics\","
           "status=\"401\"} 1");
  CHECK(counters[2]
        == "medianest_http_requests_total{method=\"POST\",route=\"/api/v1/performance/metrics\","
           "status=\"405\"} 1");
  CHECK(counters[3] == "medianest_http_requests_total{method=\"GET\",route=\"/health\",status=\"200\"} 3");
}

TEST_CASE("a route with quotes backslashes and newlines is escaped in every family") {
  request_totals_builder b;
  b.add(rec(intern_route("/odd\"route\\with\nnewline"), http_method::get, 200, 100));
  auto body = render_prometheus(full_snapshot(&b), exposition_format::text);
  std::string escaped = "route=\"/odd\\\"route\\\\with\\nnewline\"";
  CHECK(starting_with(body, "medianest_http_requests_total{").at(0).find(escaped)
        != std::string::npos);
  for (const auto& line : starting_with(body, "medianest_http_request_duration_seconds"))
    CHECK(line.find(escaped) != std::string::npos);
  // No raw newline split a sample line.
  check_families(body, false);
}

TEST_CASE("every family has exactly one HELP and one TYPE in the text format") {
  request_totals_builder b;
  b.add(rec(intern_route("/a"), http_method::get, 200, 100));
  b.add(rec(intern_route("/b"), http_method::put, 500, 100));
  prometheus_extras extras;
  extras.families.push_back({"medianest_alerts_active", "Alerts firing now.", metric_kind::gauge,
                             {{{{"severity", "warning"}}, 2}, {{{"severity", "critical"}}, 1}}});
  auto body = render_prometheus(full_snapshot(&b), exposition_format::text, extras);
  check_families(body, false);
  // The standard process families and the gateway are there.
  for (auto name : {"process_cpu_seconds_total 1.25", "process_resident_memory_bytes 30000000",
                    "process_start_time_seconds 1700000000.5", "process_open_fds 17",
                    "process_max_fds 1024", "process_virtual_memory_bytes 900000000",
                    "medianest_gateway_requests_total 99",
                    "medianest_gateway_circuit_state{state=\"half-open\"} 1",
                    "medianest_gateway_circuit_state{state=\"open\"} 0",
                    "medianest_system_cpu_usage_ratio 0.425", "medianest_system_load5 0.25",
                    "medianest_database_query_average_seconds 0.0025",
                    "medianest_database_pool_usage_ratio 0.125",
                    "medianest_database_queries_total{operation=\"delete\"} 40",
                    "medianest_cache_hit_ratio 0.875", "medianest_cache_evictions_total 7",
                    "medianest_http_open_connections 3",
                    "medianest_alerts_active{severity=\"critical\"} 1"})
    CHECK(body.find(std::string{"\n"} + name + "\n") != std::string::npos);
  CHECK(body.find("# TYPE process_cpu_seconds_total counter\n") != std::string::npos);
}

TEST_CASE("OpenMetrics names counter families without _total and ends with EOF") {
  request_totals_builder b;
  b.add(rec(intern_route("/a"), http_method::get, 200, 100));
  auto s = full_snapshot(&b);
  auto om = render_prometheus(s, exposition_format::openmetrics);
  check_families(om, true);
  CHECK(om.find("# TYPE medianest_http_requests counter\n") != std::string::npos);
  CHECK(om.find("# HELP medianest_http_requests HTTP requests") != std::string::npos);
  CHECK(om.find("\nmedianest_http_requests_total{method=\"GET\",route=\"/a\",status=\"200\"} 1\n")
        != std::string::npos);
  CHECK(om.find("# TYPE process_cpu_seconds counter\n") != std::string::npos);
  CHECK(om.find("\nprocess_cpu_seconds_total 1.25\n") != std::string::npos);
  CHECK(om.find("# TYPE medianest_http_request_duration_seconds histogram\n")
        != std::string::npos);
  CHECK(om.find("_bucket{method=\"GET\",route=\"/a\",le=\"1.0\"} 1\n") != std::string::npos);
  // The samples are the same as in the text format; only the metadata lines and EOF differ.
  auto text = render_prometheus(s, exposition_format::text);
  std::vector<std::string> om_samples, text_samples;
  for (auto& l : lines_of(om))
    if (l[0] != '#')
      om_samples.push_back(l);
  for (auto& l : lines_of(text))
    if (l[0] != '#')
      text_samples.push_back(l);
  CHECK(om_samples == text_samples);
  CHECK(starting_with(om, "# TYPE ").size() == starting_with(text, "# TYPE ").size());
}

TEST_CASE("HELP text escapes backslash and newline and quotes only in OpenMetrics") {
  prometheus_extras extras;
  extras.families.push_back({"medianest_x", "say \"hi\"\\ now\nplease", metric_kind::gauge,
                             {{{}, 1}}});
  snapshot empty;
  auto text = render_prometheus(empty, exposition_format::text, extras);
  CHECK(text.find("# HELP medianest_x say \"hi\"\\\\ now\\nplease\n") != std::string::npos);
  auto om = render_prometheus(empty, exposition_format::openmetrics, extras);
  CHECK(om.find("# HELP medianest_x say \\\"hi\\\"\\\\ now\\nplease\n") != std::string::npos);
}

TEST_CASE("an unavailable section leaves only its collector_up at 0") {
  auto s = full_snapshot();
  s.database.error = "connection refused";
  s.resources.error = "cannot open /proc/net/dev";
  auto body = render_prometheus(s, exposition_format::text);
  check_families(body, false);
  CHECK(body.find("medianest_collector_up{section=\"database\"} 0\n") != std::string::npos);
  CHECK(body.find("medianest_collector_up{section=\"system\"} 1\n") != std::string::npos);
  CHECK(body.find("medianest_database_") == std::string::npos);
  CHECK(body.find("process_cpu_seconds_total") == std::string::npos);
  CHECK(body.find("medianest_network_") == std::string::npos);
  // No gateway section outside gateway mode, and no request families before any request.
  snapshot bare;
  auto none = render_prometheus(bare, exposition_format::text);
  check_families(none, false);
  CHECK(none.find("section=\"gateway\"") == std::string::npos);
  CHECK(none.find("medianest_http_requests_total") == std::string::npos);
  CHECK(none.find("medianest_collector_up{section=\"api\"} 0\n") != std::string::npos);
}

TEST_CASE("extra families are checked so they cannot break the exposition") {
  prometheus_extras extras;
  using kind = metric_kind;
  extras.families = {
    {"medianest_optimization_runs", "Optimization runs.", kind::counter,
     {{{{"type", "cache_strategy"}, {"status", "completed"}}, 3},
      {{{"type", "memory_cleanup"}, {"status", "failed"}}, -1},    // negative counter: dropped
      {{{"bad-label", "x"}}, 1},                                    // invalid label: dropped
      {{{"type", "a"}, {"type", "b"}}, 1},                          // repeated label: dropped
      {{{"le", "1"}}, 1}}},                                         // reserved label: dropped
    {"bad name", "x", kind::gauge, {{{}, 1}}},                      // invalid name
    {"process_cpu_seconds_total", "clash", kind::counter, {{{}, 1}}}, // clashes with built-in
    {"medianest_collector_up", "clash", kind::gauge, {{{}, 1}}},      // clashes with built-in
    {"medianest_weird_total", "gauge ending in _total", kind::gauge, {{{}, 1}}},
    {"medianest_deliveries_total", "Notification deliveries.", kind::counter,
     {{{{"channel", "webhook"}}, 5}}},
    {"medianest_deliveries", "clash by base name", kind::counter, {{{}, 1}}},
    {"medianest_empty", "no points", kind::gauge, {}},
  };
  auto s = full_snapshot();
  for (auto f : {exposition_format::text, exposition_format::openmetrics}) {
    auto body = render_prometheus(s, f, extras);
    check_families(body, f == exposition_format::openmetrics);
    CHECK(body.find("medianest_optimization_runs_total{type=\"cache_strategy\",status="
                    "\"completed\"} 3\n")
          != std::string::npos);
    CHECK(starting_with(body, "medianest_optimization_runs_total").size() == 1);
    CHECK(body.find("bad name") == std::string::npos);
    CHECK(body.find("clash") == std::string::npos);
    CHECK(body.find("medianest_weird_total") == std::string::npos);
    CHECK(body.find("medianest_empty") == std::string::npos);
    CHECK(body.find("\nmedianest_deliveries_total{channel=\"webhook\"} 5\n") != std::string::npos);
  }
}

TEST_CASE("the Accept header picks OpenMetrics only when the client prefers it") {
  using f = exposition_format;
  CHECK(negotiate_exposition("") == f::text);
  CHECK(negotiate_exposition("*/*") == f::text);
  CHECK(negotiate_exposition("text/plain") == f::text);
  CHECK(negotiate_exposition("application/json") == f::text);
  CHECK(negotiate_exposition("application/openmetrics-text") == f::openmetrics);
  CHECK(negotiate_exposition("application/openmetrics-text; version=1.0.0; charset=utf-8")
        == f::openmetrics);
  CHECK(negotiate_exposition("Application/OpenMetrics-Text;Version=\"0.0.1\"") == f::openmetrics);
  // What Prometheus 2.x sends.
  CHECK(negotiate_exposition("application/openmetrics-text;version=1.0.0,application/"
                             "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;"
                             "q=0.5,*/*;q=0.1")
        == f::openmetrics);
  CHECK(negotiate_exposition("text/plain;version=0.0.4;q=0.9, application/openmetrics-text;q=0.5")
        == f::text);
  CHECK(negotiate_exposition("text/plain, application/openmetrics-text") == f::text);
  CHECK(negotiate_exposition("application/openmetrics-text, text/plain") == f::openmetrics);
  CHECK(negotiate_exposition("application/openmetrics-text;q=0") == f::text);
  CHECK(negotiate_exposition("application/openmetrics-text;version=2.0.0") == f::text);
  CHECK(negotiate_exposition("application/openmetrics-text;q=bogus") == f::text);
  CHECK(content_type_of(f::text) == "text/plain; version=0.0.4; charset=utf-8");
  CHECK(content_type_of(f::openmetrics)
        == "application/openmetrics-text; version=1.0.0; charset=utf-8");
}
