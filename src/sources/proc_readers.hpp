#pragma once

// Readers of host metrics from procfs, sysfs and statvfs(3). Plain classes, no actors: the
// collectors call them about once a second, so they reuse their buffers, read each file with
// as few read(2) calls as it takes and parse with std::from_chars.
//
// Every reader takes the root of procfs (and of sysfs where it needs it) so that tests can
// point it at fixture files. Nothing here throws: a failure yields std::nullopt and sets
// `error` to a short message naming the file.

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "model/metrics.hpp"

namespace medianest::sources {

/// Seconds as a double, for the intervals the delta readers divide by.
using seconds_d = std::chrono::duration<double>;

/// Busy share of all CPUs, from the aggregate "cpu" line of <proc_root>/stat.
class cpu_usage_reader {
public:
  explicit cpu_usage_reader(const std::filesystem::path& proc_root = "/proc");

  /// CPU usage in % (0-100) of all CPUs since the previous call; the first call measures
  /// since boot. busy = total - (idle + iowait), where total sums user nice system idle
  /// iowait irq softirq steal (guest time is already part of user and nice).
  std::optional<double> sample(std::string& error);

private:
  std::string stat_path_;
  uint64_t prev_total_ = 0;
  uint64_t prev_idle_ = 0;
};

/// The number of online CPUs, sysconf(_SC_NPROCESSORS_ONLN); at least 1.
unsigned online_cpus();

/// The 1, 5 and 15 minute load averages from <proc_root>/loadavg.
std::optional<std::array<double, 3>> read_loadavg(const std::filesystem::path& proc_root,
                                                  std::string& error);

/// read_loadavg of "/proc".
std::optional<std::array<double, 3>> read_loadavg(std::string& error);

/// Host memory from <proc_root>/meminfo in bytes: total = MemTotal, free = MemAvailable,
/// used = total - free. The heap fields stay 0 (see fill_heap_usage).
std::optional<memory_stats> read_meminfo(const std::filesystem::path& proc_root,
                                         std::string& error);

/// read_meminfo of "/proc".
std::optional<memory_stats> read_meminfo(std::string& error);

/// Fills heap_used and heap_total with this process's glibc heap (mallinfo2): used =
/// uordblks + hblkhd, total = arena + hblkhd.
void fill_heap_usage(memory_stats& stats);

/// The filesystem holding `dir`, as df shows it: free is what unprivileged users may use
/// and percentage is used / (used + free) * 100.
std::optional<disk_stats> read_disk(const std::filesystem::path& dir, std::string& error);

/// Cumulative traffic of every interface but "lo", from <proc_root>/net/dev.
class network_reader {
public:
  explicit network_reader(const std::filesystem::path& proc_root = "/proc");

  /// Counters summed over the interfaces since they came up (not deltas).
  std::optional<network_stats> read(std::string& error);

private:
  std::string dev_path_;
  std::string buffer_;
};

/// Block I/O of the whole physical disks, from <proc_root>/diskstats.
///
/// Counted: whole disks (sda, vda, nvme0n1, mmcblk0, ...). Skipped: partitions (those with
/// <sys_root>/class/block/<name>/partition), and virtual devices by name: loop* (file
/// backed), ram* and zram* (memory backed), dm-* and md* (stacked on disks that are counted
/// already) and nbd* (network backed).
class diskstats_reader {
public:
  explicit diskstats_reader(const std::filesystem::path& proc_root = "/proc",
                            const std::filesystem::path& sys_root = "/sys");

  /// I/O since the previous call, timed with a steady clock. The first successful call only
  /// primes the reader and returns zeros.
  std::optional<storage_stats> sample(std::string& error);

  /// As sample(error), with the interval since the previous call given (for tests).
  std::optional<storage_stats> sample(std::string& error, seconds_d elapsed);

private:
  struct counters {
    uint64_t reads = 0;
    uint64_t sectors_read = 0;
    uint64_t writes = 0;
    uint64_t sectors_written = 0;
  };
  struct device_line {
    std::string_view name;
    counters values;
  };
  struct device_state {
    counters values;
    uint64_t generation = 0;
  };

  bool parse(std::string_view text, std::string& error);
  bool is_whole_disk(std::string_view name);
  storage_stats accumulate(seconds_d elapsed);

  std::string diskstats_path_;
  std::filesystem::path sys_block_;
  std::string buffer_;
  std::vector<device_line> lines_;
  std::map<std::string, device_state, std::less<>> previous_;
  std::map<std::string, bool, std::less<>> whole_disk_;
  std::chrono::steady_clock::time_point last_{};
  uint64_t generation_ = 0;
  bool primed_ = false;
};

/// CPU, memory and age of processes tracked by pid, from <proc_root>/<pid>/stat.
class process_reader {
public:
  explicit process_reader(const std::filesystem::path& proc_root = "/proc");

  /// The process `pid`, reported under `name`: cpu is the % of one core it used since the
  /// previous sample of that pid (0 on the first, or when the pid now names a new process),
  /// memory its RSS in bytes and uptime the seconds since it started. A pid that cannot be
  /// read any more is forgotten.
  std::optional<process_stats> sample(int pid, std::string name, std::string& error);

  /// As sample(pid, name, error), with the interval since the previous sample given.
  std::optional<process_stats> sample(int pid, std::string name, std::string& error,
                                      seconds_d elapsed);

  /// Drops the history of `pid`, for a process no longer sampled.
  void forget(int pid);

private:
  struct history {
    uint64_t ticks = 0;       ///< utime + stime
    uint64_t start_time = 0;  ///< starttime in ticks, tells a reused pid apart
    std::chrono::steady_clock::time_point at{};
  };

  std::optional<process_stats> sample_at(int pid, std::string name, std::string& error,
                                         std::chrono::steady_clock::time_point now,
                                         std::optional<seconds_d> elapsed);
  std::optional<double> read_uptime(std::string& error);

  std::string proc_root_;
  std::string uptime_path_;
  std::string stat_path_;
  std::unordered_map<int, history> history_;
  long clock_ticks_;
  long page_size_;
};

/// This process as Prometheus' client libraries export it (process_*): CPU seconds, RSS and
/// virtual size from <proc_root>/self/stat, the start time from it and the boot time of
/// <proc_root>/stat (read once), the entries of <proc_root>/self/fd, and the soft
/// RLIMIT_NOFILE. Listing self/fd opens a descriptor itself, which it counts, as
/// client_golang's reader does.
class own_process_reader {
public:
  explicit own_process_reader(const std::filesystem::path& proc_root = "/proc");

  std::optional<own_process_stats> read(std::string& error);

private:
  std::optional<double> read_boot_time(std::string& error);

  std::string stat_path_;
  std::string boot_path_;
  std::string fd_dir_;
  std::string buffer_;
  std::optional<double> boot_time_;
  long clock_ticks_;
  long page_size_;
};

/// The pids under proc_root whose comm is `name`, or whose argv[0] has `name` as basename
/// (comm is cut at 15 characters), in ascending order.
std::vector<int> find_pids_by_name(const std::filesystem::path& proc_root, std::string_view name);

} // namespace medianest::sources
