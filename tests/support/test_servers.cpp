#include "support/test_servers.hpp"

#include <stdexcept>
#include <thread>

#include "support/daemon_process.hpp"

namespace medianest::test {

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
