#include <catch2/catch.hpp>

#include <map>

#include "app/config.hpp"

using namespace medianest;
using command = cli_outcome::command;

namespace {

std::map<std::string, std::string> fake_env;

const char* fake_getenv(const char* name) {
  auto it = fake_env.find(name);
  return it == fake_env.end() ? nullptr : it->second.c_str();
}

cli_outcome parse(std::vector<const char*> args, std::map<std::string, std::string> env = {}) {
  fake_env = std::move(env);
  args.insert(args.begin(), "medianest-perf");
  return parse_command_line(static_cast<int>(args.size()), args.data(), fake_getenv);
}

} // namespace

TEST_CASE("serve is the default command with the documented defaults") {
  auto out = parse({});
  REQUIRE(out.cmd == command::serve);
  CHECK(out.serve.host == "127.0.0.1");
  CHECK(out.serve.port == 4000);
  CHECK(out.serve.data_dir == "data");
  CHECK_FALSE(out.serve.redis);
  auto db = out.serve.effective_database();
  CHECK(db.backend == database_target::kind::sqlite);
  CHECK(db.connect == "data/medianest.db");
}

TEST_CASE("flags take values with a space or an equals sign") {
  auto out = parse({"serve", "--listen", "0.0.0.0:8080", "--data-dir=/tmp/x", "--log-format",
                    "json", "--redis", "redis://:pw@127.0.0.1:6390/2"});
  REQUIRE(out.cmd == command::serve);
  CHECK(out.serve.host == "0.0.0.0");
  CHECK(out.serve.port == 8080);
  CHECK(out.serve.data_dir == "/tmp/x");
  CHECK(out.serve.log_format == "json");
  REQUIRE(out.serve.redis);
  CHECK(out.serve.redis->host == "127.0.0.1");
  CHECK(out.serve.redis->port == 6390);
  CHECK(out.serve.redis->db == 2);
  CHECK(out.serve.redis->password == "pw");
}

TEST_CASE("environment variables configure / flags override them") {
  auto out = parse({"--listen", "127.0.0.1:5000"},
                   {{"MEDIANEST_LISTEN", "127.0.0.1:6000"}, {"MEDIANEST_LOG_LEVEL", "debug"},
                    {"MEDIANEST_DATABASE", "postgresql://postgres@127.0.0.1:5432/postgres"}});
  REQUIRE(out.cmd == command::serve);
  CHECK(out.serve.port == 5000);
  CHECK(out.serve.log_level == "debug");
  CHECK(out.serve.effective_database().backend == database_target::kind::postgresql);
}

TEST_CASE("bad flags and bad values are errors that say what is wrong") {
  auto unknown = parse({"--bogus"});
  CHECK(unknown.cmd == command::error);
  CHECK_THAT(unknown.text, Catch::Contains("--bogus"));
  auto missing = parse({"--listen"});
  CHECK(missing.cmd == command::error);
  CHECK_THAT(missing.text, Catch::Contains("needs a value"));
  CHECK(parse({"--listen", "nope"}).cmd == command::error);
  CHECK(parse({"--listen", "127.0.0.1:70000"}).cmd == command::error);
  CHECK(parse({"--log-level", "loud"}).cmd == command::error);
  CHECK(parse({"--log-format", "xml"}).cmd == command::error);
  CHECK(parse({"--database", "mysql://x"}).cmd == command::error);
  CHECK(parse({"--redis", "http://x"}).cmd == command::error);
  CHECK(parse({"--upstream", "ftp://x"}).cmd == command::error);
  CHECK(parse({"--http-threads", "0"}).cmd == command::error);
  CHECK(parse({"frobnicate"}).cmd == command::error);
  auto env = parse({}, {{"MEDIANEST_LISTEN", "bad"}});
  CHECK(env.cmd == command::error);
  CHECK_THAT(env.text, Catch::Contains("MEDIANEST_LISTEN"));
}

TEST_CASE("help lists every flag with its environment variable") {
  auto out = parse({"--help"});
  REQUIRE(out.cmd == command::help);
  for (auto flag : {"--listen", "--data-dir", "--database", "--redis", "--upstream",
                    "--log-level", "--log-format", "MEDIANEST_LISTEN", "MEDIANEST_JWT_SECRET",
                    "token"})
    CHECK_THAT(out.text, Catch::Contains(flag));
  CHECK(parse({"--version"}).cmd == command::version);
}

TEST_CASE("token needs a role and takes sub and ttl") {
  CHECK(parse({"token"}).cmd == command::error);
  auto out = parse({"token", "--role", "admin", "--sub", "ops", "--ttl", "600"});
  REQUIRE(out.cmd == command::token);
  CHECK(out.token.role == medianest::http::role::admin);
  CHECK(out.token.subject == "ops");
  CHECK(out.token.ttl_seconds == 600);
  CHECK(parse({"token", "--role", "root"}).cmd == command::error);
}

TEST_CASE("database URLs") {
  std::string err;
  auto sqlite = parse_database_url("sqlite:/var/lib/x.db", err);
  REQUIRE(sqlite);
  CHECK(sqlite->connect == "/var/lib/x.db");
  auto sqlite2 = parse_database_url("sqlite:///var/lib/x.db", err);
  REQUIRE(sqlite2);
  CHECK(sqlite2->connect == "/var/lib/x.db");
  CHECK_FALSE(parse_database_url("sqlite:", err));
  auto pg = parse_database_url("postgres://u@h:1/db", err);
  REQUIRE(pg);
  CHECK(pg->backend == database_target::kind::postgresql);
  CHECK(pg->connect == "user='u' host='h' port='1' dbname='db'");
  auto keywords = parse_database_url("host=h dbname=db sslmode=verify-full", err);
  REQUIRE(keywords);
  CHECK(keywords->connect == "host=h dbname=db sslmode=verify-full");
  // Refused at start, with the client's reason, rather than at the first connection.
  CHECK_FALSE(parse_database_url("postgresql://u@h/db?sslmdoe=require", err));
  CHECK_THAT(err, Catch::Contains("invalid connection option \"sslmdoe\""));
  CHECK_FALSE(parse_database_url("host=h dbname=db sslmode=sometimes", err));
  CHECK_THAT(err, Catch::Contains("invalid sslmode value"));
  CHECK_FALSE(parse_database_url("postgresql://u@h/db%zz", err));
}

TEST_CASE("postgresql URLs become libpq keyword strings") {
  CHECK(postgres_conninfo("postgresql://postgres@127.0.0.1:5432/postgres")
        == "user='postgres' host='127.0.0.1' port='5432' dbname='postgres'");
  CHECK(postgres_conninfo("postgresql://al%40x:p%27w@db.local/app?sslmode=disable")
        == "user='al@x' password='p\\'w' host='db.local' dbname='app' sslmode='disable'");
  CHECK(postgres_conninfo("postgresql://localhost") == "host='localhost'");
}

TEST_CASE("gateway flags configure the upstream pool cache rules limits and breaker") {
  auto off = parse({});
  CHECK(off.serve.gateway.upstream.url.empty());
  auto out = parse({"--upstream", "http://backend:8080/api/", "--upstream-connections", "16",
                    "--upstream-queue", "100", "--upstream-timeout", "2.5", "--cache-route",
                    "/api/v1/media/:id=30", "--cache-route", "/a=5,/b=6", "--rate-limit",
                    "600/60+100", "--shed-queue", "8", "--shed-p95-ms", "750",
                    "--breaker-threshold", "3", "--breaker-cooldown", "4", "--route-template",
                    "/api/v1/users/:user/*"});
  REQUIRE(out.cmd == command::serve);
  const auto& g = out.serve.gateway;
  CHECK(g.upstream.host == "backend");
  CHECK(g.upstream.port == 8080);
  CHECK(g.upstream.base_path == "/api");
  CHECK(g.max_connections == 16);
  CHECK(g.max_queue == 100);
  CHECK(g.response_timeout == std::chrono::milliseconds(2500));
  REQUIRE(g.cache_rules.size() == 3);
  CHECK(g.cache_rules[0].route == "/api/v1/media/:id");
  CHECK(g.cache_rules[0].ttl == std::chrono::seconds(30));
  CHECK(g.cache_rules[2].route == "/b");
  CHECK(g.rate.limit == 600);
  CHECK(g.rate.window == std::chrono::seconds(60));
  CHECK(g.rate.burst == 100);
  CHECK(g.shed_queue == 8);
  CHECK(g.shed_p95_ms == 750);
  CHECK(g.breaker_threshold == 3);
  CHECK(g.breaker_cool_down == std::chrono::seconds(4));
  REQUIRE(g.templates.size() == 1);
  CHECK(g.templates[0].pattern == "/api/v1/users/:user/*");

  auto env = parse({}, {{"MEDIANEST_UPSTREAM", "http://127.0.0.1:9000"},
                        {"MEDIANEST_CACHE_ROUTE", "/x=1,/y=2"}});
  REQUIRE(env.cmd == command::serve);
  CHECK(env.serve.gateway.upstream.port == 9000);
  CHECK(env.serve.gateway.cache_rules.size() == 2);

  auto https = parse({"--upstream", "https://backend"});
  CHECK(https.cmd == command::error);
  CHECK_THAT(https.text, Catch::Contains("https"));
  CHECK(parse({"--cache-route", "/x"}).cmd == command::error);
  CHECK(parse({"--rate-limit", "fast"}).cmd == command::error);
  CHECK(parse({"--route-template", "no-slash"}).cmd == command::error);
  CHECK(parse({"--upstream-connections", "0"}).cmd == command::error);
}

TEST_CASE("prometheus-public is a switch that the environment can set too") {
  CHECK_FALSE(parse({}).serve.prometheus_public);
  auto flag = parse({"--prometheus-public", "--listen", "127.0.0.1:5000"});
  REQUIRE(flag.cmd == command::serve);
  CHECK(flag.serve.prometheus_public);
  CHECK(flag.serve.port == 5000);
  CHECK_FALSE(parse({"--prometheus-public=off"}).serve.prometheus_public);
  CHECK(parse({}, {{"MEDIANEST_PROMETHEUS_PUBLIC", "1"}}).serve.prometheus_public);
  CHECK(parse({}, {{"MEDIANEST_PROMETHEUS_PUBLIC", "true"}}).serve.prometheus_public);
  CHECK_FALSE(parse({}, {{"MEDIANEST_PROMETHEUS_PUBLIC", "off"}}).serve.prometheus_public);
  CHECK(parse({}, {{"MEDIANEST_PROMETHEUS_PUBLIC", "maybe"}}).cmd == command::error);
  auto help = parse({"--help"});
  CHECK_THAT(help.text, Catch::Contains("--prometheus-public "));
  CHECK_THAT(help.text, Catch::Contains("MEDIANEST_PROMETHEUS_PUBLIC"));
}

TEST_CASE("auth-fail-limit takes failures per window with an optional lockout or off") {
  auto defaults = parse({}).serve.auth_failures;
  CHECK(defaults.limit == 10);
  CHECK(defaults.window == std::chrono::seconds(60));
  CHECK(defaults.lockout == std::chrono::seconds(60));
  auto flag = parse({"--auth-fail-limit", "5/30"}).serve.auth_failures;
  CHECK(flag.limit == 5);
  CHECK(flag.window == std::chrono::seconds(30));
  CHECK(flag.lockout == std::chrono::seconds(30)); // the window when not given
  auto lockout = parse({"--auth-fail-limit=20/60:900"}).serve.auth_failures;
  CHECK(lockout.limit == 20);
  CHECK(lockout.lockout == std::chrono::seconds(900));
  CHECK(parse({"--auth-fail-limit", "off"}).serve.auth_failures.limit == 0);
  auto env = parse({}, {{"MEDIANEST_AUTH_FAIL_LIMIT", "3/2:4"}}).serve.auth_failures;
  CHECK(env.limit == 3);
  CHECK(env.window == std::chrono::seconds(2));
  CHECK(env.lockout == std::chrono::seconds(4));
  CHECK(parse({"--auth-fail-limit", "7/7"}, {{"MEDIANEST_AUTH_FAIL_LIMIT", "3/2"}})
          .serve.auth_failures.limit
        == 7);
  for (auto bad : {"10", "0/60", "10/0", "10/60:0", "-1/60", "10/60:x", "ten/60", "10/60/5",
                   "10/90000", ""}) {
    INFO(bad);
    auto out = parse({"--auth-fail-limit", bad});
    CHECK(out.cmd == command::error);
    CHECK_THAT(out.text, Catch::Contains("FAILURES/SECONDS"));
  }
  auto help = parse({"--help"});
  CHECK_THAT(help.text, Catch::Contains("--auth-fail-limit N/SECONDS[:LOCKOUT]"));
  CHECK_THAT(help.text, Catch::Contains("MEDIANEST_AUTH_FAIL_LIMIT"));
}
