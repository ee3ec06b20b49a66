#pragma once

#include <chrono>
#include <cstdint>
#include <string>

#include <sys/types.h>

namespace medianest::test {

/// The medianest-test-upstream binary (tests/support/upstream_server_main.cpp): a real HTTP/1.1
/// server for the gateway tests, started on a port the OS picks and stopped (SIGTERM, then
/// SIGKILL after 5 s) when the object goes away. Its stderr goes to the test's stderr.
class upstream_process {
public:
  /// Starts it with `threads` io threads and waits (10 s at most) for "listening on PORT";
  /// throws std::runtime_error if it does not come.
  explicit upstream_process(unsigned threads = 1);
  ~upstream_process();

  upstream_process(const upstream_process&) = delete;
  upstream_process& operator=(const upstream_process&) = delete;

  uint16_t port() const noexcept {
    return port_;
  }
  /// "http://127.0.0.1:PORT".
  std::string base_url() const;
  pid_t pid() const noexcept {
    return pid_;
  }

  /// Sends a signal and waits for exit (SIGKILL after `timeout`); returns the exit code
  /// (128+signal if killed by one, -1 if it had to be killed).
  int stop(int signal_number = 15, std::chrono::milliseconds timeout = std::chrono::seconds(5));

  /// Whether the process is still running.
  bool running();

private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  int stdout_fd_ = -1;
  int exit_code_ = -1;
};

} // namespace medianest::test
