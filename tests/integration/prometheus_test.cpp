// GET /api/v1/performance/prometheus end to end: the real daemon's exposition checked by
// promtool, scraped by a real Prometheus server, its auth and its content negotiation.

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"
#include "support/test_servers.hpp"
#include "support/upstream_process.hpp"

using namespace medianest::test;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

const std::string prometheus_path = "/api/v1/performance/prometheus";
const std::vector<std::string> fast_sampling{"--sample-interval", "0.25"};

/// The value of the first sample line starting with `prefix` (name and labels), or -1.
double sample_value(const std::string& body, const std::string& prefix) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(prefix, 0) == 0 && line.size() > prefix.size() && line[prefix.size()] == ' ')
      return std::stod(line.substr(prefix.size() + 1));
  return -1;
}

/// Scrapes until `ready(body)` holds (10 s at most); returns the last answer.
template <class Pred>
http_result scrape_until(const daemon_process& d, const std::vector<std::string>& headers,
                         Pred ready) {
  http_client c;
  http_result r;
  auto deadline = std::chrono::steady_clock::now() + 10s;
  do {
    r = c.get(d.base_url() + prometheus_path, headers);
    if (r.status == 200 && ready(r.body))
      return r;
    std::this_thread::sleep_for(50ms);
  } while (std::chrono::steady_clock::now() < deadline);
  return r;
}

/// Runs `promtool check metrics` on `body`; returns its exit status and sets `output`.
int promtool_check(const std::string& body, std::string& output) {
  auto dir = make_temp_dir("medianest-promtool");
  auto file = dir / "exposition.txt";
  {
    std::ofstream out(file, std::ios::binary);
    out << body;
  }
  int status = -1;
  output = run_command("promtool check metrics < " + file.string() + " 2>&1", &status);
  std::filesystem::remove_all(dir);
  return status;
}

/// Parses `body` with the OpenMetrics parser of the Python client library (Debian's
/// python3-prometheus-client), which checks the format strictly; returns its exit status and
/// sets `output`.
int openmetrics_check(const std::string& body, std::string& output) {
  auto dir = make_temp_dir("medianest-openmetrics");
  auto file = dir / "exposition.txt";
  {
    std::ofstream out(file, std::ios::binary);
    out << body;
  }
  int status = -1;
  output = run_command("/usr/bin/python3 -c 'import sys; "
                       "from prometheus_client.openmetrics.parser import "
                       "text_string_to_metric_families as parse; "
                       "print(len(list(parse(open(sys.argv[1]).read()))))' "
                         + file.string() + " 2>&1",
                       &status);
  std::filesystem::remove_all(dir);
  return status;
}

/// A real Prometheus server on a free port, scraping one target every second with a bearer
/// token; its data directory is a fresh temporary one, removed with everything in it when the
/// object goes away, after the server was stopped.
class prometheus_server {
public:
  prometheus_server(uint16_t target_port, const std::string& token)
    : dir_(make_temp_dir("medianest-prometheus")) {
    {
      std::ofstream cfg(dir_ / "prometheus.yml");
      cfg << "global:\n"
             "  scrape_interval: 1s\n"
             "  scrape_timeout: 1s\n"
             "  evaluation_interval: 1s\n"
             "scrape_configs:\n"
             "  - job_name: medianest\n"
             "    metrics_path: "
          << prometheus_path
          << "\n"
             "    authorization:\n"
             "      credentials: "
          << token
          << "\n"
             "    static_configs:\n"
             "      - targets: ['127.0.0.1:"
          << target_port << "']\n";
    }
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      std::vector<std::string> args{"prometheus",
                                    "--config.file=" + (dir_ / "prometheus.yml").string(),
                                    "--storage.tsdb.path=" + (dir_ / "data").string(),
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                    "--log.level=warn"};
      pid_ = spawn_logged(args, dir_ / "prometheus.log");
      http_client c;
      auto deadline = std::chrono::steady_clock::now() + 20s;
      while (std::chrono::steady_clock::now() < deadline && child_running(pid_, exit_code_)) {
        if (c.get(base_url() + "/-/ready").status == 200)
          return;
        std::this_thread::sleep_for(50ms);
      }
      stop_child(pid_, exit_code_, SIGKILL, 5s);
    }
    auto text = log();
    std::filesystem::remove_all(dir_);
    throw std::runtime_error("prometheus did not start; its log:\n" + text);
  }

  ~prometheus_server() {
    stop_child(pid_, exit_code_, SIGTERM, 10s);
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }

  prometheus_server(const prometheus_server&) = delete;
  prometheus_server& operator=(const prometheus_server&) = delete;

  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  pid_t pid() const noexcept {
    return pid_;
  }

  const std::filesystem::path& dir() const noexcept {
    return dir_;
  }

  std::string log() const {
    std::ifstream in(dir_ / "prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// The result vector of an instant query (an empty array when it has no data yet).
  json::array query(const std::string& promql) {
    std::string encoded;
    for (unsigned char ch : promql) {
      if (std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '~')
        encoded += static_cast<char>(ch);
      else {
        char buf[4];
        std::snprintf(buf, sizeof buf, "%%%02X", ch);
        encoded += buf;
      }
    }
    auto r = client_.get(base_url() + "/api/v1/query?query=" + encoded);
    if (r.status != 200)
      return {};
    auto doc = json::parse(r.body).as_object();
    if (doc.at("status").as_string() != "success")
      return {};
    return doc.at("data").at("result").as_array();
  }

private:
  std::filesystem::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  http_client client_;
};

} // namespace

TEST_CASE("the exposition of a plain daemon passes promtool check metrics") {
  daemon_process d{{fast_sampling, {}, {}}};
  http_client c;
  auto admin = bearer(d.token("admin"));
  for (int i = 0; i < 5; ++i)
    REQUIRE(c.get(d.base_url() + "/health").status == 200);
  auto r = scrape_until(d, {admin}, [](const std::string& body) {
    return sample_value(body,
                        R"(medianest_http_requests_total{method="GET",route="/health",status="200"})")
             >= 5
           && body.find("process_cpu_seconds_total") != std::string::npos
           && body.find("medianest_database_info") != std::string::npos;
  });
  REQUIRE(r.status == 200);
  INFO(r.body);
  CHECK(r.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
  std::string output;
  auto status = promtool_check(r.body, output);
  INFO("promtool: " << output);
  CHECK(status == 0);
  CHECK(output.empty());
  // The standard process families describe this very process.
  CHECK(sample_value(r.body, "process_open_fds") > 0);
  CHECK(sample_value(r.body, "process_resident_memory_bytes") > 1e6);
  auto now = std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
               .count();
  auto started = sample_value(r.body, "process_start_time_seconds");
  CHECK(started <= now);
  CHECK(started > now - 60);
  // The histogram counts what the counter counts.
  CHECK(sample_value(r.body,
                     R"(medianest_http_request_duration_seconds_count{method="GET",route="/health"})")
        == sample_value(
          r.body,
          R"(medianest_http_request_duration_seconds_bucket{method="GET",route="/health",le="+Inf"})"));
}

TEST_CASE("the exposition of a gateway with Redis passes promtool and counts route templates") {
  upstream_process up;
  private_redis redis;
  daemon_process d{{{"--upstream", up.base_url(), "--sample-interval", "0.25", "--redis",
                     redis.url()},
                    {},
                    {}}};
  http_client c;
  auto admin = bearer(d.token("admin"));
  for (int i = 0; i < 6; ++i)
    c.get(d.base_url() + "/api/v1/media/" + std::to_string(1000 + i));
  for (int i = 0; i < 3; ++i)
    c.get(d.base_url() + "/api/v1/performance/optimize/opt-" + std::to_string(i), {admin});
  auto r = scrape_until(d, {admin}, [](const std::string& body) {
    return body.find(R"(route="/api/v1/media/:id",status="200"} 6)") != std::string::npos
           && body.find("medianest_gateway_requests_total") != std::string::npos
           && body.find(R"(medianest_cache_info{source="redis"} 1)") != std::string::npos
           && body.find(R"(route="/api/v1/performance/optimize/:id")") != std::string::npos;
  });
  REQUIRE(r.status == 200);
  INFO(r.body);
  CHECK(r.body.find(R"(medianest_collector_up{section="gateway"} 1)") != std::string::npos);
  CHECK(r.body.find("medianest_cache_connected_clients") != std::string::npos);
  // Route templates only: no raw path reaches a label.
  CHECK(r.body.find("/api/v1/media/1000") == std::string::npos);
  CHECK(r.body.find("opt-1") == std::string::npos);
  std::string output;
  auto status = promtool_check(r.body, output);
  INFO("promtool: " << output);
  CHECK(status == 0);
  CHECK(output.empty());
}

TEST_CASE("a real Prometheus server scrapes the daemon with the admin token") {
  daemon_process d{{fast_sampling, {}, {}}};
  auto token = d.token("admin");
  prometheus_server prom(d.port(), token);
  // Prometheus' own scrapes are what the counter counts, under the route template: wait until
  // the query returns that series.
  auto scraped = [&](const json::array& result) {
    for (const auto& series : result) {
      const auto& metric = series.at("metric").as_object();
      if (metric.at("route").as_string() == prometheus_path
          && metric.at("status").as_string() == "200" && metric.at("method").as_string() == "GET")
        return std::stod(std::string{series.at("value").as_array().at(1).as_string()}) >= 1;
    }
    return false;
  };
  json::array result;
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (std::chrono::steady_clock::now() < deadline) {
    result = prom.query("medianest_http_requests_total");
    if (scraped(result))
      break;
    std::this_thread::sleep_for(250ms);
  }
  INFO("prometheus log:\n" << prom.log());
  INFO("daemon log:\n" << d.log());
  INFO("last result: " << json::serialize(result));
  REQUIRE(scraped(result));
  for (const auto& series : result)
    CHECK(series.at("metric").at("job").as_string() == "medianest");
  auto up = prom.query("up");
  REQUIRE(up.size() == 1);
  CHECK(up.at(0).at("value").as_array().at(1).as_string() == "1");
  // The histogram and the process families arrive as well (Prometheus asks for OpenMetrics).
  CHECK_FALSE(prom.query("medianest_http_request_duration_seconds_bucket").empty());
  CHECK_FALSE(prom.query("process_cpu_seconds_total").empty());
  // Its data directory is the temporary one.
  CHECK(std::filesystem::exists(prom.dir() / "data"));
}

TEST_CASE("the endpoint needs an admin token unless the daemon runs with prometheus-public") {
  http_client c;
  {
    daemon_process d;
    auto url = d.base_url() + prometheus_path;
    auto none = c.get(url);
    CHECK(none.status == 401);
    CHECK(none.header("www-authenticate") == "Bearer");
    CHECK(c.get(url, {bearer(d.token("user"))}).status == 403);
    auto admin = c.get(url, {bearer(d.token("admin"))});
    CHECK(admin.status == 200);
    CHECK(admin.body.find("# TYPE medianest_collector_up gauge") != std::string::npos);
  }
  {
    daemon_process d{{{"--prometheus-public"}, {}, {}}};
    auto url = d.base_url() + prometheus_path;
    auto none = c.get(url);
    CHECK(none.status == 200);
    CHECK(none.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    // A token does no harm, and the other endpoints stay closed.
    CHECK(c.get(url, {bearer(d.token("user"))}).status == 200);
    CHECK(c.get(d.base_url() + "/api/v1/performance/metrics").status == 401);
  }
  {
    daemon_process d{{{}, {{"MEDIANEST_PROMETHEUS_PUBLIC", "true"}}, {}}};
    CHECK(c.get(d.base_url() + prometheus_path).status == 200);
  }
}

TEST_CASE("the Accept header switches the exposition to OpenMetrics") {
  daemon_process d{{fast_sampling, {}, {}}};
  http_client c;
  auto admin = bearer(d.token("admin"));
  REQUIRE(c.get(d.base_url() + "/health").status == 200);
  auto om = scrape_until(
    d, {admin, "Accept: application/openmetrics-text; version=1.0.0; charset=utf-8"},
    [](const std::string& body) { return body.find("route=\"/health\"") != std::string::npos; });
  REQUIRE(om.status == 200);
  INFO(om.body);
  CHECK(om.header("content-type")
        == "application/openmetrics-text; version=1.0.0; charset=utf-8");
  CHECK(om.header("vary") == "Accept");
  REQUIRE(om.body.size() > 6);
  CHECK(om.body.substr(om.body.size() - 6) == "# EOF\n");
  CHECK(om.body.find("# TYPE medianest_http_requests counter\n") != std::string::npos);
  CHECK(om.body.find("# TYPE process_cpu_seconds counter\n") != std::string::npos);
  CHECK(om.body.find("\nmedianest_http_requests_total{") != std::string::npos);
  std::string output;
  auto status = openmetrics_check(om.body, output);
  INFO("OpenMetrics parser: " << output);
  CHECK(status == 0);
  // What Prometheus sends gets OpenMetrics; a plain client or text/plain the text format.
  auto prom_accept = "Accept: application/openmetrics-text;version=1.0.0,application/"
                     "openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/"
                     "*;q=0.1";
  CHECK(c.get(d.base_url() + prometheus_path, {admin, prom_accept}).header("content-type")
        == "application/openmetrics-text; version=1.0.0; charset=utf-8");
  for (std::string accept : {"Accept: */*", "Accept: text/plain", "Accept: application/json"}) {
    auto text = c.get(d.base_url() + prometheus_path, {admin, accept});
    INFO(accept);
    CHECK(text.status == 200);
    CHECK(text.header("content-type") == "text/plain; version=0.0.4; charset=utf-8");
    CHECK(text.body.find("# EOF") == std::string::npos);
    CHECK(text.body.find("# TYPE medianest_http_requests_total counter\n") != std::string::npos);
  }
}
