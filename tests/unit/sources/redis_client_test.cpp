#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "model/human_bytes.hpp"
#include "sources/redis_client.hpp"

using namespace medianest;
using namespace medianest::sources;
using namespace std::chrono_literals;

namespace {

// -- fixtures and helpers --------------------------------------------------------------------

/// A realistic `INFO everything` of Redis 7 (trimmed), with CRLF line endings as the server
/// sends them.
std::string info_fixture() {
  const char* lines[] = {
    "# Server",
    "redis_version:7.0.15",
    "redis_mode:standalone",
    "tcp_port:6379",
    "uptime_in_seconds:86415",
    "uptime_in_days:1",
    "",
    "# Clients",
    "connected_clients:12",
    "cluster_connections:0",
    "maxclients:10000",
    "blocked_clients:0",
    "",
    "# Memory",
    "used_memory:134217728",
    "used_memory_human:128.00M",
    "used_memory_rss:150000000",
    "used_memory_peak:999999999",
    "used_memory_peak_human:953.67M",
    "maxmemory:268435456",
    "maxmemory_human:256.00M",
    "maxmemory_policy:allkeys-lru",
    "mem_fragmentation_ratio:1.12",
    "",
    "# Stats",
    "total_connections_received:1234",
    "total_commands_processed:987654",
    "expired_keys:17",
    "evicted_keys:42",
    "keyspace_hits:9000",
    "keyspace_misses:1000",
    "pubsub_channels:0",
    "",
    "# Commandstats",
    "cmdstat_get:calls=7000,usec=7000,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_mget:calls=100,usec=300,usec_per_call=3.00,rejected_calls=0,failed_calls=0",
    "cmdstat_hget:calls=20,usec=20,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_getdel:calls=5,usec=5,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_set:calls=3000,usec=6000,usec_per_call=2.00,rejected_calls=1,failed_calls=0",
    "cmdstat_setex:calls=400,usec=800,usec_per_call=2.00,rejected_calls=0,failed_calls=0",
    "cmdstat_hset:calls=30,usec=30,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_incr:calls=8,usec=8,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_del:calls=60,usec=60,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_unlink:calls=4,usec=4,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "cmdstat_info:calls=77,usec=7700,usec_per_call=100.00,rejected_calls=0,failed_calls=0",
    "cmdstat_client|list:calls=3,usec=30,usec_per_call=10.00,rejected_calls=0,failed_calls=0",
    "cmdstat_lpush:calls=50,usec=50,usec_per_call=1.00,rejected_calls=0,failed_calls=0",
    "",
    "# Errorstats",
    "errorstat_ERR:count=2",
    "",
    "# Latencystats",
    "latency_percentiles_usec_get:p50=1.003,p99=2.007,p99.9=5.023",
    "",
    "# Keyspace",
    "db0:keys=1500,expires=20,avg_ttl=3600000",
    "db3:keys=25,expires=0,avg_ttl=0",
  };
  std::string text;
  for (const char* line : lines) {
    text += line;
    text += "\r\n";
  }
  return text;
}

/// A reading with just the fields the probe looks at.
redis_info reading(uint64_t hits, uint64_t misses, uint64_t uptime = 100) {
  redis_info info;
  info.keyspace_hits = hits;
  info.keyspace_misses = misses;
  info.uptime_in_seconds = uptime;
  info.used_memory = 1536;
  info.parsed_ok = true;
  return info;
}

/// The test server from MEDIANEST_TEST_REDIS_URL; fails the test when it is not set.
redis_target test_target(int db = 0) {
  const char* url = std::getenv("MEDIANEST_TEST_REDIS_URL");
  if (url == nullptr || *url == '\0') {
    FAIL("MEDIANEST_TEST_REDIS_URL is not set: these [redis] tests need a throw-away server, "
         "start one with `source scripts/test-services.sh && start_redis`");
  }
  std::string error;
  auto target = parse_redis_url(url, error);
  if (!target) {
    FAIL("MEDIANEST_TEST_REDIS_URL is not usable: " << error);
  }
  target->db = db;
  return *target;
}

/// A client of the test server, connected (the test fails otherwise).
redis_client connected_client(int db = 0, std::chrono::milliseconds timeout = 2000ms) {
  redis_client client{test_target(db), timeout};
  std::string error;
  if (!client.connect(error)) {
    FAIL("cannot connect to the test Redis: " << error);
  }
  return client;
}

redis_info read_info(redis_client& client) {
  std::string error;
  auto text = client.info(error);
  if (!text) {
    FAIL("INFO failed: " << error);
  }
  auto info = parse_redis_info(*text);
  REQUIRE(info.parsed_ok);
  return info;
}

void require_ok(redis_client& client, std::initializer_list<std::string_view> args) {
  std::string error;
  INFO("command " << *args.begin());
  REQUIRE(client.command_ok(args, error));
}

/// used_memory as `redis-cli info memory` reports it, or 0 when that failed.
uint64_t used_memory_from_cli(const redis_target& target) {
  const std::string command = "redis-cli -h " + target.host + " -p " +
                              std::to_string(target.port) + " info memory 2>/dev/null";
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) {
    return 0;
  }
  uint64_t used = 0;
  char line[512];
  while (std::fgets(line, sizeof line, pipe) != nullptr) {
    std::string_view text{line};
    if (text.starts_with("used_memory:")) {
      used = std::strtoull(line + std::string_view{"used_memory:"}.size(), nullptr, 10);
    }
  }
  pclose(pipe);
  return used;
}

/// A loopback port nothing listens on (free when asked).
uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
                  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  ::close(fd);
  REQUIRE(ok);
  return ntohs(addr.sin_port);
}

/// A TCP listener that accepts connections into its backlog and never answers: a hung server.
class silent_listener {
public:
  silent_listener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 8) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      FAIL("cannot open a listening socket");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~silent_listener() {
    if (fd_ >= 0) ::close(fd_);
  }
  silent_listener(const silent_listener&) = delete;
  silent_listener& operator=(const silent_listener&) = delete;
  uint16_t port() const { return port_; }

private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

/// A redis-server of the test's own on `port`, stopped (by its pid) when the object goes.
class own_redis_server {
public:
  explicit own_redis_server(uint16_t port) {
    char pattern[] = "/tmp/medianest-redis-test.XXXXXX";
    if (::mkdtemp(pattern) == nullptr) {
      FAIL("mkdtemp failed");
    }
    dir_ = pattern;
    const std::string command =
      "redis-server --bind 127.0.0.1 --port " + std::to_string(port) + " --dir " + dir_.string() +
      " --save '' --appendonly no --daemonize yes --pidfile " + (dir_ / "redis.pid").string() +
      " --logfile " + (dir_ / "redis.log").string();
    if (std::system(command.c_str()) != 0) {
      FAIL("cannot start redis-server (is it on PATH?): " << command);
    }
  }
  ~own_redis_server() {
    std::ifstream pid_file{dir_ / "redis.pid"};
    long pid = 0;
    if (pid_file >> pid && pid > 0) {
      ::kill(static_cast<pid_t>(pid), SIGTERM);
    }
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  own_redis_server(const own_redis_server&) = delete;
  own_redis_server& operator=(const own_redis_server&) = delete;

private:
  std::filesystem::path dir_;
};

/// Sets requirepass on the test server and clears it again however the test ends.
class requirepass_guard {
public:
  requirepass_guard(redis_target target, std::string password)
      : target_(std::move(target)), password_(std::move(password)), admin_(target_, 2000ms) {
    std::string error;
    REQUIRE(admin_.connect(error));
    REQUIRE(admin_.command_ok({"CONFIG", "SET", "requirepass", password_}, error));
  }
  ~requirepass_guard() {
    std::string error;
    if (admin_.command_ok({"CONFIG", "SET", "requirepass", ""}, error)) {
      return;
    }
    auto with_password = target_;
    with_password.password = password_;
    redis_client again{with_password, 2000ms};
    if (!again.connect(error) || !again.command_ok({"CONFIG", "SET", "requirepass", ""}, error)) {
      WARN("could not clear requirepass on the test Redis: " << error);
    }
  }
  requirepass_guard(const requirepass_guard&) = delete;
  requirepass_guard& operator=(const requirepass_guard&) = delete;

private:
  redis_target target_;
  std::string password_;
  redis_client admin_;
};

template <class F>
std::chrono::milliseconds time_of(F&& f) {
  const auto start = std::chrono::steady_clock::now();
  f();
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                               start);
}

} // namespace

// -- parsing (no server) ---------------------------------------------------------------------

TEST_CASE("parse_redis_info reads exact numbers from a CRLF INFO everything text") {
  const auto info = parse_redis_info(info_fixture());
  REQUIRE(info.parsed_ok);
  CHECK(info.uptime_in_seconds == 86415);
  CHECK(info.connected_clients == 12);
  CHECK(info.used_memory == 134217728); // not used_memory_peak nor used_memory_human
  CHECK(info.maxmemory == 268435456);
  CHECK(info.maxmemory_policy == "allkeys-lru");
  CHECK(info.evicted_keys == 42);
  CHECK(info.keyspace_hits == 9000);
  CHECK(info.keyspace_misses == 1000);
  CHECK(info.total_keys == 1525);
  // get 7000 + mget 100 + hget 20 + getdel 5
  CHECK(info.gets == 7125);
  // set 3000 + setex 400 + hset 30 + incr 8 (lpush, info and client|list do not count)
  CHECK(info.sets == 3438);
  // del 60 + unlink 4 + getdel 5
  CHECK(info.deletes == 69);
}

TEST_CASE("parse_redis_info accepts LF endings and a last line without newline") {
  auto text = info_fixture();
  std::string lf;
  for (char c : text) {
    if (c != '\r') lf += c;
  }
  lf.pop_back();
  const auto crlf = parse_redis_info(text);
  const auto plain = parse_redis_info(lf);
  CHECK(plain.parsed_ok);
  CHECK(plain.total_keys == crlf.total_keys);
  CHECK(plain.maxmemory_policy == crlf.maxmemory_policy);
  CHECK(plain.gets == crlf.gets);
  CHECK(plain.used_memory == crlf.used_memory);
}

TEST_CASE("parse_redis_info flags texts without the essential fields") {
  CHECK_FALSE(parse_redis_info("").parsed_ok);
  CHECK_FALSE(parse_redis_info("ERR unknown command 'INFO'").parsed_ok);
  CHECK_FALSE(parse_redis_info("# Memory\r\nused_memory:1024\r\n").parsed_ok);
  const auto broken = parse_redis_info("keyspace_hits:12x\r\nkeyspace_misses:1\r\nused_memory:1\r\n"
                                       "db0:keys=abc,expires=0\r\ndbx:keys=5\r\nnocolon\r\n");
  CHECK_FALSE(broken.parsed_ok); // keyspace_hits is not a number
  CHECK(broken.keyspace_hits == 0);
  CHECK(broken.total_keys == 0);
}

// -- probe (no server) -----------------------------------------------------------------------

TEST_CASE("redis_cache_probe reports the hit rate of the interval") {
  redis_cache_probe probe;
  auto first = probe.update(reading(90, 10));
  CHECK(first.source == "redis");
  CHECK(first.hit_rate == Approx(0.9)); // first reading: lifetime
  CHECK(first.memory_usage == "1.5KB");
  CHECK(first.memory_bytes == 1536);
  auto second = probe.update(reading(95, 25)); // +5 hits, +15 misses
  CHECK(second.hit_rate == Approx(0.25));
}

TEST_CASE("redis_cache_probe shows the lifetime ratio for an idle interval") {
  redis_cache_probe probe;
  probe.update(reading(0, 0));
  CHECK(probe.update(reading(0, 0)).hit_rate == 0.0); // never a lookup
  probe.update(reading(30, 10));
  CHECK(probe.update(reading(30, 10)).hit_rate == Approx(0.75));
}

TEST_CASE("redis_cache_probe restarts its baseline when the counters go back") {
  redis_cache_probe probe;
  probe.update(reading(1000, 1000, 500));
  CHECK(probe.update(reading(4, 1, 2)).hit_rate == Approx(0.8));    // restart: lifetime
  CHECK(probe.update(reading(4, 5, 3)).hit_rate == Approx(0.0));    // +0 hits, +4 misses
  probe.update(reading(10, 10, 100));
  CHECK(probe.update(reading(12, 10, 5)).hit_rate == Approx(12.0 / 22)); // uptime shrank
}

TEST_CASE("redis_cache_probe ignores unparsed readings") {
  redis_cache_probe probe;
  CHECK(probe.update(redis_info{}).source == "redis");
  probe.update(reading(10, 10));
  const auto kept = probe.update(redis_info{});
  CHECK(kept.hit_rate == Approx(0.5));
  CHECK(probe.update(reading(13, 11)).hit_rate == Approx(0.75)); // baseline was (10, 10)
}

// -- client without a server -----------------------------------------------------------------

TEST_CASE("redis_client refuses commands before connect") {
  redis_client client{redis_target{"127.0.0.1", 1, 0, ""}};
  std::string error;
  CHECK_FALSE(client.connected());
  CHECK_FALSE(client.info(error));
  CHECK(error.find("not connected") != std::string::npos);
}

TEST_CASE("redis_client fails fast where nothing listens") {
  redis_client client{redis_target{"127.0.0.1", free_port(), 0, ""}, 500ms};
  std::string error;
  bool ok = true;
  const auto took = time_of([&] { ok = client.connect(error); });
  CHECK_FALSE(ok);
  CHECK_FALSE(client.connected());
  CHECK(error.find("cannot connect") != std::string::npos);
  CHECK(took < 1500ms);
}

TEST_CASE("redis_client gives up on a server that never answers within the timeout") {
  silent_listener hung;
  redis_client client{redis_target{"127.0.0.1", hung.port(), 0, ""}, 300ms};
  std::string error;
  bool ok = true;
  const auto took = time_of([&] { ok = client.connect(error); });
  CHECK_FALSE(ok);
  CHECK_FALSE(client.connected());
  CHECK(error.find("no reply within 300 ms") != std::string::npos);
  CHECK(took >= 250ms);
  CHECK(took < 1500ms);
}

// -- against the real server -----------------------------------------------------------------

TEST_CASE("redis_client counts a known workload exactly", "[redis]") {
  auto db0 = connected_client(0);
  auto db1 = connected_client(1);
  require_ok(db0, {"FLUSHALL"});
  redis_cache_probe probe;
  const auto before = read_info(db0);
  probe.update(before);

  const std::string binary_value{"v\0 \r\n\"quoted\"", 14};
  require_ok(db0, {"SET", "k0 with spaces", binary_value});
  for (int i = 1; i < 7; ++i) {
    require_ok(db0, {"SET", "k" + std::to_string(i), "value" + std::to_string(i)});
  }
  for (int i = 0; i < 3; ++i) {
    require_ok(db1, {"SET", "other" + std::to_string(i), "x"});
  }

  std::string error;
  auto round_trip = db0.command_string({"GET", "k0 with spaces"}, error);
  REQUIRE(round_trip);
  CHECK(*round_trip == binary_value);
  CHECK(db0.command_string({"GET", "k1"}, error) == "value1");
  CHECK(db0.command_string({"GET", "k2"}, error) == "value2");
  CHECK(db0.command_string({"GET", "k3"}, error) == "value3");
  CHECK(db1.command_string({"GET", "other0"}, error) == "x");
  for (auto missing : {"nope1", "nope2", "other1"}) { // other1 lives in db 1 only
    CHECK_FALSE(db0.command_string({"GET", missing}, error));
    CHECK(error.starts_with("nil"));
    CHECK(db0.connected());
  }

  const auto after = read_info(db0);
  CHECK(after.total_keys == 10);
  CHECK(after.keyspace_hits - before.keyspace_hits == 5);
  CHECK(after.keyspace_misses - before.keyspace_misses == 3);
  CHECK(after.gets - before.gets == 8);
  CHECK(after.sets - before.sets == 10);
  CHECK(after.deletes - before.deletes == 0);
  CHECK(db0.command_integer({"DBSIZE"}, error) == 7);
  CHECK(db1.command_integer({"DBSIZE"}, error) == 3);

  const auto sample = probe.update(after);
  CHECK(sample.source == "redis");
  CHECK(sample.hit_rate == Approx(5.0 / 8.0));
  CHECK(sample.total_keys == 10);
  CHECK(sample.memory_bytes == after.used_memory);
  CHECK(sample.memory_usage == human_bytes(after.used_memory));
  CHECK(sample.gets == after.gets);
  CHECK(sample.sets == after.sets);

  // An interval without lookups shows the lifetime ratio, not 0 %.
  const auto idle = read_info(db0);
  const auto idle_sample = probe.update(idle);
  REQUIRE(idle.keyspace_hits == after.keyspace_hits);
  CHECK(idle_sample.hit_rate ==
        Approx(static_cast<double>(idle.keyspace_hits) /
               static_cast<double>(idle.keyspace_hits + idle.keyspace_misses)));

  CHECK(db0.command_integer({"DEL", "k1", "k2"}, error) == 2);
  CHECK(db0.command_integer({"UNLINK", "k3"}, error) == 1);
  CHECK(db1.command_integer({"DEL", "missing"}, error) == 0);
  const auto deleted = read_info(db0);
  CHECK(deleted.total_keys == 7);
  CHECK(deleted.deletes - after.deletes == 3); // calls, not keys
  CHECK(probe.update(deleted).deletes == deleted.deletes);
  require_ok(db0, {"FLUSHALL"});
}

TEST_CASE("redis_client command helpers report error replies and keep the connection", "[redis]") {
  auto client = connected_client();
  std::string error;
  CHECK_FALSE(client.command_ok({"NO-SUCH-COMMAND", "x"}, error));
  CHECK(error.find("ERR") != std::string::npos);
  CHECK(client.connected());
  CHECK(client.command_string({"PING"}, error) == "PONG");
  CHECK(client.command_string({"ECHO", std::string_view{"a\0b", 3}}, error) ==
        std::string{"a\0b", 3});
  CHECK_FALSE(client.command_integer({"PING"}, error));
  CHECK(error.find("expected an integer") != std::string::npos);
  CHECK_FALSE(client.command_string({"DBSIZE"}, error));
  CHECK(error.find("expected a string") != std::string::npos);
  CHECK(client.connected());

  redis_client moved{std::move(client)};
  CHECK(moved.connected());
  CHECK(moved.command_string({"PING"}, error) == "PONG");
}

TEST_CASE("redis_client used_memory agrees with redis-cli within 5 percent", "[redis]") {
  const auto target = test_target();
  auto client = connected_client();
  const auto ours = read_info(client).used_memory;
  const auto theirs = used_memory_from_cli(target);
  REQUIRE(theirs > 0);
  INFO("ours " << ours << " redis-cli " << theirs);
  CHECK(static_cast<double>(ours) == Approx(static_cast<double>(theirs)).epsilon(0.05));
}

TEST_CASE("redis_client reconnects after the server dropped the connection", "[redis]") {
  auto admin = connected_client();
  auto client = connected_client();
  std::string error;
  const auto id = client.command_integer({"CLIENT", "ID"}, error);
  REQUIRE(id);
  CHECK(admin.command_integer({"CLIENT", "KILL", "ID", std::to_string(*id)}, error) == 1);

  CHECK_FALSE(client.info(error));
  CHECK_FALSE(error.empty());
  CHECK_FALSE(client.connected());
  REQUIRE(client.connect(error));
  CHECK(client.info(error));
}

TEST_CASE("redis_client info times out on a paused server and recovers", "[redis]") {
  auto admin = connected_client();
  auto client = connected_client(0, 200ms);
  std::string error;
  REQUIRE(admin.command_ok({"CLIENT", "PAUSE", "1000", "ALL"}, error));
  std::optional<std::string> text;
  const auto took = time_of([&] { text = client.info(error); });
  CHECK_FALSE(text);
  CHECK(error.find("no reply within 200 ms") != std::string::npos);
  CHECK_FALSE(client.connected());
  CHECK(took < 900ms);

  bool recovered = false;
  for (int attempt = 0; attempt < 50 && !recovered; ++attempt) {
    recovered = client.connect(error) && client.info(error).has_value();
    if (!recovered) std::this_thread::sleep_for(100ms);
  }
  CHECK(recovered);
}

TEST_CASE("redis_client connects once a server listens where none did", "[redis]") {
  test_target(); // the suite's server is not used, but [redis] runs need one around anyway
  const uint16_t port = free_port();
  redis_client client{redis_target{"127.0.0.1", port, 0, ""}, 500ms};
  std::string error;
  REQUIRE_FALSE(client.connect(error));
  CHECK(error.find("cannot connect") != std::string::npos);

  {
    own_redis_server server{port};
    bool up = false;
    for (int attempt = 0; attempt < 50 && !up; ++attempt) {
      up = client.connect(error);
      if (!up) std::this_thread::sleep_for(100ms);
    }
    REQUIRE(up);
    CHECK(parse_redis_info(client.info(error).value_or("")).parsed_ok);
    CHECK_FALSE(client.command_ok({"SHUTDOWN", "NOSAVE"}, error)); // the server hangs up
    CHECK_FALSE(client.connected());
  }
  bool down = false;
  for (int attempt = 0; attempt < 50 && !down; ++attempt) {
    down = !client.connect(error);
    if (!down) std::this_thread::sleep_for(100ms);
  }
  CHECK(down);
}

TEST_CASE("redis_client authenticates with the password of the target", "[redis]") {
  const auto target = test_target();
  requirepass_guard guard{target, "secret"};
  std::string error;

  auto with_password = target;
  with_password.password = "secret";
  redis_client good{with_password, 2000ms};
  CHECK(good.connect(error));
  CHECK(parse_redis_info(good.info(error).value_or("")).parsed_ok);

  redis_client none{target, 2000ms};
  CHECK_FALSE(none.connect(error));
  CHECK_FALSE(none.connected());
  CHECK(error.find("NOAUTH") != std::string::npos);
  CHECK(error.find("wants a password") != std::string::npos);

  auto wrong_password = target;
  wrong_password.password = "wrong";
  redis_client wrong{wrong_password, 2000ms};
  CHECK_FALSE(wrong.connect(error));
  CHECK(error.find("authentication failed") != std::string::npos);
  CHECK(error.find("WRONGPASS") != std::string::npos);
}

TEST_CASE("redis_client selects the database of the target", "[redis]") {
  auto db1 = connected_client(1);
  std::string error;
  require_ok(db1, {"SET", "selected-db-probe", "1"});
  CHECK(db1.command_string({"CLIENT", "INFO"}, error).value_or("").find(" db=1 ") !=
        std::string::npos);
  CHECK(db1.command_integer({"DEL", "selected-db-probe"}, error) == 1);

  auto beyond = test_target(99);
  redis_client client{beyond, 2000ms};
  CHECK_FALSE(client.connect(error));
  CHECK_FALSE(client.connected());
  CHECK(error.find("cannot select database 99") != std::string::npos);
}

TEST_CASE("redis_client command_strings reads CONFIG GET as name and value", "[redis]") {
  auto client = connected_client();
  std::string error;
  auto policy = client.command_strings({"CONFIG", "GET", "maxmemory-policy"}, error);
  INFO(error);
  REQUIRE(policy);
  REQUIRE(policy->size() == 2);
  CHECK((*policy)[0] == "maxmemory-policy");
  CHECK_FALSE((*policy)[1].empty());
  // It agrees with what INFO reports.
  CHECK((*policy)[1] == read_info(client).maxmemory_policy);

  // A changed setting reads back changed (and is put back).
  const std::string original = (*policy)[1];
  const std::string other = original == "allkeys-lru" ? "volatile-lru" : "allkeys-lru";
  require_ok(client, {"CONFIG", "SET", "maxmemory-policy", other});
  auto changed = client.command_strings({"CONFIG", "GET", "maxmemory-policy"}, error);
  require_ok(client, {"CONFIG", "SET", "maxmemory-policy", original});
  REQUIRE(changed);
  CHECK(*changed == std::vector<std::string>{"maxmemory-policy", other});

  // A pattern nothing matches is an empty array, not an error.
  auto none = client.command_strings({"CONFIG", "GET", "no-such-setting-*"}, error);
  REQUIRE(none);
  CHECK(none->empty());
}

TEST_CASE("redis_client command_strings gives nil elements as empty strings", "[redis]") {
  auto client = connected_client();
  std::string error;
  require_ok(client, {"SET", "strings-probe-a", std::string_view{"a\0b", 3}});
  require_ok(client, {"DEL", "strings-probe-missing"});
  auto values =
    client.command_strings({"MGET", "strings-probe-a", "strings-probe-missing"}, error);
  CHECK(client.command_integer({"DEL", "strings-probe-a"}, error) == 1);
  REQUIRE(values);
  REQUIRE(values->size() == 2);
  CHECK((*values)[0] == std::string{"a\0b", 3});
  CHECK((*values)[1].empty());
}

TEST_CASE("redis_client command_strings refuses replies that are not arrays of strings",
          "[redis]") {
  auto client = connected_client();
  std::string error;
  // A status reply.
  CHECK_FALSE(client.command_strings({"PING"}, error));
  CHECK(error.find("expected an array reply") != std::string::npos);
  // An integer reply.
  error.clear();
  CHECK_FALSE(client.command_strings({"DBSIZE"}, error));
  CHECK(error.find("expected an array reply") != std::string::npos);
  // An error reply.
  error.clear();
  CHECK_FALSE(client.command_strings({"CONFIG", "GET"}, error));
  CHECK(error.find("ERR") != std::string::npos);
  // An array holding an integer.
  error.clear();
  CHECK_FALSE(client.command_strings({"EVAL", "return {1, 'two'}", "0"}, error));
  CHECK(error.find("expected string elements") != std::string::npos);
  // None of them closes the connection.
  CHECK(client.connected());
  CHECK(client.command_string({"PING"}, error) == "PONG");
}

TEST_CASE("redis_client command_strings refuses commands before connect", "[redis_client]") {
  redis_client client{redis_target{"127.0.0.1", 1, 0, ""}};
  std::string error;
  CHECK_FALSE(client.command_strings({"CONFIG", "GET", "maxmemory-policy"}, error));
  CHECK(error.find("not connected") != std::string::npos);
}
