#include "support/daemon_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <sstream>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "support/http_client.hpp"

namespace medianest::test {

uint16_t free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("bind failed");
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::filesystem::path make_temp_dir(const std::string& prefix) {
  std::string tmpl = "/tmp/" + prefix + ".XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  return tmpl;
}

std::string run_command(const std::string& cmd, int* status) {
  std::string out;
  FILE* pipe = ::popen(cmd.c_str(), "r");
  if (!pipe)
    throw std::runtime_error("popen failed: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  int rc = ::pclose(pipe);
  if (status)
    *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  return out;
}

pid_t spawn_logged(std::vector<std::string> args, const std::filesystem::path& log) {
  pid_t pid = ::fork();
  if (pid == 0) {
    int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    ::dup2(fd, 1);
    ::dup2(fd, 2);
    ::close_range(3, ~0U, 0);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execvp(argv[0], argv.data());
    std::_Exit(127);
  }
  return pid;
}

uint64_t proc_status_kb(pid_t pid, const std::string& key) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(key + ":", 0) == 0) {
      std::istringstream fields(line.substr(key.size() + 1));
      uint64_t kb = 0;
      fields >> kb;
      return kb;
    }
  return 0;
}

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? v : "";
}

std::string shell_quoted(const std::string& s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string{"'\\''"} : std::string(1, c);
  return out + "'";
}

daemon_process::daemon_process(options opts) : env_(std::move(opts.env)) {
  data_dir_ = opts.data_dir;
  if (data_dir_.empty()) {
    data_dir_ = make_temp_dir("medianest-test");
    owns_data_dir_ = true;
  }
  log_file_ = opts.log_file.empty() ? data_dir_ / "daemon.log" : opts.log_file;
  for (int attempt = 0; attempt < 3; ++attempt) {
    port_ = free_port();
    std::vector<std::string> args{MEDIANEST_BINARY, "serve", "--listen",
                                  "127.0.0.1:" + std::to_string(port_), "--data-dir",
                                  data_dir_.string()};
    args.insert(args.end(), opts.args.begin(), opts.args.end());
    pid_ = ::fork();
    if (pid_ == 0) {
      int fd = ::open(log_file_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      ::dup2(fd, 2);
      ::dup2(fd, 1);
      // Nothing of the test (its servers' listeners, its clients' connections) lives on in
      // the daemon.
      ::close_range(3, ~0U, 0);
      for (const auto& [k, v] : env_)
        ::setenv(k.c_str(), v.c_str(), 1);
      std::vector<char*> argv;
      for (auto& a : args)
        argv.push_back(a.data());
      argv.push_back(nullptr);
      ::execv(argv[0], argv.data());
      std::_Exit(127);
    }
    http_client client;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    while (std::chrono::steady_clock::now() < deadline) {
      if (!running())
        break;
      if (client.get(base_url() + "/health").status == 200) {
        stopped_on_purpose_ = false; // earlier attempts may have been stopped
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (running())
      stop(SIGKILL);
  }
  throw std::runtime_error("daemon did not start; log:\n" + log());
}

daemon_process::~daemon_process() {
  if (running()) {
    stop(SIGKILL);
  } else if (!stopped_on_purpose_) {
    // It died on its own: its log is the only witness, and it is about to be deleted.
    std::fprintf(stderr, "medianest-perf exited unexpectedly (code %d); its log:\n%s\n",
                 exit_code_, log().c_str());
  }
  if (owns_data_dir_) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir_, ec);
  }
}

std::string daemon_process::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

std::string daemon_process::token(const std::string& role, const std::string& extra_args) const {
  std::string env;
  for (const auto& [k, v] : env_)
    if (k == "MEDIANEST_JWT_SECRET")
      env = k + "='" + v + "' ";
  int status = 0;
  auto out = run_command(env + MEDIANEST_BINARY + std::string{" token --role "} + role
                           + " --data-dir " + data_dir_.string() + " " + extra_args,
                         &status);
  if (status != 0)
    throw std::runtime_error("token command failed: " + out);
  return out;
}

bool child_running(pid_t& pid, int& exit_code) {
  if (pid <= 0)
    return false;
  int status = 0;
  auto r = ::waitpid(pid, &status, WNOHANG);
  if (r == 0)
    return true;
  if (r == pid)
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  pid = -1;
  return false;
}

int stop_child(pid_t& pid, int& exit_code, int signal_number, std::chrono::milliseconds timeout) {
  if (!child_running(pid, exit_code))
    return exit_code;
  ::kill(pid, signal_number);
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (!child_running(pid, exit_code))
      return exit_code;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ::kill(pid, SIGKILL);
  int status = 0;
  ::waitpid(pid, &status, 0);
  pid = -1;
  exit_code = -1; // did not stop in time
  return exit_code;
}

bool daemon_process::running() {
  return child_running(pid_, exit_code_);
}

int daemon_process::stop(int signal_number, std::chrono::milliseconds timeout) {
  stopped_on_purpose_ = true;
  return stop_child(pid_, exit_code_, signal_number, timeout);
}

std::string daemon_process::log() const {
  std::ifstream in(log_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace medianest::test
