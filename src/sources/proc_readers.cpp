#include "sources/proc_readers.hpp"

#include <fcntl.h>
#include <malloc.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <span>
#include <system_error>

namespace medianest::sources {

namespace fs = std::filesystem;

namespace {

// -- reading -------------------------------------------------------------------

/// The initial size of the reused buffers; procfs files of a small host fit.
constexpr size_t initial_buffer = 4096;

/// A file larger than this is not a procfs file we understand.
constexpr size_t max_file_size = 16 * 1024 * 1024;

std::string errno_message(std::string_view what, std::string_view file, int err) {
  std::string out{what};
  out.append(" ").append(file).append(": ").append(std::generic_category().message(err));
  return out;
}

std::string parse_error(std::string_view file, std::string_view detail) {
  std::string out{"cannot parse "};
  out.append(file).append(": ").append(detail);
  return out;
}

int open_read_only(const char* path) {
  int fd;
  do {
    fd = ::open(path, O_RDONLY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  return fd;
}

/// Reads into [buf, buf + capacity) until end of file or the buffer is full. Returns the bytes
/// read, or -1 with errno set.
ssize_t read_until_full(int fd, char* buf, size_t capacity) {
  size_t len = 0;
  while (len < capacity) {
    ssize_t n = ::read(fd, buf + len, capacity - len);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      break;
    len += static_cast<size_t>(n);
  }
  return static_cast<ssize_t>(len);
}

/// Reads the start of a file, up to buf.size() bytes: for files whose interesting part is at
/// the start, or that are small.
std::optional<std::string_view> read_prefix(const std::string& path, std::span<char> buf,
                                            std::string& error) {
  int fd = open_read_only(path.c_str());
  if (fd < 0) {
    error = errno_message("cannot open", path, errno);
    return std::nullopt;
  }
  ssize_t n = read_until_full(fd, buf.data(), buf.size());
  int err = errno;
  ::close(fd);
  if (n < 0) {
    error = errno_message("cannot read", path, err);
    return std::nullopt;
  }
  return std::string_view{buf.data(), static_cast<size_t>(n)};
}

/// Reads a whole file into `storage`, which keeps its size between calls so that it grows to
/// the largest file seen once and is not allocated again.
std::optional<std::string_view> read_whole(const std::string& path, std::string& storage,
                                           std::string& error) {
  int fd = open_read_only(path.c_str());
  if (fd < 0) {
    error = errno_message("cannot open", path, errno);
    return std::nullopt;
  }
  if (storage.size() < initial_buffer)
    storage.resize(initial_buffer);
  size_t len = 0;
  for (;;) {
    ssize_t n = read_until_full(fd, storage.data() + len, storage.size() - len);
    if (n < 0) {
      error = errno_message("cannot read", path, errno);
      ::close(fd);
      return std::nullopt;
    }
    len += static_cast<size_t>(n);
    if (len < storage.size())
      break;
    if (storage.size() >= max_file_size) {
      error = path + " is larger than expected";
      ::close(fd);
      return std::nullopt;
    }
    storage.resize(storage.size() * 2);
  }
  ::close(fd);
  return std::string_view{storage.data(), len};
}

std::string join(const fs::path& root, std::string_view leaf) {
  return (root / leaf).string();
}

// -- parsing -------------------------------------------------------------------

bool is_blank(char c) {
  return c == ' ' || c == '\t';
}

void skip_blanks(std::string_view& text) {
  size_t i = 0;
  while (i < text.size() && is_blank(text[i]))
    ++i;
  text.remove_prefix(i);
}

/// The next line without its '\n'; consumes it from `text`.
std::string_view next_line(std::string_view& text) {
  auto nl = text.find('\n');
  auto line = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  return line;
}

/// The next blank-separated token; consumes it from `text`.
std::string_view take_token(std::string_view& text) {
  skip_blanks(text);
  size_t end = 0;
  while (end < text.size() && !is_blank(text[end]) && text[end] != '\n')
    ++end;
  auto token = text.substr(0, end);
  text.remove_prefix(end);
  return token;
}

/// Parses a number after optional blanks; consumes it from `text`.
template <class T>
bool take_number(std::string_view& text, T& out) {
  skip_blanks(text);
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{})
    return false;
  text.remove_prefix(static_cast<size_t>(end - text.data()));
  return true;
}

/// Parses a whole token as a number.
template <class T>
bool parse_number(std::string_view token, T& out) {
  auto [end, ec] = std::from_chars(token.data(), token.data() + token.size(), out);
  return ec == std::errc{} && end == token.data() + token.size();
}

/// `later - earlier` of a counter, or 0 when it went backwards (a reset or a new device).
uint64_t counter_delta(uint64_t later, uint64_t earlier) {
  return later >= earlier ? later - earlier : 0;
}

// -- /proc/stat ----------------------------------------------------------------

struct cpu_times {
  uint64_t total = 0;
  uint64_t idle = 0;  ///< idle + iowait
};

/// The aggregate "cpu  user nice system idle iowait irq softirq steal guest guest_nice" line.
std::optional<cpu_times> parse_cpu_line(std::string_view text) {
  auto line = next_line(text);
  if (take_token(line) != "cpu")
    return std::nullopt;
  std::array<uint64_t, 8> fields{};  // guest and guest_nice are left out on purpose
  size_t count = 0;
  while (count < fields.size() && take_number(line, fields[count]))
    ++count;
  if (count < 4)
    return std::nullopt;
  cpu_times t;
  for (auto v : fields)
    t.total += v;
  t.idle = fields[3] + fields[4];
  return t;
}

// -- /proc/meminfo -------------------------------------------------------------

/// The value of a "Key:   123 kB" line in bytes.
std::optional<uint64_t> meminfo_value(std::string_view rest) {
  uint64_t value = 0;
  if (!take_number(rest, value))
    return std::nullopt;
  return take_token(rest) == "kB" ? value * 1024 : value;
}

// -- /proc/net/dev -------------------------------------------------------------

/// Adds one "  eth0: rx_bytes rx_packets rx_errs ... tx_bytes tx_packets tx_errs ..." line.
bool add_interface_line(std::string_view line, network_stats& sum) {
  auto colon = line.find(':');
  if (colon == std::string_view::npos)
    return false;
  auto name = line.substr(0, colon);
  skip_blanks(name);
  auto rest = line.substr(colon + 1);
  std::array<uint64_t, 11> f{};
  for (auto& v : f)
    if (!take_number(rest, v))
      return false;
  if (name == "lo")
    return true;
  sum.bytes_received += f[0];
  sum.packets_received += f[1];
  sum.bytes_sent += f[8];
  sum.packets_sent += f[9];
  sum.errors += f[2] + f[10];
  return true;
}

// -- /proc/<pid>/stat ----------------------------------------------------------

struct pid_stat {
  uint64_t utime = 0;
  uint64_t stime = 0;
  uint64_t start_time = 0;
  uint64_t vsize = 0;
  uint64_t rss_pages = 0;
};

/// Fields 14 (utime), 15 (stime), 22 (starttime), 23 (vsize) and 24 (rss) of
/// /proc/<pid>/stat. comm, field 2, may hold blanks and ')' itself, so the fields start after
/// the LAST ')'.
std::optional<pid_stat> parse_pid_stat(std::string_view text) {
  auto close = text.rfind(')');
  if (close == std::string_view::npos || text.find('(') > close)
    return std::nullopt;
  auto rest = text.substr(close + 1);
  pid_stat s;
  // Token 0 is field 3 (state), so field n is token n - 3.
  for (int field = 3; field <= 24; ++field) {
    auto token = take_token(rest);
    if (token.empty())
      return std::nullopt;
    bool ok = true;
    if (field == 14)
      ok = parse_number(token, s.utime);
    else if (field == 15)
      ok = parse_number(token, s.stime);
    else if (field == 22)
      ok = parse_number(token, s.start_time);
    else if (field == 23)
      ok = parse_number(token, s.vsize);
    else if (field == 24)
      ok = parse_number(token, s.rss_pages);
    if (!ok)
      return std::nullopt;
  }
  return s;
}

/// "<root>/<pid>/<leaf>" into `out`, reusing its storage.
void pid_path(std::string& out, std::string_view root, int pid, std::string_view leaf) {
  std::array<char, 16> digits{};
  auto [end, ec] = std::to_chars(digits.data(), digits.data() + digits.size(), pid);
  out.assign(root).append("/").append(digits.data(), end).append("/").append(leaf);
}

/// Whether the process directory `dir` is named `name` by its comm or its argv[0].
bool process_named(const std::string& dir, std::string_view name, std::string& path) {
  std::string ignored;
  std::array<char, 64> comm_buf{};
  path.assign(dir).append("/comm");
  if (auto comm = read_prefix(path, comm_buf, ignored)) {
    auto c = *comm;
    if (!c.empty() && c.back() == '\n')
      c.remove_suffix(1);
    if (c == name)
      return true;
  }
  std::array<char, 4096> cmdline_buf{};
  path.assign(dir).append("/cmdline");
  auto cmdline = read_prefix(path, cmdline_buf, ignored);
  if (!cmdline || cmdline->empty())
    return false;
  auto argv0 = cmdline->substr(0, cmdline->find('\0'));
  auto slash = argv0.rfind('/');
  if (slash != std::string_view::npos)
    argv0.remove_prefix(slash + 1);
  return argv0 == name;
}

} // namespace

// -- cpu -----------------------------------------------------------------------

cpu_usage_reader::cpu_usage_reader(const fs::path& proc_root)
  : stat_path_(join(proc_root, "stat")) {
}

std::optional<double> cpu_usage_reader::sample(std::string& error) {
  // The aggregate line comes first; the rest of /proc/stat (per-CPU, interrupts) is not needed.
  std::array<char, 1024> buf;
  auto text = read_prefix(stat_path_, buf, error);
  if (!text)
    return std::nullopt;
  auto times = parse_cpu_line(*text);
  if (!times) {
    error = parse_error(stat_path_, "no aggregate cpu line");
    return std::nullopt;
  }
  uint64_t total = counter_delta(times->total, prev_total_);
  // iowait may go backwards on some kernels, so the idle delta is signed.
  auto idle = static_cast<double>(static_cast<int64_t>(times->idle - prev_idle_));
  prev_total_ = times->total;
  prev_idle_ = times->idle;
  if (total == 0)
    return 0.0;
  double usage = (static_cast<double>(total) - idle) / static_cast<double>(total) * 100;
  return std::clamp(usage, 0.0, 100.0);
}

unsigned online_cpus() {
  long n = ::sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? static_cast<unsigned>(n) : 1;
}

// -- load and memory -----------------------------------------------------------

std::optional<std::array<double, 3>> read_loadavg(const fs::path& proc_root, std::string& error) {
  auto path = join(proc_root, "loadavg");
  std::array<char, 256> buf;
  auto text = read_prefix(path, buf, error);
  if (!text)
    return std::nullopt;
  std::array<double, 3> load{};
  for (auto& v : load) {
    if (!take_number(*text, v)) {
      error = parse_error(path, "expected three load averages");
      return std::nullopt;
    }
  }
  return load;
}

std::optional<std::array<double, 3>> read_loadavg(std::string& error) {
  return read_loadavg("/proc", error);
}

std::optional<memory_stats> read_meminfo(const fs::path& proc_root, std::string& error) {
  auto path = join(proc_root, "meminfo");
  // MemTotal and MemAvailable are among the first lines.
  std::array<char, 4096> buf;
  auto text = read_prefix(path, buf, error);
  if (!text)
    return std::nullopt;
  std::optional<uint64_t> total;
  std::optional<uint64_t> available;
  while (!text->empty() && !(total && available)) {
    auto line = next_line(*text);
    auto colon = line.find(':');
    if (colon == std::string_view::npos)
      continue;
    auto key = line.substr(0, colon);
    if (key == "MemTotal")
      total = meminfo_value(line.substr(colon + 1));
    else if (key == "MemAvailable")
      available = meminfo_value(line.substr(colon + 1));
  }
  if (!total || !available || *total == 0) {
    error = parse_error(path, "no MemTotal or MemAvailable");
    return std::nullopt;
  }
  memory_stats m;
  m.total = *total;
  m.free = std::min(*available, *total);
  m.used = m.total - m.free;
  m.percentage = static_cast<double>(m.used) / static_cast<double>(m.total) * 100;
  return m;
}

std::optional<memory_stats> read_meminfo(std::string& error) {
  return read_meminfo("/proc", error);
}

void fill_heap_usage(memory_stats& stats) {
  auto info = ::mallinfo2();
  stats.heap_used = info.uordblks + info.hblkhd;
  stats.heap_total = info.arena + info.hblkhd;
}

std::optional<disk_stats> read_disk(const fs::path& dir, std::string& error) {
  struct statvfs st {};
  if (::statvfs(dir.c_str(), &st) != 0) {
    error = errno_message("cannot statvfs", dir.string(), errno);
    return std::nullopt;
  }
  uint64_t unit = st.f_frsize ? st.f_frsize : st.f_bsize;
  disk_stats d;
  d.path = dir.string();
  d.total = st.f_blocks * unit;
  d.free = st.f_bavail * unit;
  d.used = counter_delta(st.f_blocks, st.f_bfree) * unit;
  uint64_t usable = d.used + d.free;
  d.percentage = usable ? static_cast<double>(d.used) / static_cast<double>(usable) * 100 : 0;
  return d;
}

// -- network -------------------------------------------------------------------

network_reader::network_reader(const fs::path& proc_root)
  : dev_path_(join(proc_root, "net/dev")) {
}

std::optional<network_stats> network_reader::read(std::string& error) {
  auto text = read_whole(dev_path_, buffer_, error);
  if (!text)
    return std::nullopt;
  // Two header lines, then one line per interface.
  next_line(*text);
  next_line(*text);
  network_stats sum;
  while (!text->empty()) {
    auto line = next_line(*text);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue;
    if (!add_interface_line(line, sum)) {
      error = parse_error(dev_path_, "malformed interface line");
      return std::nullopt;
    }
  }
  return sum;
}

// -- disks ---------------------------------------------------------------------

diskstats_reader::diskstats_reader(const fs::path& proc_root, const fs::path& sys_root)
  : diskstats_path_(join(proc_root, "diskstats")), sys_block_(sys_root / "class" / "block") {
}

std::optional<storage_stats> diskstats_reader::sample(std::string& error) {
  auto now = std::chrono::steady_clock::now();
  return sample(error, primed_ ? seconds_d{now - last_} : seconds_d{0});
}

std::optional<storage_stats> diskstats_reader::sample(std::string& error, seconds_d elapsed) {
  auto text = read_whole(diskstats_path_, buffer_, error);
  if (!text || !parse(*text, error))
    return std::nullopt;
  last_ = std::chrono::steady_clock::now();
  auto stats = accumulate(elapsed);
  if (!primed_) {
    primed_ = true;
    return storage_stats{};
  }
  return stats;
}

/// "major minor name reads merged sectors_read ms writes merged sectors_written ..." per line,
/// into lines_; nothing is kept when a line is malformed.
bool diskstats_reader::parse(std::string_view text, std::string& error) {
  lines_.clear();
  while (!text.empty()) {
    auto line = next_line(text);
    if (line.find_first_not_of(" \t") == std::string_view::npos)
      continue;
    unsigned major = 0, minor = 0;
    uint64_t ignored = 0;
    device_line d;
    bool ok = take_number(line, major) && take_number(line, minor);
    d.name = take_token(line);
    ok = ok && !d.name.empty() && take_number(line, d.values.reads) &&
         take_number(line, ignored) && take_number(line, d.values.sectors_read) &&
         take_number(line, ignored) && take_number(line, d.values.writes) &&
         take_number(line, ignored) && take_number(line, d.values.sectors_written);
    if (!ok) {
      error = parse_error(diskstats_path_, "malformed device line");
      return false;
    }
    lines_.push_back(d);
  }
  return true;
}

/// Sums the deltas of the whole disks in lines_ and remembers their counters; a device seen
/// for the first time contributes nothing, one gone is forgotten.
storage_stats diskstats_reader::accumulate(seconds_d elapsed) {
  ++generation_;
  storage_stats out;
  for (const auto& d : lines_) {
    if (!is_whole_disk(d.name))
      continue;
    auto it = previous_.find(d.name);
    if (it == previous_.end()) {
      previous_.emplace(std::string{d.name}, device_state{d.values, generation_});
      continue;
    }
    const auto& before = it->second.values;
    out.reads += counter_delta(d.values.reads, before.reads);
    out.writes += counter_delta(d.values.writes, before.writes);
    out.read_bytes += counter_delta(d.values.sectors_read, before.sectors_read) * 512;
    out.write_bytes += counter_delta(d.values.sectors_written, before.sectors_written) * 512;
    it->second = device_state{d.values, generation_};
  }
  std::erase_if(previous_, [this](const auto& entry) {
    return entry.second.generation != generation_;
  });
  double secs = elapsed.count();
  out.iops = secs > 0 ? static_cast<double>(out.reads + out.writes) / secs : 0;
  return out;
}

bool diskstats_reader::is_whole_disk(std::string_view name) {
  // Virtual devices: file, memory or network backed, or stacked on disks counted already.
  static constexpr std::array<std::string_view, 6> virtual_prefixes{"loop", "ram", "zram",
                                                                    "dm-",  "md",  "nbd"};
  for (auto prefix : virtual_prefixes)
    if (name.starts_with(prefix))
      return false;
  // Whether a name is a partition does not change while it exists: ask sysfs once.
  auto cached = whole_disk_.find(name);
  if (cached != whole_disk_.end())
    return cached->second;
  std::error_code ec;
  bool whole = !fs::exists(sys_block_ / name / "partition", ec);
  whole_disk_.emplace(std::string{name}, whole);
  return whole;
}

// -- processes -----------------------------------------------------------------

process_reader::process_reader(const fs::path& proc_root)
  : proc_root_(proc_root.string()), uptime_path_(join(proc_root, "uptime")),
    clock_ticks_(std::max(::sysconf(_SC_CLK_TCK), 1L)),
    page_size_(std::max(::sysconf(_SC_PAGESIZE), 1L)) {
}

std::optional<process_stats> process_reader::sample(int pid, std::string name,
                                                    std::string& error) {
  return sample_at(pid, std::move(name), error, std::chrono::steady_clock::now(), std::nullopt);
}

std::optional<process_stats> process_reader::sample(int pid, std::string name,
                                                    std::string& error, seconds_d elapsed) {
  return sample_at(pid, std::move(name), error, std::chrono::steady_clock::now(), elapsed);
}

void process_reader::forget(int pid) {
  history_.erase(pid);
}

std::optional<process_stats> process_reader::sample_at(int pid, std::string name,
                                                       std::string& error,
                                                       std::chrono::steady_clock::time_point now,
                                                       std::optional<seconds_d> elapsed) {
  pid_path(stat_path_, proc_root_, pid, "stat");
  std::array<char, 2048> buf;
  auto text = read_prefix(stat_path_, buf, error);
  if (!text) {
    forget(pid);
    return std::nullopt;
  }
  auto stat = parse_pid_stat(*text);
  if (!stat) {
    error = parse_error(stat_path_, "malformed stat line");
    forget(pid);
    return std::nullopt;
  }
  auto uptime = read_uptime(error);
  if (!uptime)
    return std::nullopt;

  auto ticks_per_second = static_cast<double>(clock_ticks_);
  process_stats p;
  p.name = std::move(name);
  p.pid = pid;
  p.memory = stat->rss_pages * static_cast<uint64_t>(page_size_);
  double age = *uptime - static_cast<double>(stat->start_time) / ticks_per_second;
  p.uptime = age > 0 ? static_cast<uint64_t>(age) : 0;

  uint64_t ticks = stat->utime + stat->stime;
  auto [it, inserted] = history_.try_emplace(pid);
  auto& h = it->second;
  if (!inserted && h.start_time == stat->start_time) {
    double secs = elapsed ? elapsed->count() : seconds_d{now - h.at}.count();
    double used = static_cast<double>(counter_delta(ticks, h.ticks)) / ticks_per_second;
    p.cpu = secs > 0 ? used / secs * 100 : 0;
  }
  h = history{ticks, stat->start_time, now};
  return p;
}

/// Seconds since boot, the first field of <proc_root>/uptime.
std::optional<double> process_reader::read_uptime(std::string& error) {
  std::array<char, 128> buf;
  auto text = read_prefix(uptime_path_, buf, error);
  if (!text)
    return std::nullopt;
  double up = 0;
  if (!take_number(*text, up)) {
    error = parse_error(uptime_path_, "expected seconds since boot");
    return std::nullopt;
  }
  return up;
}

// -- this process --------------------------------------------------------------

own_process_reader::own_process_reader(const fs::path& proc_root)
  : stat_path_(join(proc_root, "self/stat")), boot_path_(join(proc_root, "stat")),
    fd_dir_(join(proc_root, "self/fd")), clock_ticks_(std::max(::sysconf(_SC_CLK_TCK), 1L)),
    page_size_(std::max(::sysconf(_SC_PAGESIZE), 1L)) {
}

std::optional<double> own_process_reader::read_boot_time(std::string& error) {
  auto text = read_whole(boot_path_, buffer_, error);
  if (!text)
    return std::nullopt;
  auto rest = *text;
  while (!rest.empty()) {
    auto line = next_line(rest);
    if (take_token(line) != "btime")
      continue;
    uint64_t btime = 0;
    if (!take_number(line, btime))
      break;
    return static_cast<double>(btime);
  }
  error = parse_error(boot_path_, "no btime line");
  return std::nullopt;
}

std::optional<own_process_stats> own_process_reader::read(std::string& error) {
  std::array<char, 2048> buf;
  auto text = read_prefix(stat_path_, buf, error);
  if (!text)
    return std::nullopt;
  auto stat = parse_pid_stat(*text);
  if (!stat) {
    error = parse_error(stat_path_, "malformed stat line");
    return std::nullopt;
  }
  // The boot time does not change while the process lives: read it once.
  if (!boot_time_) {
    boot_time_ = read_boot_time(error);
    if (!boot_time_)
      return std::nullopt;
  }
  auto ticks_per_second = static_cast<double>(clock_ticks_);
  own_process_stats out;
  out.cpu_seconds = static_cast<double>(stat->utime + stat->stime) / ticks_per_second;
  out.resident_bytes = stat->rss_pages * static_cast<uint64_t>(page_size_);
  out.virtual_bytes = stat->vsize;
  out.start_time = *boot_time_ + static_cast<double>(stat->start_time) / ticks_per_second;
  std::error_code ec;
  for (fs::directory_iterator it{fd_dir_, ec}, end; !ec && it != end; it.increment(ec))
    ++out.open_fds;
  if (ec) {
    error = errno_message("cannot list", fd_dir_, ec.value());
    return std::nullopt;
  }
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0)
    out.max_fds = limit.rlim_cur;
  return out;
}

std::vector<int> find_pids_by_name(const fs::path& proc_root, std::string_view name) {
  std::vector<int> pids;
  if (name.empty())
    return pids;
  std::string dir;
  std::string path;
  std::error_code ec;
  for (fs::directory_iterator it{proc_root, ec}, end; !ec && it != end; it.increment(ec)) {
    dir = it->path().native();
    auto slash = dir.rfind('/');
    auto entry = std::string_view{dir}.substr(slash == std::string::npos ? 0 : slash + 1);
    int pid = 0;
    if (!parse_number(entry, pid) || pid <= 0)
      continue;
    if (process_named(dir, name, path))
      pids.push_back(pid);
  }
  std::sort(pids.begin(), pids.end());
  return pids;
}

} // namespace medianest::sources
