// The deployment files (Dockerfile, docker-compose.yml, deploy/): each checked by the tool that
// reads it where one is installed here (promtool, amtool, docker-compose, systemd-analyze),
// the rules unit-tested with `promtool test rules`, and every metric the rules and the Grafana
// dashboard use checked against a running daemon's exposition and a real Prometheus that
// scrapes it with the shipped configuration. No container engine runs here: the image itself
// is not built (docs/deployment.md).

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <cctype>
#include <csignal>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "support/daemon_process.hpp"
#include "support/scratch_database.hpp"
#include "support/http_client.hpp"
#include "support/test_servers.hpp"
#include "support/upstream_process.hpp"

using namespace medianest::test;
using namespace std::chrono_literals;
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

/// The repository root (this file is tests/integration/deploy_test.cpp).
const fs::path source_dir = fs::path{__FILE__}.parent_path().parent_path().parent_path();
const std::string prometheus_path = "/api/v1/performance/prometheus";
/// Debian's interpreter, which has python3-yaml (a pyenv shim on PATH may not).
const std::string python = "/usr/bin/python3";

std::string read_text(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    throw std::runtime_error("cannot read " + file.string());
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_text(const fs::path& file, const std::string& text) {
  std::ofstream out(file, std::ios::binary);
  out << text;
}

/// `text` with every `from` replaced by `to`; throws when there is none, so that a
/// configuration that changed shape fails loudly instead of being checked unadjusted.
std::string replaced(std::string text, const std::string& from, const std::string& to) {
  size_t pos = text.find(from);
  if (pos == std::string::npos)
    throw std::runtime_error("'" + from + "' not found");
  for (; pos != std::string::npos; pos = text.find(from, pos + to.size()))
    text.replace(pos, from.size(), to);
  return text;
}

/// A YAML file as JSON (python3-yaml).
json::value yaml_as_json(const fs::path& file) {
  int status = -1;
  auto out = run_command(python + " -c 'import json, sys, yaml; "
                                  "print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "
                           + shell_quoted(file.string()) + " 2>&1",
                         &status);
  if (status != 0)
    throw std::runtime_error("cannot read " + file.string() + " as YAML: " + out);
  return json::parse(out);
}

/// Every alerting or recording rule expression of a Prometheus rule file.
std::vector<std::string> rule_expressions(const fs::path& file) {
  std::vector<std::string> out;
  auto doc = yaml_as_json(file);
  for (const auto& group : doc.at("groups").as_array())
    for (const auto& rule : group.at("rules").as_array())
      out.emplace_back(rule.at("expr").as_string());
  return out;
}

struct dashboard_query {
  std::string panel;
  std::string expr;
};

/// Every query of the Grafana dashboard's panels.
std::vector<dashboard_query> dashboard_queries(const json::value& dashboard) {
  std::vector<dashboard_query> out;
  for (const auto& panel : dashboard.at("panels").as_array()) {
    const auto& p = panel.as_object();
    if (!p.contains("targets"))
      continue;
    for (const auto& target : p.at("targets").as_array())
      out.push_back({std::string{p.at("title").as_string()},
                     std::string{target.at("expr").as_string()}});
  }
  return out;
}

/// The daemon's metric names an expression refers to (medianest_* and process_*).
std::set<std::string> metric_names_in(const std::string& expr) {
  static const std::regex name{R"(\b(medianest|process)_[a-z0-9_]+\b)"};
  std::set<std::string> out;
  for (std::sregex_iterator it{expr.begin(), expr.end(), name}, end; it != end; ++it)
    out.insert(it->str());
  return out;
}

/// The sample names of a text exposition (histograms' _bucket, _sum, _count included).
std::set<std::string> sample_names(const std::string& body) {
  std::set<std::string> out;
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] != '#')
      out.insert(line.substr(0, line.find_first_of("{ ")));
  return out;
}

/// A Grafana query as Prometheus can run it: the dashboard's variables given values.
std::string without_grafana_variables(std::string expr) {
  expr = std::regex_replace(expr, std::regex{R"(\$__rate_interval)"}, "1m");
  return std::regex_replace(expr, std::regex{R"(\$instance)"}, ".*");
}

std::string url_encoded(const std::string& text) {
  std::string out;
  for (unsigned char ch : text) {
    if (std::isalnum(ch) || ch == '_' || ch == '.' || ch == '-' || ch == '~') {
      out += static_cast<char>(ch);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", ch);
      out += buf;
    }
  }
  return out;
}

/// The library packages the Dockerfile's runtime stage installs.
std::set<std::string> runtime_packages(const std::string& dockerfile) {
  auto stage = dockerfile.find("FROM debian:12-slim");
  auto from = dockerfile.find("--no-install-recommends", stage);
  auto to = dockerfile.find("&& rm -rf /var/lib/apt/lists", from);
  if (stage == std::string::npos || from == std::string::npos || to == std::string::npos)
    throw std::runtime_error("no apt-get install in the Dockerfile's runtime stage");
  std::istringstream words(dockerfile.substr(from, to - from));
  std::set<std::string> out;
  std::string word;
  words >> word; // --no-install-recommends
  while (words >> word)
    if (word != "\\")
      out.insert(word);
  return out;
}

/// A daemon with every section the rules and the dashboard read: a gateway (upstream,
/// response cache lookups), Redis as the cache, PostgreSQL as the database, requests that
/// succeed and fail, and one finished optimization run.
class monitored_daemon {
public:
  monitored_daemon()
    : db_("deploy_test_" + std::to_string(::getpid())),
      daemon_({{"--sample-interval", "0.25", "--optimization-window", "1", "--upstream",
                up_.base_url(), "--redis", redis_.url(), "--database", db_.url()},
               {},
               {}}) {
    http_client c;
    for (int i = 0; i < 20; ++i)
      c.get(daemon_.base_url() + "/fast");
    for (int i = 0; i < 3; ++i)
      c.get(daemon_.base_url() + "/fail");
    c.get(daemon_.base_url() + "/health");
    auto admin = bearer(daemon_.token("admin"));
    auto started = c.request("POST", daemon_.base_url() + "/api/v1/performance/optimize",
                             {admin, "Content-Type: application/json"},
                             R"({"optimizations": ["memory_cleanup"]})");
    if (started.status != 202 && started.status != 200)
      throw std::runtime_error("optimization not started: " + started.body);
  }

  daemon_process& daemon() {
    return daemon_;
  }

  /// Scrapes until the exposition holds every family this fixture produces (15 s at most).
  std::string exposition() {
    http_client c;
    auto admin = bearer(daemon_.token("admin"));
    http_result r;
    auto deadline = std::chrono::steady_clock::now() + 15s;
    do {
      r = c.get(daemon_.base_url() + prometheus_path, {admin});
      if (r.status == 200 && r.body.find("medianest_optimization_runs_total{") != std::string::npos
          && r.body.find("medianest_gateway_requests_total") != std::string::npos
          && r.body.find(R"(medianest_cache_info{source="redis"})") != std::string::npos
          && r.body.find(R"(medianest_database_info{backend="postgresql"})") != std::string::npos
          && r.body.find(R"(status="500")") != std::string::npos)
        break;
      std::this_thread::sleep_for(100ms);
    } while (std::chrono::steady_clock::now() < deadline);
    return r.body;
  }

private:
  upstream_process up_;
  private_redis redis_;
  scratch_database db_;
  daemon_process daemon_;
};

/// A real Prometheus server running a given configuration, in a temporary directory removed
/// (after the server is stopped) when the object goes away.
class prometheus_process {
public:
  /// `config(dir)` writes the configuration into `dir` and returns its path.
  template <class WriteConfig>
  explicit prometheus_process(WriteConfig config) : dir_(make_temp_dir("medianest-deploy-prom")) {
    auto file = config(dir_);
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = free_port();
      std::vector<std::string> args{"prometheus", "--config.file=" + file.string(),
                                    "--storage.tsdb.path=" + (dir_ / "data").string(),
                                    "--web.listen-address=127.0.0.1:" + std::to_string(port_),
                                    "--log.level=warn"};
      pid_ = spawn_logged(args, dir_ / "prometheus.log");
      auto deadline = std::chrono::steady_clock::now() + 20s;
      while (std::chrono::steady_clock::now() < deadline && child_running(pid_, exit_code_)) {
        if (client_.get(base_url() + "/-/ready").status == 200)
          return;
        std::this_thread::sleep_for(50ms);
      }
      stop_child(pid_, exit_code_, SIGKILL, 5s);
    }
    auto text = log();
    fs::remove_all(dir_);
    throw std::runtime_error("prometheus did not start; its log:\n" + text);
  }

  ~prometheus_process() {
    stop_child(pid_, exit_code_, SIGTERM, 10s);
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  prometheus_process(const prometheus_process&) = delete;
  prometheus_process& operator=(const prometheus_process&) = delete;

  std::string base_url() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  std::string log() const {
    std::ifstream in(dir_ / "prometheus.log");
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  /// The API's answer to an instant query: {"status": …, "data"|"error": …}.
  json::object query(const std::string& promql) {
    auto r = client_.get(base_url() + "/api/v1/query?query=" + url_encoded(promql));
    if (r.body.empty())
      return {{"status", "error"}, {"error", "no answer: " + r.error}};
    return json::parse(r.body).as_object();
  }

  /// Every rule Prometheus loaded, with its health.
  json::array rules() {
    auto r = client_.get(base_url() + "/api/v1/rules");
    json::array out;
    if (r.status != 200)
      return out;
    auto doc = json::parse(r.body);
    for (const auto& group : doc.at("data").at("groups").as_array())
      for (const auto& rule : group.at("rules").as_array())
        out.push_back(rule);
    return out;
  }

private:
  fs::path dir_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
  int exit_code_ = -1;
  http_client client_;
};

/// The shipped prometheus.yml with the paths of the compose stack's mounts pointed at the
/// repository's rule file and `token_file`.
std::string prometheus_config_for(const fs::path& token_file) {
  auto text = read_text(source_dir / "deploy/prometheus/prometheus.yml");
  text = replaced(text, "/etc/prometheus/rules.yml",
                  (source_dir / "deploy/prometheus/rules.yml").string());
  return replaced(text, "/etc/prometheus/secrets/medianest.token", token_file.string());
}

} // namespace

TEST_CASE("the shipped Prometheus configuration passes promtool check config") {
  auto shipped = read_text(source_dir / "deploy/prometheus/prometheus.yml");
  // The scrape job of the issue: the daemon's path, every 15 s, a bearer token from a file.
  CHECK(shipped.find("metrics_path: /api/v1/performance/prometheus") != std::string::npos);
  CHECK(shipped.find("scrape_interval: 15s") != std::string::npos);
  CHECK(shipped.find("credentials_file: /etc/prometheus/secrets/medianest.token")
        != std::string::npos);
  CHECK(shipped.find("alertmanager:9093") != std::string::npos);

  auto dir = make_temp_dir("medianest-deploy");
  write_text(dir / "medianest.token", "token\n");
  write_text(dir / "prometheus.yml", prometheus_config_for(dir / "medianest.token"));
  int status = -1;
  auto out = run_command("promtool check config " + (dir / "prometheus.yml").string() + " 2>&1",
                         &status);
  fs::remove_all(dir);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("SUCCESS: 1 rule files found") != std::string::npos);
}

TEST_CASE("the shipped alerting rules pass promtool check rules and their unit tests") {
  int status = -1;
  auto out = run_command(
    "promtool check rules " + (source_dir / "deploy/prometheus/rules.yml").string() + " 2>&1",
    &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("SUCCESS") != std::string::npos);
  // The unit tests feed series shaped like the exposition and expect the alerts to fire (or
  // not); the response-time ones go through histogram_quantile over the buckets.
  auto tests = run_command("cd " + shell_quoted(source_dir.string())
                             + " && promtool test rules deploy/prometheus/tests/rules_test.yml 2>&1",
                           &status);
  INFO(tests);
  CHECK(status == 0);
  CHECK(tests.find("SUCCESS") != std::string::npos);

  // The thresholds of the spec, each with a `for` and a severity.
  auto rules = yaml_as_json(source_dir / "deploy/prometheus/rules.yml");
  std::map<std::string, std::set<std::string>> severities;
  for (const auto& group : rules.at("groups").as_array())
    for (const auto& rule : group.at("rules").as_array()) {
      const auto& r = rule.as_object();
      INFO(json::serialize(r));
      REQUIRE(r.contains("alert"));
      CHECK(r.contains("for"));
      REQUIRE(r.contains("labels"));
      severities[std::string{r.at("alert").as_string()}].insert(
        std::string{r.at("labels").at("severity").as_string()});
      CHECK(r.at("annotations").as_object().contains("summary"));
      // No quantile selector on the histogram: that series does not exist.
      CHECK(std::string{r.at("expr").as_string()}.find("quantile=") == std::string::npos);
    }
  for (auto name : {"MediaNestHighResponseTime", "MediaNestHighErrorRate",
                    "MediaNestHighMemoryUsage", "MediaNestHighCpuUsage",
                    "MediaNestLowCacheHitRate"}) {
    INFO(name);
    CHECK(severities[name] == std::set<std::string>{"warning", "critical"});
  }
  auto text = read_text(source_dir / "deploy/prometheus/rules.yml");
  CHECK(text.find("histogram_quantile(0.95, sum by (le) "
                  "(rate(medianest_http_request_duration_seconds_bucket[5m]))) > 0.5")
        != std::string::npos);
}

TEST_CASE("the shipped Alertmanager configuration passes amtool check-config") {
  int status = -1;
  auto out = run_command(
    "amtool check-config " + (source_dir / "deploy/alertmanager/alertmanager.yml").string()
      + " 2>&1",
    &status);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("SUCCESS") != std::string::npos);
}

TEST_CASE("every metric the rules and the dashboard use is in a running daemon's exposition") {
  monitored_daemon m;
  auto body = m.exposition();
  auto exported = sample_names(body);
  INFO(body);
  REQUIRE(exported.count("medianest_optimization_runs_total") == 1);

  std::map<std::string, std::string> used; // name -> where
  for (const auto& expr : rule_expressions(source_dir / "deploy/prometheus/rules.yml"))
    for (const auto& name : metric_names_in(expr))
      used.emplace(name, "rules.yml: " + expr);
  auto dashboard = json::parse(
    read_text(source_dir / "deploy/grafana/dashboards/medianest-performance.json"));
  for (const auto& q : dashboard_queries(dashboard))
    for (const auto& name : metric_names_in(q.expr))
      used.emplace(name, "dashboard panel '" + q.panel + "': " + q.expr);
  // The families the issue names are among them.
  for (auto name : {"medianest_http_request_duration_seconds_bucket",
                    "medianest_http_requests_total", "medianest_system_cpu_usage_ratio",
                    "medianest_system_memory_used_bytes", "medianest_system_disk_used_bytes",
                    "medianest_cache_hit_ratio", "medianest_database_query_average_seconds",
                    "medianest_alerts_active", "medianest_optimization_runs_total"}) {
    INFO(name);
    CHECK(used.count(name) == 1);
  }
  for (const auto& [name, where] : used) {
    INFO(name << " used in " << where);
    CHECK(exported.count(name) == 1);
  }
}

TEST_CASE("a real Prometheus runs the shipped configuration against the daemon") {
  monitored_daemon m;
  auto& d = m.daemon();
  REQUIRE(m.exposition().find("medianest_optimization_runs_total{") != std::string::npos);
  auto token = d.token("admin", "--sub prometheus --ttl 315360000");
  prometheus_process prom([&](const fs::path& dir) {
    // The compose stack's names become this test's: the daemon's port, the token file,
    // nothing listening for alerts, and 1 s instead of 15 s so that rates exist at once.
    write_text(dir / "medianest.token", token + "\n");
    auto text = prometheus_config_for(dir / "medianest.token");
    text = replaced(text, "'medianest:4000'", "'127.0.0.1:" + std::to_string(d.port()) + "'");
    text = replaced(text, "'alertmanager:9093'", "'127.0.0.1:1'");
    text = replaced(text, "scrape_interval: 15s", "scrape_interval: 1s");
    text = replaced(text, "scrape_timeout: 10s", "scrape_timeout: 1s");
    text = replaced(text, "evaluation_interval: 15s", "evaluation_interval: 1s");
    write_text(dir / "prometheus.yml", text);
    return dir / "prometheus.yml";
  });
  // The token file authenticates the scrape.
  auto scraped = [&] {
    auto r = prom.query(R"(up{job="medianest"})");
    if (r.at("status").as_string() != "success")
      return false;
    const auto& result = r.at("data").at("result").as_array();
    return !result.empty()
           && result.at(0).at("value").as_array().at(1).as_string() == "1";
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!scraped() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(250ms);
  INFO("prometheus log:\n" << prom.log());
  REQUIRE(scraped());

  // Every rule is loaded and evaluates without error.
  auto expected_rules = rule_expressions(source_dir / "deploy/prometheus/rules.yml").size();
  json::array rules;
  auto evaluated = [&] {
    rules = prom.rules();
    if (rules.size() != expected_rules)
      return false;
    for (const auto& rule : rules)
      if (rule.at("health").as_string() == "unknown")
        return false;
    return true;
  };
  deadline = std::chrono::steady_clock::now() + 30s;
  while (!evaluated() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(250ms);
  INFO("rules: " << json::serialize(rules));
  REQUIRE(rules.size() == expected_rules);
  for (const auto& rule : rules) {
    INFO(json::serialize(rule));
    CHECK(rule.at("health").as_string() == "ok");
  }

  // Every dashboard query runs, and all but the one on Prometheus' own ALERTS (empty while
  // nothing fires) return series once a few scrapes have arrived.
  auto dashboard = json::parse(
    read_text(source_dir / "deploy/grafana/dashboards/medianest-performance.json"));
  auto queries = dashboard_queries(dashboard);
  REQUIRE(queries.size() >= 20);
  auto must_have_data = [](const dashboard_query& q) {
    return q.expr.find("ALERTS") == std::string::npos;
  };
  std::vector<std::pair<dashboard_query, json::object>> answers;
  auto all_answered = [&] {
    answers.clear();
    bool complete = true;
    for (const auto& q : queries) {
      auto r = prom.query(without_grafana_variables(q.expr));
      if (r.at("status").as_string() != "success"
          || (must_have_data(q) && r.at("data").at("result").as_array().empty()))
        complete = false;
      answers.emplace_back(q, std::move(r));
    }
    return complete;
  };
  deadline = std::chrono::steady_clock::now() + 30s;
  while (!all_answered() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(500ms);
  for (const auto& [q, r] : answers) {
    INFO("panel '" << q.panel << "': " << q.expr << "\nanswer: " << json::serialize(r));
    REQUIRE(r.at("status").as_string() == "success");
    if (must_have_data(q))
      CHECK_FALSE(r.at("data").at("result").as_array().empty());
  }
}

TEST_CASE("the Grafana dashboard and its provisioning fit together") {
  auto dashboard = json::parse(
    read_text(source_dir / "deploy/grafana/dashboards/medianest-performance.json"));
  CHECK(dashboard.at("uid").as_string() == "medianest-performance");
  auto datasources = yaml_as_json(source_dir / "deploy/grafana/provisioning/datasources/prometheus.yml");
  const auto& ds = datasources.at("datasources").as_array().at(0);
  CHECK(ds.at("type").as_string() == "prometheus");
  CHECK(ds.at("url").as_string() == "http://prometheus:9090");
  auto providers = yaml_as_json(source_dir / "deploy/grafana/provisioning/dashboards/medianest.yml");
  const auto dashboards_path = std::string{
    providers.at("providers").as_array().at(0).at("options").at("path").as_string()};

  // Every panel asks the provisioned data source.
  std::set<std::string> titles;
  for (const auto& panel : dashboard.at("panels").as_array()) {
    const auto& p = panel.as_object();
    titles.insert(std::string{p.at("title").as_string()});
    if (p.at("type").as_string() == "row")
      continue;
    INFO(p.at("title").as_string());
    CHECK(p.at("datasource").at("uid") == ds.at("uid"));
    for (const auto& target : p.at("targets").as_array())
      CHECK(target.at("datasource").at("uid") == ds.at("uid"));
  }
  // The panels the issue lists.
  for (auto title : {"Response time (all routes)", "Request rate by route",
                     "Error rate (5xx) by route", "CPU usage", "Memory usage", "Disk usage",
                     "Cache hit rate", "Database query time", "Active alerts",
                     "Optimization runs"}) {
    INFO(title);
    CHECK(titles.count(title) == 1);
  }
  std::string response_times;
  for (const auto& q : dashboard_queries(dashboard))
    if (q.panel == "Response time (all routes)")
      response_times += q.expr + "\n";
  for (auto quantile : {"histogram_quantile(0.5,", "histogram_quantile(0.95,",
                        "histogram_quantile(0.99,"}) {
    INFO(response_times);
    CHECK(response_times.find(quantile) != std::string::npos);
  }

  // docker-compose.yml mounts the provisioning and the dashboards where the provider looks.
  auto compose = read_text(source_dir / "docker-compose.yml");
  CHECK(compose.find("./deploy/grafana/provisioning:/etc/grafana/provisioning:ro")
        != std::string::npos);
  CHECK(compose.find("./deploy/grafana/dashboards:" + dashboards_path + ":ro")
        != std::string::npos);
}

TEST_CASE("the compose file parses and gives every service its image and health check") {
  const auto compose_file = source_dir / "docker-compose.yml";
  const auto env_example = source_dir / ".env.example";
  REQUIRE(fs::exists(env_example));
  // The secrets of .env.example (variables of the test's own environment would win).
  const std::string clean_env = "env -u MEDIANEST_JWT_SECRET -u POSTGRES_PASSWORD -u REDIS_PASSWORD"
                                " -u GRAFANA_ADMIN_PASSWORD -u MEDIANEST_UPSTREAM ";
  auto dir = make_temp_dir("medianest-compose");
  int status = -1;
  auto out = run_command(clean_env + "docker-compose --env-file " + shell_quoted(env_example.string())
                           + " -f " + shell_quoted(compose_file.string()) + " config > "
                           + (dir / "resolved.yml").string() + " 2>" + (dir / "errors").string(),
                         &status);
  INFO("docker-compose config: " << read_text(dir / "errors"));
  REQUIRE(status == 0);
  auto resolved = yaml_as_json(dir / "resolved.yml");
  // Without the secrets, compose refuses to start.
  write_text(dir / "empty.env", "");
  auto refused = run_command(clean_env + "docker-compose --env-file "
                               + (dir / "empty.env").string() + " -f "
                               + shell_quoted(compose_file.string()) + " config 2>&1",
                             &status);
  fs::remove_all(dir);
  CHECK(status != 0);
  CHECK(refused.find("set MEDIANEST_JWT_SECRET in .env") != std::string::npos);

  const auto& services = resolved.at("services").as_object();
  std::set<std::string> names;
  for (const auto& kv : services)
    names.insert(std::string{kv.key()});
  CHECK(names == std::set<std::string>{"medianest", "upstream", "postgres", "redis",
                                       "prometheus", "alertmanager", "grafana"});
  std::set<std::string> declared_volumes;
  for (const auto& kv : resolved.at("volumes").as_object())
    declared_volumes.insert(std::string{kv.key()});
  std::set<std::string> with_named_volume;
  for (const auto& kv : services) {
    const std::string name{kv.key()};
    INFO("service " << name);
    const auto& s = kv.value().as_object();
    CHECK((s.contains("image") || s.contains("build")));
    // whoami, the placeholder, has nothing inside to run a check with.
    if (name != "upstream") {
      REQUIRE(s.contains("healthcheck"));
      CHECK_FALSE(s.at("healthcheck").at("test").as_array().empty());
    }
    if (!s.contains("volumes"))
      continue;
    for (const auto& v : s.at("volumes").as_array()) {
      std::string spec{v.as_string()};
      auto source = spec.substr(0, spec.find(':'));
      INFO("volume " << spec);
      if (source.front() == '/') {
        // A bind mount of a shipped file; only the token is the operator's to create.
        if (source.find("deploy/secrets/") == std::string::npos)
          CHECK(fs::exists(source));
      } else {
        CHECK(declared_volumes.count(source) == 1);
        with_named_volume.insert(name);
      }
    }
  }
  // Their state survives the containers.
  for (auto name : {"medianest", "postgres", "redis", "prometheus", "alertmanager", "grafana"}) {
    INFO(name);
    CHECK(with_named_volume.count(name) == 1);
  }

  // The daemon: a gateway in front of the placeholder, on PostgreSQL and Redis, scraped with
  // a token (no public exposition), started once its stores are healthy.
  const auto& medianest = services.at("medianest").as_object();
  CHECK(medianest.at("build").at("context").as_string() == source_dir.string());
  const auto& env = medianest.at("environment").as_object();
  CHECK(env.at("MEDIANEST_UPSTREAM").as_string() == "http://upstream:8080");
  CHECK(std::string{env.at("MEDIANEST_DATABASE").as_string()}.rfind("postgresql://", 0) == 0);
  CHECK(std::string{env.at("MEDIANEST_REDIS").as_string()}.rfind("redis://", 0) == 0);
  CHECK_FALSE(env.contains("MEDIANEST_PROMETHEUS_PUBLIC"));
  CHECK(medianest.at("depends_on").at("postgres").at("condition").as_string()
        == "service_healthy");
  CHECK(medianest.at("depends_on").at("redis").at("condition").as_string() == "service_healthy");

  // Prometheus gets the files at the paths prometheus.yml names.
  std::string prometheus_mounts;
  for (const auto& v : services.at("prometheus").at("volumes").as_array())
    prometheus_mounts += std::string{v.as_string()} + "\n";
  INFO(prometheus_mounts);
  CHECK(prometheus_mounts.find("/deploy/prometheus/prometheus.yml:/etc/prometheus/prometheus.yml")
        != std::string::npos);
  CHECK(prometheus_mounts.find("/deploy/prometheus/rules.yml:/etc/prometheus/rules.yml")
        != std::string::npos);
  CHECK(prometheus_mounts.find(":/etc/prometheus/secrets/medianest.token:ro") != std::string::npos);

  // Every variable the compose file requires is in .env.example.
  auto compose = read_text(compose_file);
  auto example = read_text(env_example);
  static const std::regex required{R"(\$\{([A-Z_]+):\?)"};
  for (std::sregex_iterator it{compose.begin(), compose.end(), required}, end; it != end; ++it) {
    INFO((*it)[1].str());
    CHECK(example.find("\n" + (*it)[1].str() + "=") != std::string::npos);
  }
}

TEST_CASE("the systemd unit passes systemd-analyze verify") {
  auto unit = read_text(source_dir / "deploy/systemd/medianest-perf.service");
  for (auto line : {"User=medianest", "StateDirectory=medianest",
                    "ExecStart=/usr/local/bin/medianest-perf serve --listen 127.0.0.1:4000 "
                    "--data-dir /var/lib/medianest",
                    "EnvironmentFile=-/etc/medianest-perf/env", "Restart=on-failure",
                    "NoNewPrivileges=yes", "ProtectSystem=strict", "ProtectHome=yes",
                    "PrivateTmp=yes", "PrivateDevices=yes", "ProtectKernelTunables=yes",
                    "ProtectKernelModules=yes", "ProtectKernelLogs=yes",
                    "ProtectControlGroups=yes",
                    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX", "RestrictNamespaces=yes",
                    "LockPersonality=yes", "MemoryDenyWriteExecute=yes",
                    "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n"}) {
    INFO(line);
    CHECK(unit.find(line) != std::string::npos);
  }
  // --watch-process reads /proc/<pid> of other users' processes: nothing may hide them.
  CHECK(unit.find("\nProtectProc=") == std::string::npos);
  CHECK(unit.find("\nProcSubset=") == std::string::npos);

  // systemd-analyze comes with the systemd package, which scripts/install-deps.sh installs.
  INFO("systemd-analyze is not installed (scripts/install-deps.sh installs systemd)");
  REQUIRE_FALSE(run_command("command -v systemd-analyze").empty());
  // The unit's binary path does not exist here: verify a copy that runs the built binary.
  auto dir = make_temp_dir("medianest-systemd");
  write_text(dir / "medianest-perf.service",
             replaced(unit, "ExecStart=/usr/local/bin/medianest-perf",
                      std::string{"ExecStart="} + MEDIANEST_BINARY));
  int status = -1;
  auto out = run_command(
    "systemd-analyze verify " + (dir / "medianest-perf.service").string() + " 2>&1", &status);
  fs::remove_all(dir);
  INFO(out);
  CHECK(status == 0);
  CHECK(out.find("medianest-perf.service") == std::string::npos); // no complaint about it
}

TEST_CASE("the Dockerfile builds with the scripts CI runs and installs every library the daemon links") {
  auto dockerfile = read_text(source_dir / "Dockerfile");
  for (auto line : {"FROM debian:12 AS build\n", "RUN scripts/install-deps.sh --build-only",
                    "RUN scripts/build.sh build medianest-perf", "FROM debian:12-slim\n",
                    "USER medianest\n", "VOLUME /var/lib/medianest\n", "EXPOSE 4000\n",
                    "HEALTHCHECK ", "http://127.0.0.1:4000/health",
                    R"(CMD ["serve", "--listen", "0.0.0.0:4000", "--data-dir", "/var/lib/medianest"])"}) {
    INFO(line);
    CHECK(dockerfile.find(line) != std::string::npos);
  }
  // The same build command as scripts/run.sh.
  CHECK(read_text(source_dir / "scripts/run.sh").find("scripts/build.sh build medianest-perf")
        != std::string::npos);
  // --build-only: the toolchain and the -dev packages, none of the test servers.
  int status = -1;
  auto sets = run_command(
    "bash -c 'eval \"$(sed -n \"/^BUILD_PACKAGES=(/,/^)/p;/^TEST_PACKAGES=(/,/^)/p\" "
      + (source_dir / "scripts/install-deps.sh").string()
      + ")\"; echo \" ${BUILD_PACKAGES[*]} \"; echo \" ${TEST_PACKAGES[*]} \"' 2>&1",
    &status);
  INFO(sets);
  REQUIRE(status == 0);
  auto newline = sets.find('\n');
  REQUIRE(newline != std::string::npos);
  auto build_set = sets.substr(0, newline);
  auto test_set = sets.substr(newline + 1);
  for (auto pkg : {" g++ ", " cmake ", " ninja-build ", " catch2 ", " libcaf-dev ", " libsoci-dev "})
    CHECK(build_set.find(pkg) != std::string::npos);
  for (auto pkg : {" redis-server ", " postgresql ", " prometheus ", " chromium "}) {
    CHECK(build_set.find(pkg) == std::string::npos);
    CHECK(test_set.find(pkg) != std::string::npos);
  }
  auto build_only = run_command(
    (source_dir / "scripts/install-deps.sh").string() + " --build-only 2>&1", &status);
  INFO(build_only);
  CHECK(status == 0);

  // Every shared library the built binary needs (NEEDED), and the two it loads with dlopen
  // when configured (libcurl for notifications, libssl for PostgreSQL over TLS), comes from a
  // package the runtime stage installs, or from one debian:12-slim already has.
  auto packages = runtime_packages(dockerfile);
  for (auto base : {"libc6", "libstdc++6", "libgcc-s1"})
    packages.insert(base);
  const std::string binary = MEDIANEST_BINARY;
  auto needed = run_command(
    "for lib in $(readelf -d " + binary
    + " | sed -n 's/.*Shared library: \\[\\(.*\\)\\]/\\1/p') libcurl.so.4 libssl.so.3; do "
      "path=$(/sbin/ldconfig -p | awk -v l=\"$lib\" '$1 == l {print $NF; exit}'); "
      "pkg=$(dpkg -S \"$path\" 2>/dev/null || dpkg -S \"$(readlink -f \"$path\")\" 2>/dev/null); "
      "pkg=${pkg:-none:}; echo \"$lib ${pkg%%:*}\"; done",
    &status);
  INFO(needed);
  std::istringstream lines(needed);
  std::string lib, pkg;
  int checked = 0;
  while (lines >> lib >> pkg) {
    ++checked;
    // A sanitizer build links its runtime; the image is never built with one.
    if (pkg.rfind("libasan", 0) == 0 || pkg.rfind("libubsan", 0) == 0
        || pkg.rfind("liblsan", 0) == 0 || pkg.rfind("libtsan", 0) == 0)
      continue;
    INFO(lib << " comes from " << pkg);
    CHECK(packages.count(pkg) == 1);
  }
  CHECK(checked >= 6);
  CHECK(needed.find("libcaf_core.so") != std::string::npos);
  CHECK(needed.find("libssl.so.3 libssl3") != std::string::npos);
  // PostgreSQL goes through our own client (src/pq/), not Debian's libpq.
  CHECK(needed.find("libpq") == std::string::npos);
}
