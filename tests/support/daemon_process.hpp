#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include <sys/types.h>

namespace medianest::test {

/// The real medianest-perf binary, started on a free loopback port in a fresh data directory
/// and stopped (SIGTERM, then SIGKILL) when the object goes away.
class daemon_process {
public:
  struct options {
    std::vector<std::string> args;
    std::map<std::string, std::string> env;
    /// Reuse a data directory (restart tests); empty: a new temporary one.
    std::filesystem::path data_dir;
    /// Where stdout and stderr go; empty: `daemon.log` in the data directory (a test that
    /// fills the data directory's filesystem keeps the log elsewhere).
    std::filesystem::path log_file;
  };

  explicit daemon_process(options opts = {});
  ~daemon_process();

  daemon_process(const daemon_process&) = delete;
  daemon_process& operator=(const daemon_process&) = delete;

  /// "http://127.0.0.1:PORT".
  std::string base_url() const;
  uint16_t port() const noexcept {
    return port_;
  }
  const std::filesystem::path& data_dir() const noexcept {
    return data_dir_;
  }
  pid_t pid() const noexcept {
    return pid_;
  }

  /// A token minted by `medianest-perf token` against this daemon's data directory.
  std::string token(const std::string& role, const std::string& extra_args = "") const;

  /// Sends a signal and waits for exit; returns the exit code (128+signal if killed).
  int stop(int signal_number = 15, std::chrono::milliseconds timeout = std::chrono::seconds(10));

  /// Whether the process is still running.
  bool running();

  /// Everything the daemon wrote to stderr so far.
  std::string log() const;

private:
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  std::filesystem::path data_dir_;
  std::filesystem::path log_file_;
  bool owns_data_dir_ = false;
  std::map<std::string, std::string> env_;
  int exit_code_ = -1;
  bool stopped_on_purpose_ = false;
};

/// Whether the child `pid` still runs; once it has exited, reaps it, stores its exit code
/// (128+signal if killed) in `exit_code` and sets `pid` to -1.
bool child_running(pid_t& pid, int& exit_code);

/// Sends `signal_number` to the child and waits for it to exit; SIGKILL after `timeout`
/// (exit code -1 then). Returns the exit code.
int stop_child(pid_t& pid, int& exit_code, int signal_number, std::chrono::milliseconds timeout);

/// A port that was free a moment ago on 127.0.0.1.
uint16_t free_port();

/// A fresh directory under /tmp.
std::filesystem::path make_temp_dir(const std::string& prefix);

/// Runs a shell command, returns its stdout (trailing newline removed) and sets `status`.
std::string run_command(const std::string& cmd, int* status = nullptr);

/// Starts `args` (args[0] looked up in PATH) with stdout and stderr appended to `log`;
/// returns the child's pid (the child exits 127 if it cannot run the program).
pid_t spawn_logged(std::vector<std::string> args, const std::filesystem::path& log);

/// A "kB" field of /proc/PID/status ("VmRSS", "VmHWM"...), 0 if it cannot be read.
uint64_t proc_status_kb(pid_t pid, const std::string& key);

/// The environment variable, or an empty string.
std::string env_or_empty(const char* name);

/// `s` as one word for sh: in single quotes, with its own single quotes escaped.
std::string shell_quoted(const std::string& s);

} // namespace medianest::test
