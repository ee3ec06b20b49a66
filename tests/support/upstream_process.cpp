#include "support/upstream_process.hpp"

#include "support/daemon_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <fcntl.h>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace medianest::test {

namespace {

constexpr std::string_view ready_prefix = "listening on ";

} // namespace

upstream_process::upstream_process(unsigned threads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    throw std::runtime_error("upstream_process: pipe failed");
  std::vector<std::string> args{MEDIANEST_TEST_UPSTREAM_BINARY, "--port", "0", "--threads",
                                std::to_string(threads)};
  pid_ = ::fork();
  if (pid_ < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    throw std::runtime_error("upstream_process: fork failed");
  }
  if (pid_ == 0) {
    ::dup2(fds[1], 1); // the copy on 1 is not close-on-exec
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(argv[0], argv.data());
    std::_Exit(127);
  }
  ::close(fds[1]);
  stdout_fd_ = fds[0];

  // Read its stdout up to the first newline: "listening on PORT".
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  bool eof = false;
  while (line.find('\n') == std::string::npos && !eof) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                  deadline - std::chrono::steady_clock::now())
                  .count();
    if (left <= 0)
      break;
    pollfd p{stdout_fd_, POLLIN, 0};
    auto r = ::poll(&p, 1, static_cast<int>(left));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      break;
    char buf[256];
    auto n = ::read(stdout_fd_, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      eof = true;
    else
      line.append(buf, static_cast<size_t>(n));
  }
  auto newline = line.find('\n');
  if (newline != std::string::npos && line.starts_with(ready_prefix)) {
    auto port = std::strtoul(line.c_str() + ready_prefix.size(), nullptr, 10);
    if (port > 0 && port <= 65535) {
      port_ = static_cast<uint16_t>(port);
      return;
    }
  }
  std::string why = eof ? "it exited" : newline == std::string::npos ? "no line within 10 s"
                                                                      : "unexpected line";
  stop(SIGKILL);
  ::close(stdout_fd_);
  stdout_fd_ = -1;
  throw std::runtime_error("medianest-test-upstream (" MEDIANEST_TEST_UPSTREAM_BINARY
                           ") did not start: " + why + " (exit code " + std::to_string(exit_code_)
                           + "); stdout: \"" + line + "\"");
}

upstream_process::~upstream_process() {
  stop(SIGTERM, std::chrono::seconds(5));
  if (stdout_fd_ >= 0)
    ::close(stdout_fd_);
}

std::string upstream_process::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

bool upstream_process::running() {
  return child_running(pid_, exit_code_);
}

int upstream_process::stop(int signal_number, std::chrono::milliseconds timeout) {
  return stop_child(pid_, exit_code_, signal_number, timeout);
}

} // namespace medianest::test
