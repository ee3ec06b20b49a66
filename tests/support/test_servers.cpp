#include "support/test_servers.hpp"

#include <algorithm>
#include <csignal>
#include <fstream>
#include <pwd.h>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>
#include <vector>

#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

namespace medianest::test {

namespace {

/// The first line of a pid file as a pid, -1 if there is none.
pid_t read_pid(const std::filesystem::path& file) {
  std::ifstream in(file);
  long pid = -1;
  if (!(in >> pid) || pid <= 0)
    return -1;
  return static_cast<pid_t>(pid);
}

/// The parent pid and state of a process from /proc, false once it is gone.
bool proc_stat(pid_t pid, pid_t& ppid, char& state) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  if (!std::getline(in, text))
    return false;
  // "pid (comm) S ppid ...": comm may hold spaces and parentheses, so parse after the last ')'.
  auto close = text.rfind(')');
  if (close == std::string::npos)
    return false;
  std::istringstream rest(text.substr(close + 1));
  long parent = 0;
  rest >> state >> parent;
  ppid = static_cast<pid_t>(parent);
  return true;
}

/// Gone, or a zombie waiting for its reaper: either way it serves nothing any more.
bool process_gone(pid_t pid) {
  pid_t ppid = 0;
  char state = 0;
  return !proc_stat(pid, ppid, state) || state == 'Z' || state == 'X';
}

std::vector<pid_t> children_of(pid_t parent) {
  std::vector<pid_t> out;
  for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
    auto name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
      continue;
    pid_t pid = std::stoi(name), ppid = 0;
    char state = 0;
    if (proc_stat(pid, ppid, state) && ppid == parent)
      out.push_back(pid);
  }
  return out;
}

/// Waits until every process is gone and nothing listens on `port` any more.
void wait_until_dead(const std::vector<pid_t>& pids, uint16_t port, const std::string& what) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (std::chrono::steady_clock::now() < deadline) {
    bool all_gone = std::all_of(pids.begin(), pids.end(), process_gone);
    if (all_gone && !raw_connection(port).connected())
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error(what + " did not die of SIGKILL within 10 s");
}

} // namespace

private_redis::private_redis() : dir_(make_temp_dir("medianest-private-redis")), port_(free_port()) {
  start();
}

private_redis::~private_redis() {
  stop();
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string private_redis::url() const {
  return "redis://127.0.0.1:" + std::to_string(port_);
}

std::string private_redis::cli(const std::string& args) const {
  return run_command("redis-cli -p " + std::to_string(port_) + " " + args + " 2>&1");
}

std::string private_redis::info_field(const std::string& field) const {
  auto out = run_command("redis-cli -p " + std::to_string(port_) + " INFO | grep '^" + field
                         + ":' | cut -d: -f2 | tr -d '\\r'");
  return out;
}

void private_redis::start() {
  int status = 0;
  run_command("redis-server --bind 127.0.0.1 --port " + std::to_string(port_) + " --dir "
                + dir_.string() + " --save '' --appendonly no --daemonize yes --pidfile "
                + (dir_ / "redis.pid").string() + " --logfile " + (dir_ / "redis.log").string(),
              &status);
  if (status != 0)
    throw std::runtime_error("redis-server failed to start");
  for (int i = 0; i < 100; ++i) {
    if (cli("PING") == "PONG")
      return;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  throw std::runtime_error("redis-server did not answer PING");
}

void private_redis::stop() {
  auto pid_file = dir_ / "redis.pid";
  if (!std::filesystem::exists(pid_file))
    return;
  run_command("kill -TERM $(cat " + pid_file.string() + ") 2>/dev/null");
  for (int i = 0; i < 100 && std::filesystem::exists(pid_file); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  for (int i = 0; i < 100 && cli("PING") == "PONG"; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

} // namespace medianest::test

namespace medianest::test {

void private_redis::kill() {
  auto pid_file = dir_ / "redis.pid";
  auto pid = read_pid(pid_file);
  if (pid <= 0)
    throw std::runtime_error("private redis: no pid file to kill");
  ::kill(pid, SIGKILL);
  wait_until_dead({pid}, port_, "redis-server");
  // A SIGKILLed server leaves its pid file behind: start() writes a new one, stop() must not
  // wait for this one to disappear.
  std::filesystem::remove(pid_file);
}

// -- private_postgres -------------------------------------------------------------------

namespace {

bool running_as_root() {
  return ::geteuid() == 0;
}

/// PostgreSQL refuses to run as root: the server's commands run as the postgres user then.
std::string as_postgres(const std::string& command) {
  return running_as_root() ? "runuser -u postgres -- " + command : command;
}

std::filesystem::path postgres_bin() {
  auto from_env = env_or_empty("MEDIANEST_TEST_PG_BIN");
  if (!from_env.empty())
    return from_env;
  auto found = run_command("ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1");
  if (found.empty())
    throw std::runtime_error("no PostgreSQL server binaries under /usr/lib/postgresql");
  return found;
}

} // namespace

private_postgres::private_postgres()
  : dir_(make_temp_dir("medianest-private-pg")), bin_(postgres_bin()) {
  if (running_as_root()) {
    auto* pw = ::getpwnam("postgres");
    if (!pw || ::chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0)
      throw std::runtime_error("cannot give " + dir_.string() + " to the postgres user");
  }
  int status = 0;
  run_command(as_postgres((bin_ / "initdb").string() + " -D " + (dir_ / "data").string()
                          + " -U postgres -A trust --no-sync -E UTF8")
                + " > " + (dir_ / "initdb.log").string() + " 2>&1",
              &status);
  if (status != 0)
    throw std::runtime_error("initdb failed; see " + (dir_ / "initdb.log").string());
  // A port found free can be taken before the server binds it: try a few.
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    try {
      start();
      return;
    } catch (const std::exception&) {
      if (attempt == 2)
        throw;
    }
  }
}

private_postgres::~private_postgres() {
  int status = 0;
  pg_ctl("-m immediate stop", &status);
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string private_postgres::url() const {
  return "postgresql://postgres@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

std::string private_postgres::pg_ctl(const std::string& args, int* status) const {
  return run_command(as_postgres((bin_ / "pg_ctl").string() + " -D " + (dir_ / "data").string()
                                 + " -l " + (dir_ / "server.log").string() + " " + args)
                       + " 2>&1",
                     status);
}

std::string private_postgres::psql(const std::string& sql, int* status) const {
  return run_command("psql -h 127.0.0.1 -p " + std::to_string(port_)
                       + " -U postgres -d postgres -X -q -tAc " + shell_quoted(sql) + " 2>&1",
                     status);
}

void private_postgres::start() {
  int status = 0;
  auto out = pg_ctl("-w -t 30 -o " + shell_quoted("-k " + dir_.string() + " -p "
                                                   + std::to_string(port_)
                                                   + " -c listen_addresses=127.0.0.1 -c fsync=off")
                      + " start",
                    &status);
  if (status != 0)
    throw std::runtime_error("PostgreSQL did not start on port " + std::to_string(port_) + ": "
                             + out);
}

void private_postgres::kill() {
  auto postmaster = read_pid(dir_ / "data" / "postmaster.pid");
  if (postmaster <= 0)
    throw std::runtime_error("private postgres: no postmaster.pid to kill");
  // Stopped, the postmaster can neither fork another backend nor react to its children's
  // death: the listing is complete and every process of the server dies of SIGKILL at once.
  ::kill(postmaster, SIGSTOP);
  for (int i = 0; i < 500; ++i) {
    pid_t ppid = 0;
    char state = 0;
    if (!proc_stat(postmaster, ppid, state) || state == 'T')
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  auto processes = children_of(postmaster);
  processes.push_back(postmaster);
  for (auto pid : processes)
    ::kill(pid, SIGKILL);
  wait_until_dead(processes, port_, "PostgreSQL");
}

void private_postgres::stop() {
  int status = 0;
  pg_ctl("-m fast -w stop", &status);
}

} // namespace medianest::test
