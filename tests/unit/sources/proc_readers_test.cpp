#include <catch2/catch.hpp>

#include <sched.h>
#include <sys/resource.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

#include "sources/proc_readers.hpp"

using namespace medianest;
using namespace medianest::sources;
using Catch::Matchers::Contains;
namespace fs = std::filesystem;

namespace {

/// Close to the start of the test process, for bounding its uptime.
const auto process_started = std::chrono::steady_clock::now();

/// A fresh directory removed with everything in it at the end of the test.
struct temp_dir {
  fs::path path;

  temp_dir() {
    auto pattern = (fs::temp_directory_path() / "proc_readers_XXXXXX").string();
    if (::mkdtemp(pattern.data()) == nullptr)
      FAIL("mkdtemp failed: " << std::strerror(errno));
    path = pattern;
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  /// Writes `content` to the file `relative`, creating its directories.
  void write(const fs::path& relative, std::string_view content) const {
    auto file = path / relative;
    fs::create_directories(file.parent_path());
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out.write(content.data(), static_cast<std::streamsize>(content.size()));
    REQUIRE(out.good());
  }
};

std::string run_command(const char* command) {
  std::string out;
  FILE* pipe = ::popen(command, "r");
  if (pipe == nullptr)
    return out;
  char buf[256];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, pipe)) > 0)
    out.append(buf, n);
  ::pclose(pipe);
  return out;
}

/// Keeps one core busy for `duration`.
void burn_cpu(std::chrono::milliseconds duration) {
  auto until = std::chrono::steady_clock::now() + duration;
  volatile uint64_t sink = 0;
  while (std::chrono::steady_clock::now() < until)
    for (int i = 0; i < 1000; ++i)
      sink = sink + static_cast<uint64_t>(i);
}

/// The value in kB of a /proc/meminfo key, read with iostreams independently of the reader.
uint64_t meminfo_kb(const std::string& key) {
  std::ifstream in("/proc/meminfo");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    uint64_t value = 0;
    fields >> name >> value;
    if (name == key + ":")
      return value;
  }
  FAIL("no " << key << " in /proc/meminfo");
  return 0;
}

/// The value in kB of a /proc/self/status key ("VmRSS"), read independently of the reader.
uint64_t self_status_kb(const std::string& key) {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string name;
    uint64_t value = 0;
    fields >> name >> value;
    if (name == key + ":")
      return value;
  }
  FAIL("no " << key << " in /proc/self/status");
  return 0;
}

/// /proc/net/dev summed over every interface but lo, read independently of the reader.
network_stats independent_net_dev() {
  std::ifstream in("/proc/net/dev");
  std::string line;
  std::getline(in, line);
  std::getline(in, line);
  network_stats sum;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    REQUIRE(colon != std::string::npos);
    std::istringstream name_stream(line.substr(0, colon));
    std::string name;
    name_stream >> name;
    std::istringstream fields(line.substr(colon + 1));
    uint64_t f[11] = {};
    for (auto& v : f)
      fields >> v;
    if (name == "lo")
      continue;
    sum.bytes_received += f[0];
    sum.packets_received += f[1];
    sum.errors += f[2] + f[10];
    sum.bytes_sent += f[8];
    sum.packets_sent += f[9];
  }
  return sum;
}

/// A /proc/<pid>/stat line with the fields the reader uses set; negative priority and nice
/// too, as real lines have them.
std::string stat_line(int pid, const std::string& comm, uint64_t utime, uint64_t stime,
                      uint64_t start_time, uint64_t rss_pages) {
  std::ostringstream out;
  out << pid << " (" << comm << ") S 1 " << pid << ' ' << pid << " 0 -1 4194304 100 0 0 0 "
      << utime << ' ' << stime << " 0 0 -6 -5 1 0 " << start_time << " 3133440 " << rss_pages
      << " 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
  return out.str();
}

const std::string net_dev_header =
  "Inter-|   Receive                                                |  Transmit\n"
  " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs "
  "drop fifo colls carrier compressed\n";

} // namespace

// -- cpus and load -------------------------------------------------------------

TEST_CASE("online_cpus equals sysconf and the nproc command", "[proc]") {
  long configured = ::sysconf(_SC_NPROCESSORS_ONLN);
  REQUIRE(configured > 0);
  CHECK(online_cpus() == static_cast<unsigned>(configured));

  // nproc honours the affinity mask (and OMP_* variables), so it equals the online count
  // exactly when this process may run on every online CPU.
  auto out = run_command("env -u OMP_NUM_THREADS -u OMP_THREAD_LIMIT nproc");
  unsigned from_nproc = static_cast<unsigned>(std::strtoul(out.c_str(), nullptr, 10));
  REQUIRE(from_nproc > 0);
  cpu_set_t set;
  CPU_ZERO(&set);
  REQUIRE(::sched_getaffinity(0, sizeof set, &set) == 0);
  auto allowed = static_cast<unsigned>(CPU_COUNT(&set));
  if (allowed == online_cpus()) {
    CHECK(from_nproc == online_cpus());
  } else {
    WARN("the affinity mask allows " << allowed << " of " << online_cpus() << " CPUs");
    CHECK(from_nproc == allowed);
    CHECK(from_nproc <= online_cpus());
  }
}

TEST_CASE("read_loadavg matches /proc/loadavg", "[proc]") {
  double expected[3] = {};
  {
    std::ifstream in("/proc/loadavg");
    in >> expected[0] >> expected[1] >> expected[2];
    REQUIRE(in.good());
  }
  std::string error;
  auto load = read_loadavg("/proc", error);
  REQUIRE(load);
  CHECK(error.empty());
  for (int i = 0; i < 3; ++i) {
    CHECK((*load)[i] == Approx(expected[i]).margin(0.05));
    CHECK((*load)[i] >= 0);
  }
  auto default_root = read_loadavg(error);
  REQUIRE(default_root);
  CHECK((*default_root)[2] == Approx(expected[2]).margin(0.05));
}

TEST_CASE("read_loadavg parses a fixture exactly", "[proc]") {
  temp_dir root;
  root.write("loadavg", "0.58 0.70 12.35 1/83 7809\n");
  std::string error;
  auto load = read_loadavg(root.path, error);
  REQUIRE(load);
  CHECK((*load)[0] == 0.58);
  CHECK((*load)[1] == 0.70);
  CHECK((*load)[2] == 12.35);
}

TEST_CASE("cpu_usage_reader computes exact deltas from fixture stat files", "[proc]") {
  temp_dir root;
  //                user nice system idle iowait irq softirq steal guest guest_nice
  root.write("stat", "cpu  100 0 100 700 100 0 0 0 50 0\n"
                     "cpu0 50 0 50 350 50 0 0 0 25 0\n"
                     "intr 12345 0 0\n");
  cpu_usage_reader reader(root.path);
  std::string error;

  // Since boot: total 1000 (guest excluded), idle + iowait 800.
  auto first = reader.sample(error);
  REQUIRE(first);
  CHECK(*first == Approx(20.0));

  // Total +200, idle + iowait +50: 75 % busy; guest grew too and must not count twice.
  root.write("stat", "cpu  220 10 100 740 110 10 10 0 60 0\n");
  auto second = reader.sample(error);
  REQUIRE(second);
  CHECK(*second == Approx(75.0));

  // Nothing changed: a zero delta is 0 %.
  auto third = reader.sample(error);
  REQUIRE(third);
  CHECK(*third == 0.0);
  CHECK(error.empty());
}

TEST_CASE("cpu_usage_reader clamps a backwards iowait to 100", "[proc]") {
  temp_dir root;
  root.write("stat", "cpu  220 10 100 740 110 10 10 0 60 0\n");
  cpu_usage_reader reader(root.path);
  std::string error;
  REQUIRE(reader.sample(error));
  // Total +10 while idle + iowait went back by 5: 150 % computed, clamped.
  root.write("stat", "cpu  235 10 100 740 105 10 10 0 60 0\n");
  auto usage = reader.sample(error);
  REQUIRE(usage);
  CHECK(*usage == 100.0);
}

TEST_CASE("cpu_usage_reader reads a short stat line of an old kernel", "[proc]") {
  temp_dir root;
  root.write("stat", "cpu  30 0 10 60\n");
  cpu_usage_reader reader(root.path);
  std::string error;
  auto usage = reader.sample(error);
  REQUIRE(usage);
  CHECK(*usage == Approx(40.0));
}

TEST_CASE("cpu_usage_reader sees a busy loop on the real host", "[proc]") {
  cpu_usage_reader reader;
  std::string error;
  auto since_boot = reader.sample(error);
  REQUIRE(since_boot);
  CHECK(*since_boot >= 0);
  CHECK(*since_boot <= 100);
  burn_cpu(std::chrono::milliseconds(200));
  auto busy = reader.sample(error);
  REQUIRE(busy);
  CHECK(*busy > 0);
  CHECK(*busy <= 100);
  CHECK(error.empty());
}

// -- memory --------------------------------------------------------------------

TEST_CASE("read_meminfo total equals MemTotal read by the test", "[proc]") {
  uint64_t total = meminfo_kb("MemTotal") * 1024;
  std::string error;
  auto m = read_meminfo("/proc", error);
  REQUIRE(m);
  CHECK(error.empty());
  CHECK(m->total == total);
  CHECK(m->used + m->free == m->total);
  CHECK(m->percentage ==
        Approx(static_cast<double>(m->used) / static_cast<double>(m->total) * 100));
  CHECK(m->percentage > 0);
  CHECK(m->percentage < 100);
  // MemAvailable moves with other processes: allow 5 % of the memory between the two reads.
  auto available = static_cast<double>(meminfo_kb("MemAvailable") * 1024);
  CHECK(static_cast<double>(m->free) == Approx(available).margin(0.05 * static_cast<double>(total)));
  CHECK(m->heap_used == 0);
  CHECK(m->heap_total == 0);
  auto default_root = read_meminfo(error);
  REQUIRE(default_root);
  CHECK(default_root->total == total);
}

TEST_CASE("read_meminfo converts kB to bytes in a fixture", "[proc]") {
  temp_dir root;
  root.write("meminfo", "MemTotal:        1000 kB\n"
                        "MemFree:          100 kB\n"
                        "MemAvailable:     250 kB\n"
                        "Buffers:           10 kB\n");
  std::string error;
  auto m = read_meminfo(root.path, error);
  REQUIRE(m);
  CHECK(m->total == 1024000);
  CHECK(m->free == 256000);
  CHECK(m->used == 768000);
  CHECK(m->percentage == Approx(75.0));
}

TEST_CASE("read_meminfo without MemAvailable is an error naming the file", "[proc]") {
  temp_dir root;
  root.write("meminfo", "MemTotal:        1000 kB\nMemFree:          100 kB\n");
  std::string error;
  CHECK_FALSE(read_meminfo(root.path, error));
  CHECK_THAT(error, Contains((root.path / "meminfo").string()));
}

TEST_CASE("fill_heap_usage grows with a large allocation", "[proc]") {
  memory_stats before;
  fill_heap_usage(before);
  constexpr size_t size = 8 * 1024 * 1024;
  auto* block = static_cast<char*>(std::malloc(size));
  REQUIRE(block != nullptr);
  std::memset(block, 1, size);
  asm volatile("" : : "r"(block) : "memory");  // keep the allocation
  memory_stats after;
  fill_heap_usage(after);
  std::free(block);
  CHECK(after.heap_used <= after.heap_total);
  CHECK(after.total == 0);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  WARN("a sanitizer replaces malloc: mallinfo2 does not see its allocations");
#else
  CHECK(after.heap_used >= before.heap_used + size);
  // The block may come from free space the heap already had (earlier tests in the same
  // process freed some), so the total need not grow by `size`; it must hold what is used.
  CHECK(after.heap_total >= before.heap_used + size);
#endif
}

// -- disk ----------------------------------------------------------------------

TEST_CASE("read_disk of /tmp matches statvfs and df", "[proc]") {
  struct statvfs st {};
  REQUIRE(::statvfs("/tmp", &st) == 0);
  auto unit = static_cast<uint64_t>(st.f_frsize);
  auto total = static_cast<double>(st.f_blocks * unit);

  std::string error;
  auto d = read_disk("/tmp", error);
  REQUIRE(d);
  CHECK(error.empty());
  CHECK(d->path == "/tmp");
  CHECK(d->total == st.f_blocks * unit);
  // Other processes write to /tmp meanwhile: 1 % slack on the moving figures.
  CHECK(static_cast<double>(d->free) == Approx(static_cast<double>(st.f_bavail * unit)).margin(0.01 * total));
  CHECK(static_cast<double>(d->used) ==
        Approx(static_cast<double>((st.f_blocks - st.f_bfree) * unit)).margin(0.01 * total));
  double usable = static_cast<double>(d->used + d->free);
  REQUIRE(usable > 0);
  CHECK(d->percentage == Approx(static_cast<double>(d->used) / usable * 100));
  CHECK(d->percentage >= 0);
  CHECK(d->percentage <= 100);

  auto df = run_command("df -B1 --output=size,avail /tmp");
  std::istringstream lines(df);
  std::string header;
  std::getline(lines, header);
  double df_size = 0, df_avail = 0;
  lines >> df_size >> df_avail;
  REQUIRE(df_size > 0);
  CHECK(static_cast<double>(d->total) == Approx(df_size).epsilon(0.01));
  CHECK(static_cast<double>(d->free) == Approx(df_avail).epsilon(0.01).margin(1 << 20));
}

TEST_CASE("read_disk of a missing directory is an error naming it", "[proc]") {
  temp_dir root;
  auto missing = root.path / "no-such-dir";
  std::string error;
  CHECK_FALSE(read_disk(missing, error));
  CHECK_THAT(error, Contains(missing.string()));
}

// -- network -------------------------------------------------------------------

TEST_CASE("network_reader sums every interface but lo in a fixture", "[proc]") {
  temp_dir root;
  root.write("net/dev", net_dev_header +
                          "    lo:    5000      50    1    0    0     0          0         0"
                          "     5000      50    2    0    0     0       0          0\n"
                          "  eth0:    1000      10    3    0    0     0          0         0"
                          "     2000      20    4    0    0     0       0          0\n"
                          "wlan0:300 3 0 7 0 0 0 0 400 4 5 0 0 0 0 0\n");
  network_reader reader(root.path);
  std::string error;
  auto net = reader.read(error);
  REQUIRE(net);
  CHECK(net->bytes_received == 1300);
  CHECK(net->bytes_sent == 2400);
  CHECK(net->packets_received == 13);
  CHECK(net->packets_sent == 24);
  CHECK(net->errors == 12);
  // Cumulative: the same file reads the same again.
  auto again = reader.read(error);
  REQUIRE(again);
  CHECK(again->bytes_received == 1300);
}

TEST_CASE("network_reader reads the real net dev between two independent reads", "[proc]") {
  auto before = independent_net_dev();
  network_reader reader;
  std::string error;
  auto net = reader.read(error);
  auto after = independent_net_dev();
  REQUIRE(net);
  CHECK(error.empty());
  CHECK(net->bytes_received >= before.bytes_received);
  CHECK(net->bytes_received <= after.bytes_received);
  CHECK(net->bytes_sent >= before.bytes_sent);
  CHECK(net->bytes_sent <= after.bytes_sent);
  CHECK(net->packets_received >= before.packets_received);
  CHECK(net->packets_received <= after.packets_received);
  CHECK(net->packets_sent >= before.packets_sent);
  CHECK(net->packets_sent <= after.packets_sent);
  CHECK(net->errors >= before.errors);
  CHECK(net->errors <= after.errors);
}

// -- block devices -------------------------------------------------------------

TEST_CASE("diskstats_reader counts only whole physical disks", "[proc]") {
  temp_dir proc;
  temp_dir sys;
  fs::create_directories(sys.path / "class/block/sda");
  fs::create_directories(sys.path / "class/block/nvme0n1");
  sys.write("class/block/sda1/partition", "1\n");
  //        major minor name reads merged sectors ms writes merged sectors ms ...
  proc.write("diskstats",
             "   8       0 sda 1000 10 8000 100 500 5 4000 50 0 0 0 0 0 0 0 0 0\n"
             "   8       1 sda1 900 10 7000 90 400 5 3000 40 0 0 0 0 0 0 0 0 0\n"
             " 259       0 nvme0n1 200 0 1600 10 100 0 800 5 0 0 0\n"
             "   7       0 loop0 50 0 400 5 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
             " 253       0 dm-0 700 0 5600 70 300 0 2400 30 0 0 0 0 0 0 0 0 0\n");
  diskstats_reader reader(proc.path, sys.path);
  std::string error;

  auto first = reader.sample(error, seconds_d{2.0});
  REQUIRE(first);
  CHECK(first->reads == 0);
  CHECK(first->writes == 0);
  CHECK(first->read_bytes == 0);
  CHECK(first->write_bytes == 0);
  CHECK(first->iops == 0);

  proc.write("diskstats",
             "   8       0 sda 1100 10 8800 100 550 5 4400 50 0 0 0 0 0 0 0 0 0\n"
             "   8       1 sda1 5900 10 97000 90 4400 5 93000 40 0 0 0 0 0 0 0 0 0\n"
             " 259       0 nvme0n1 260 0 2080 10 140 0 1120 5 0 0 0\n"
             "   7       0 loop0 1050 0 8400 5 1000 0 8000 0 0 0 0 0 0 0 0 0 0\n"
             " 253       0 dm-0 1200 0 9600 70 800 0 6400 30 0 0 0 0 0 0 0 0 0\n");
  auto second = reader.sample(error, seconds_d{2.0});
  REQUIRE(second);
  CHECK(second->reads == 160);
  CHECK(second->writes == 90);
  CHECK(second->read_bytes == (800 + 480) * 512);
  CHECK(second->write_bytes == (400 + 320) * 512);
  CHECK(second->iops == Approx(125.0));
  CHECK(error.empty());
}

TEST_CASE("diskstats_reader ignores a counter reset and primes a new disk", "[proc]") {
  temp_dir proc;
  temp_dir sys;
  proc.write("diskstats", "8 0 sda 1000 0 8000 0 500 0 4000 0 0 0 0\n"
                          "8 16 sdb 10 0 80 0 10 0 80 0 0 0 0\n");
  diskstats_reader reader(proc.path, sys.path);
  std::string error;
  REQUIRE(reader.sample(error, seconds_d{1.0}));

  // sda was replaced (its counters restarted), sdc appeared: neither counts yet.
  proc.write("diskstats", "8 0 sda 5 0 40 0 5 0 40 0 0 0 0\n"
                          "8 16 sdb 20 0 160 0 10 0 80 0 0 0 0\n"
                          "8 32 sdc 700 0 5600 0 0 0 0 0 0 0 0\n");
  auto second = reader.sample(error, seconds_d{1.0});
  REQUIRE(second);
  CHECK(second->reads == 10);
  CHECK(second->writes == 0);
  CHECK(second->read_bytes == 80 * 512);
  CHECK(second->iops == Approx(10.0));

  // From now on both count; sdb vanished and is not missed.
  proc.write("diskstats", "8 0 sda 8 0 64 0 6 0 48 0 0 0 0\n"
                          "8 32 sdc 704 0 5632 0 1 0 8 0 0 0 0\n");
  auto third = reader.sample(error, seconds_d{0.5});
  REQUIRE(third);
  CHECK(third->reads == 7);
  CHECK(third->writes == 2);
  CHECK(third->read_bytes == (24 + 32) * 512);
  CHECK(third->write_bytes == (8 + 8) * 512);
  CHECK(third->iops == Approx(18.0));
}

TEST_CASE("diskstats_reader samples the real host", "[proc]") {
  diskstats_reader reader;
  std::string error;
  auto first = reader.sample(error);
  REQUIRE(first);
  CHECK(first->reads == 0);
  CHECK(first->writes == 0);
  CHECK(first->iops == 0);
  burn_cpu(std::chrono::milliseconds(20));
  auto second = reader.sample(error);
  REQUIRE(second);
  CHECK(error.empty());
  CHECK(std::isfinite(second->iops));
  CHECK(second->iops >= 0);
  CHECK((second->iops > 0) == (second->reads + second->writes > 0));
}

// -- processes -----------------------------------------------------------------

TEST_CASE("process_reader measures this process like /proc/self/status", "[proc]") {
  process_reader reader;
  std::string error;
  int pid = static_cast<int>(::getpid());
  auto p = reader.sample(pid, "unit_tests", error);
  uint64_t vm_rss = self_status_kb("VmRSS") * 1024;
  REQUIRE(p);
  CHECK(error.empty());
  CHECK(p->pid == pid);
  CHECK(p->name == "unit_tests");
  CHECK(p->cpu == 0);  // first sample of the pid
  CHECK(static_cast<double>(p->memory) ==
        Approx(static_cast<double>(vm_rss)).epsilon(0.10));
  auto alive = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() -
                                                                process_started);
  CHECK(p->uptime <= static_cast<uint64_t>(alive.count()) + 2);
}

TEST_CASE("process_reader sees the cpu of a busy loop", "[proc]") {
  process_reader reader;
  std::string error;
  int pid = static_cast<int>(::getpid());
  REQUIRE(reader.sample(pid, "self", error));
  burn_cpu(std::chrono::milliseconds(200));
  auto p = reader.sample(pid, "self", error);
  REQUIRE(p);
  CHECK(p->cpu > 0);
  CHECK(p->cpu <= 100.0 * online_cpus() + 10);
}

TEST_CASE("process_reader parses a comm with blanks and parentheses", "[proc]") {
  temp_dir root;
  long ticks = ::sysconf(_SC_CLK_TCK);
  long page = ::sysconf(_SC_PAGESIZE);
  root.write("uptime", "5000.50 9000.00\n");
  root.write("4242/stat", stat_line(4242, "my (weird) proc) x", 150, 50, 1000, 389));
  process_reader reader(root.path);
  std::string error;

  auto first = reader.sample(4242, "weird", error);
  REQUIRE(first);
  CHECK(first->name == "weird");
  CHECK(first->pid == 4242);
  CHECK(first->memory == 389 * static_cast<uint64_t>(page));
  CHECK(first->uptime == static_cast<uint64_t>(5000.50 - 1000.0 / static_cast<double>(ticks)));
  CHECK(first->cpu == 0);

  // 30 + 20 more ticks over 2 s.
  root.write("4242/stat", stat_line(4242, "my (weird) proc) x", 180, 70, 1000, 400));
  auto second = reader.sample(4242, "weird", error, seconds_d{2.0});
  REQUIRE(second);
  CHECK(second->cpu == Approx(50.0 / static_cast<double>(ticks) / 2.0 * 100));
  CHECK(second->memory == 400 * static_cast<uint64_t>(page));
  CHECK(error.empty());
}

TEST_CASE("process_reader treats a reused pid as a new process", "[proc]") {
  temp_dir root;
  root.write("uptime", "5000.00 9000.00\n");
  root.write("77/stat", stat_line(77, "old", 100, 100, 1000, 10));
  process_reader reader(root.path);
  std::string error;
  REQUIRE(reader.sample(77, "old", error));
  root.write("77/stat", stat_line(77, "new", 500, 500, 4000, 10));
  auto p = reader.sample(77, "new", error, seconds_d{1.0});
  REQUIRE(p);
  CHECK(p->cpu == 0);
  // Its ticks are the baseline now.
  root.write("77/stat", stat_line(77, "new", 510, 500, 4000, 10));
  auto next = reader.sample(77, "new", error, seconds_d{1.0});
  REQUIRE(next);
  CHECK(next->cpu > 0);
}

TEST_CASE("find_pids_by_name finds this test process by its comm", "[proc]") {
  std::string comm;
  {
    std::ifstream in("/proc/self/comm");
    std::getline(in, comm);
  }
  REQUIRE_FALSE(comm.empty());
  auto pids = find_pids_by_name("/proc", comm);
  CHECK(std::find(pids.begin(), pids.end(), static_cast<int>(::getpid())) != pids.end());
  CHECK(std::is_sorted(pids.begin(), pids.end()));
}

TEST_CASE("find_pids_by_name matches the comm or the basename of argv0 in a fixture",
          "[proc]") {
  using namespace std::string_literals;
  temp_dir root;
  // comm is cut at 15 characters: the long name only matches through argv[0].
  root.write("20/comm", "averyverylongda\n");
  root.write("20/cmdline", "/usr/local/bin/averyverylongdaemonname\0--flag\0"s);
  root.write("21/comm", "nginx\n");
  root.write("21/cmdline", "nginx: master process\0"s);
  root.write("22/comm", "averyverylongda\n");
  root.write("22/cmdline", "/usr/bin/python3\0averyverylongdaemonname\0"s);
  root.write("23/comm", "worker\n");
  root.write("24/comm", "worker\n");
  root.write("24/cmdline", "");
  root.write("self/comm", "worker\n");

  CHECK(find_pids_by_name(root.path, "averyverylongdaemonname") == std::vector<int>{20});
  CHECK(find_pids_by_name(root.path, "nginx") == std::vector<int>{21});
  CHECK(find_pids_by_name(root.path, "worker") == std::vector<int>{23, 24});
  CHECK(find_pids_by_name(root.path, "python3") == std::vector<int>{22});
  CHECK(find_pids_by_name(root.path, "nobody").empty());
  CHECK(find_pids_by_name(root.path / "missing", "worker").empty());
}

// -- failures ------------------------------------------------------------------

TEST_CASE("missing files give nullopt and an error naming the file", "[proc]") {
  temp_dir root;
  std::string error;

  CHECK_FALSE(cpu_usage_reader(root.path).sample(error));
  CHECK_THAT(error, Contains((root.path / "stat").string()));

  error.clear();
  CHECK_FALSE(read_loadavg(root.path, error));
  CHECK_THAT(error, Contains((root.path / "loadavg").string()));

  error.clear();
  CHECK_FALSE(read_meminfo(root.path, error));
  CHECK_THAT(error, Contains((root.path / "meminfo").string()));

  error.clear();
  CHECK_FALSE(network_reader(root.path).read(error));
  CHECK_THAT(error, Contains((root.path / "net/dev").string()));

  error.clear();
  CHECK_FALSE(diskstats_reader(root.path, root.path).sample(error));
  CHECK_THAT(error, Contains((root.path / "diskstats").string()));

  error.clear();
  process_reader processes(root.path);
  CHECK_FALSE(processes.sample(1234, "gone", error));
  CHECK_THAT(error, Contains((root.path / "1234/stat").string()));

  error.clear();
  root.write("1234/stat", stat_line(1234, "here", 1, 1, 1, 1));
  CHECK_FALSE(processes.sample(1234, "here", error));
  CHECK_THAT(error, Contains((root.path / "uptime").string()));
}

TEST_CASE("malformed files give nullopt and an error naming the file", "[proc]") {
  temp_dir root;
  std::string error;

  root.write("stat", "intr 1 2 3\n");
  CHECK_FALSE(cpu_usage_reader(root.path).sample(error));
  CHECK_THAT(error, Contains((root.path / "stat").string()));

  error.clear();
  root.write("loadavg", "high\n");
  CHECK_FALSE(read_loadavg(root.path, error));
  CHECK_THAT(error, Contains((root.path / "loadavg").string()));

  error.clear();
  root.write("net/dev", net_dev_header + "  eth0: 1 2 three\n");
  CHECK_FALSE(network_reader(root.path).read(error));
  CHECK_THAT(error, Contains((root.path / "net/dev").string()));

  error.clear();
  root.write("diskstats", "8 0 sda 1 0 x\n");
  CHECK_FALSE(diskstats_reader(root.path, root.path).sample(error));
  CHECK_THAT(error, Contains((root.path / "diskstats").string()));

  error.clear();
  root.write("uptime", "100.00 200.00\n");
  root.write("9/stat", "9 (no closing parenthesis S 1 2 3\n");
  CHECK_FALSE(process_reader(root.path).sample(9, "broken", error));
  CHECK_THAT(error, Contains((root.path / "9/stat").string()));

  error.clear();
  root.write("9/stat", "9 (short) S 1 2 3\n");
  CHECK_FALSE(process_reader(root.path).sample(9, "short", error));
  CHECK_THAT(error, Contains((root.path / "9/stat").string()));
}

// -- this process --------------------------------------------------------------

TEST_CASE("own_process_reader reads a fixture like client libraries do", "[proc]") {
  temp_dir root;
  long ticks = ::sysconf(_SC_CLK_TCK);
  long page = ::sysconf(_SC_PAGESIZE);
  root.write("stat", "cpu  1 2 3 4 5 6 7 8 0 0\nintr 1 2\nbtime 1700000000\nprocesses 9\n");
  root.write("self/stat", stat_line(77, "medianest-perf", 250, 50, 1000, 389));
  for (auto fd : {"0", "1", "2", "7"})
    root.write(fs::path{"self/fd"} / fd, "");
  own_process_reader reader(root.path);
  std::string error;
  auto p = reader.read(error);
  REQUIRE(p);
  CHECK(error.empty());
  CHECK(p->cpu_seconds == Approx(300.0 / static_cast<double>(ticks)));
  CHECK(p->resident_bytes == 389 * static_cast<uint64_t>(page));
  CHECK(p->virtual_bytes == 3133440);
  CHECK(p->start_time == Approx(1700000000.0 + 1000.0 / static_cast<double>(ticks)));
  CHECK(p->open_fds == 4);
  rlimit limit{};
  REQUIRE(::getrlimit(RLIMIT_NOFILE, &limit) == 0);
  CHECK(p->max_fds == limit.rlim_cur);

  // The boot time is read once: a broken /proc/stat later does not matter.
  root.write("stat", "garbage\n");
  CHECK(reader.read(error));
  // Without btime on the first read it is an error naming the file.
  own_process_reader fresh(root.path);
  CHECK_FALSE(fresh.read(error));
  CHECK_THAT(error, Contains((root.path / "stat").string()));
}

TEST_CASE("own_process_reader measures this process", "[proc]") {
  own_process_reader reader;
  std::string error;
  auto p = reader.read(error);
  REQUIRE(p);
  CHECK(static_cast<double>(p->resident_bytes)
        == Approx(static_cast<double>(self_status_kb("VmRSS") * 1024)).epsilon(0.10));
  auto now = std::chrono::duration<double>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  auto alive = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                             - process_started).count();
  CHECK(p->start_time <= now);
  CHECK(p->start_time >= now - alive - 5);
  // stdin, stdout, stderr and the descriptor listing the directory at least.
  CHECK(p->open_fds >= 3);
  burn_cpu(std::chrono::milliseconds(100));
  auto later = reader.read(error);
  REQUIRE(later);
  CHECK(later->cpu_seconds > p->cpu_seconds);
}
