// Load client for the live feed (docs/live.md), used by bench/live.sh: opens N WebSocket
// connections to GET /api/v1/performance/live at a controlled rate, reads every frame, and for
// each `metrics` frame received during the measurement window records its delay: the local
// wall clock when the frame was complete minus the frame's `at`. Prints one RESULT line.
//
// It shares the machine with the daemon, so it is kept cheap: the WebSocket client is written
// by hand (a fixed handshake, a frame-header state machine, the first bytes of each text frame
// kept to find `"at":`, the rest skipped), a connection owns no read buffer (each io thread
// reads every ready socket into one 64 KiB scratch buffer), and a connection is ~300 bytes.
//
//   live_load --port P --path '/api/v1/performance/live?token=JWT' --clients N
//             [--rate CONNS_PER_S] [--warmup S] [--duration S] [--threads T] [--daemon-pid PID]
//             [--interval MS]
//
// --interval sends {"type":"subscribe","interval":MS} after `hello`; without it the client
// keeps the daemon's default interval, as a dashboard that never asks does.
// With --daemon-pid it also reads the daemon's VmRSS (every second of the window, the largest
// is reported) and its CPU time (utime + stime, and per thread) from /proc around the window.

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <memory>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include <dirent.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace net = boost::asio;
using tcp = net::ip::tcp;

namespace {

// -- clocks and /proc -----------------------------------------------------------------------

int64_t wall_us() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000 + ts.tv_nsec / 1000;
}

double mono_s() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return double(ts.tv_sec) + double(ts.tv_nsec) / 1e9;
}

std::string slurp(const std::string& path) {
  std::ifstream in{path};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// utime + stime in clock ticks from a /proc/.../stat line (fields 14 and 15), or -1.
long long stat_cpu_ticks(const std::string& stat, std::string* comm = nullptr,
                         long long* stime_out = nullptr) {
  auto open = stat.find('(');
  auto close = stat.rfind(')');
  if (open == std::string::npos || close == std::string::npos)
    return -1;
  if (comm)
    *comm = stat.substr(open + 1, close - open - 1);
  std::istringstream rest{stat.substr(close + 2)};
  std::string field;
  long long utime = 0, stime = 0;
  // after the comm: state is field 3, utime field 14, stime field 15
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14)
      utime = std::atoll(field.c_str());
    if (i == 15)
      stime = std::atoll(field.c_str());
  }
  if (stime_out)
    *stime_out = stime;
  return utime + stime;
}

/// Nanoseconds the threads of a process spent runnable but waiting for a CPU (the second
/// field of each /proc/PID/task/TID/schedstat): what other processes cost it.
long long run_delay_ns(int pid) {
  long long sum = 0;
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d)
    return -1;
  while (auto* e = readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    long long run = 0, wait = 0;
    std::istringstream in{slurp(dir + "/" + e->d_name + "/schedstat")};
    if (in >> run >> wait)
      sum += wait;
  }
  closedir(d);
  return sum;
}

long vm_rss_kb(int pid) {
  auto status = slurp("/proc/" + std::to_string(pid) + "/status");
  auto at = status.find("VmRSS:");
  return at == std::string::npos ? -1 : std::atol(status.c_str() + at + 6);
}

/// Kernel memory of all TCP sockets on the machine (both ends of every connection), in KiB.
long tcp_mem_kb() {
  auto s = slurp("/proc/net/sockstat");
  auto at = s.find("TCP:");
  if (at == std::string::npos)
    return -1;
  auto mem = s.find("mem ", at);
  if (mem == std::string::npos)
    return -1;
  return std::atol(s.c_str() + mem + 4) * (sysconf(_SC_PAGESIZE) / 1024);
}

/// CPU ticks per thread name (threads of one name summed) of a process.
std::map<std::string, long long> thread_ticks(int pid) {
  std::map<std::string, long long> out;
  auto dir = "/proc/" + std::to_string(pid) + "/task";
  DIR* d = opendir(dir.c_str());
  if (!d)
    return out;
  while (auto* e = readdir(d)) {
    if (e->d_name[0] == '.')
      continue;
    std::string comm;
    auto ticks = stat_cpu_ticks(slurp(dir + "/" + e->d_name + "/stat"), &comm);
    if (ticks >= 0)
      out[comm + "#" + e->d_name] += ticks;
  }
  closedir(d);
  return out;
}

// -- shared run state -----------------------------------------------------------------------

std::atomic<int64_t> window_begin_us{INT64_MAX};
std::atomic<int64_t> window_end_us{INT64_MAX};
std::atomic<long> opened{0};
std::atomic<long> refused{0};  // connect or handshake failed, or closed before `hello`
std::atomic<long> dropped{0};  // closed by the daemon after the handshake
std::atomic<bool> stopping{false};

std::string handshake_request;
/// A masked `subscribe` text frame sent after `hello` when --interval is given, else empty.
std::string subscribe_frame;
tcp::endpoint target;

/// What one io thread measured; touched only by that thread until it is joined.
struct thread_stats {
  std::vector<std::pair<double, float>> samples; // (frame `at`, delay ms) in the window
  long long frames_in_window = 0;                // metrics frames received in the window
  long long bytes_in_window = 0;
  long long unparsed = 0;                        // metrics frames without a readable `at`
  long long pings = 0;
};

// -- one connection -------------------------------------------------------------------------

class connection {
public:
  connection(net::io_context& ioc, thread_stats& stats, std::vector<char>& scratch)
    : socket_(ioc), stats_(stats), scratch_(scratch) {}

  void start() {
    socket_.async_connect(target, [this](boost::system::error_code ec) {
      if (ec)
        return fail_before_open();
      boost::system::error_code ignored;
      // An abortive close at exit: no 10,000 ports in TIME_WAIT between the runs.
      socket_.set_option(net::socket_base::linger(true, 0), ignored);
      socket_.non_blocking(true, ignored);
      net::async_write(socket_, net::buffer(handshake_request),
                       [this](boost::system::error_code ec, std::size_t) {
                         if (ec)
                           return fail_before_open();
                         wait();
                       });
    });
  }

private:
  enum class phase : uint8_t { handshake, open, closed };

  void wait() {
    socket_.async_wait(tcp::socket::wait_read, [this](boost::system::error_code ec) {
      if (ec)
        return lost();
      on_readable();
    });
  }

  void on_readable() {
    // Drain the socket: with edge-triggered epoll the next wake-up needs new data.
    for (;;) {
      boost::system::error_code ec;
      auto n = socket_.read_some(net::buffer(scratch_), ec);
      if (ec == net::error::would_block)
        break;
      if (ec || n == 0)
        return lost();
      auto now = wall_us();
      if (!consume(scratch_.data(), n, now))
        return;
      if (n < scratch_.size())
        break;
    }
    wait();
  }

  /// Feeds received bytes through the handshake and the frame parser; false once closed.
  bool consume(const char* p, size_t n, int64_t now) {
    if (phase_ == phase::handshake) {
      // The 101 response usually arrives whole in one read; keep it only until it is.
      response_.append(p, n);
      auto end = response_.find("\r\n\r\n");
      if (end == std::string::npos) {
        if (response_.size() > 8192)
          return fail_before_open(), false;
        return true;
      }
      if (response_.compare(0, 12, "HTTP/1.1 101") != 0) {
        std::fprintf(stderr, "handshake refused: %.*s\n",
                     int(response_.find("\r\n")), response_.c_str());
        return fail_before_open(), false;
      }
      phase_ = phase::open;
      auto rest = response_.substr(end + 4);
      std::string{}.swap(response_);
      return consume_frames(rest.data(), rest.size(), now);
    }
    return consume_frames(p, n, now);
  }

  bool consume_frames(const char* p, size_t n, int64_t now) {
    while (n > 0) {
      if (header_have_ < header_need_) {
        auto take = std::min<size_t>(header_need_ - header_have_, n);
        std::memcpy(header_.data() + header_have_, p, take);
        header_have_ += take;
        p += take;
        n -= take;
        if (header_have_ == 2) {
          uint8_t len7 = header_[1] & 0x7f;
          header_need_ = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0);
        }
        if (header_have_ < header_need_)
          continue;
        uint64_t len = header_[1] & 0x7f;
        if (len == 126)
          len = (uint64_t(uint8_t(header_[2])) << 8) | uint8_t(header_[3]);
        else if (len == 127) {
          len = 0;
          for (int i = 2; i < 10; ++i)
            len = (len << 8) | uint8_t(header_[i]);
        }
        opcode_ = header_[0] & 0x0f;
        payload_left_ = len;
        prefix_len_ = 0;
        if (payload_left_ == 0 && !frame_done(now))
          return false;
        continue;
      }
      auto take = std::min<uint64_t>(payload_left_, n);
      // Text frames: the first bytes hold "type" and "at". Control frames: the whole payload
      // (at most 125 bytes), to echo a ping or read a close code.
      auto keep = std::min<size_t>(prefix_.size() - prefix_len_, take);
      std::memcpy(prefix_.data() + prefix_len_, p, keep);
      prefix_len_ += keep;
      if (measuring(now))
        stats_.bytes_in_window += take;
      p += take;
      n -= take;
      payload_left_ -= take;
      if (payload_left_ == 0 && !frame_done(now))
        return false;
    }
    return true;
  }

  static bool measuring(int64_t now) {
    return now >= window_begin_us.load(std::memory_order_relaxed)
           && now < window_end_us.load(std::memory_order_relaxed);
  }

  /// A whole frame has arrived; false once the connection is closed.
  bool frame_done(int64_t now) {
    header_have_ = 0;
    header_need_ = 2;
    std::string_view text{prefix_.data(), prefix_len_};
    switch (opcode_) {
      case 0x1: { // text
        if (!hello_seen_) {
          hello_seen_ = true;
          opened.fetch_add(1, std::memory_order_relaxed);
          if (!subscribe_frame.empty())
            net::async_write(socket_, net::buffer(subscribe_frame),
                             [](boost::system::error_code, std::size_t) {});
        }
        if (text.rfind(R"({"type":"metrics")", 0) != 0 || !measuring(now))
          break;
        ++stats_.frames_in_window;
        auto at = text.find(R"("at":)");
        if (at == std::string_view::npos) {
          ++stats_.unparsed;
          break;
        }
        // The prefix is a copy of at most 128 bytes, so a terminator cannot be relied on.
        char number[40] = {};
        auto digits = text.substr(at + 5, sizeof number - 1);
        std::memcpy(number, digits.data(), digits.size());
        char* end = nullptr;
        double at_ms = std::strtod(number, &end);
        if (end == number) {
          ++stats_.unparsed;
          break;
        }
        stats_.samples.emplace_back(at_ms, float(double(now) / 1000.0 - at_ms));
        break;
      }
      case 0x9: // ping: answer with a masked pong carrying the same payload
        ++stats_.pings;
        pong();
        break;
      case 0x8: // close
        if (!stopping.load(std::memory_order_relaxed)) {
          unsigned code = prefix_len_ >= 2 ? (uint8_t(prefix_[0]) << 8) | uint8_t(prefix_[1]) : 0;
          std::fprintf(stderr, "closed by the daemon: %u %.*s\n", code,
                       int(prefix_len_ > 2 ? prefix_len_ - 2 : 0), prefix_.data() + 2);
        }
        lost();
        return false;
      default:
        break;
    }
    return true;
  }

  void pong() {
    if (pong_in_flight_)
      return; // one is enough to show the connection is alive
    size_t len = std::min<size_t>(prefix_len_, 125);
    pong_[0] = char(0x8a);
    pong_[1] = char(0x80 | len);
    uint32_t mask = 0x5a17c0de;
    std::memcpy(pong_.data() + 2, &mask, 4);
    for (size_t i = 0; i < len; ++i)
      pong_[6 + i] = char(prefix_[i] ^ pong_[2 + i % 4]);
    pong_in_flight_ = true;
    net::async_write(socket_, net::buffer(pong_.data(), 6 + len),
                     [this](boost::system::error_code, std::size_t) { pong_in_flight_ = false; });
  }

  void fail_before_open() {
    if (phase_ == phase::closed)
      return;
    phase_ = phase::closed;
    refused.fetch_add(1, std::memory_order_relaxed);
    close_socket();
  }

  void lost() {
    if (phase_ == phase::closed)
      return;
    bool was_open = hello_seen_;
    phase_ = phase::closed;
    if (!stopping.load(std::memory_order_relaxed))
      (was_open ? dropped : refused).fetch_add(1, std::memory_order_relaxed);
    close_socket();
  }

  void close_socket() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  tcp::socket socket_;
  thread_stats& stats_;
  std::vector<char>& scratch_;
  std::string response_;
  std::array<char, 14> header_{};
  std::array<char, 128> prefix_{};
  std::array<char, 6 + 125> pong_{};
  uint64_t payload_left_ = 0;
  uint8_t header_have_ = 0;
  uint8_t header_need_ = 2;
  uint8_t opcode_ = 0;
  uint8_t prefix_len_ = 0;
  phase phase_ = phase::handshake;
  bool hello_seen_ = false;
  bool pong_in_flight_ = false;
};

/// One io_context and the connections it runs, on one thread.
struct io_thread {
  net::io_context ioc{1};
  thread_stats stats;
  std::vector<char> scratch = std::vector<char>(64 * 1024);
  std::vector<std::unique_ptr<connection>> connections;
  std::thread thread;
};

struct options {
  std::string host = "127.0.0.1";
  unsigned short port = 0;
  std::string path;
  long clients = 1000;
  double rate = 2000;
  double warmup = 5;
  double duration = 20;
  unsigned threads = 1;
  int daemon_pid = 0;
  long interval_ms = 0; // 0: keep the daemon's default interval (as a browser that never asks)
};

[[noreturn]] void usage() {
  std::fprintf(stderr, "usage: live_load --port P --path PATH?token=JWT --clients N [--rate R] "
                       "[--warmup S] [--duration S] [--threads T] [--daemon-pid PID] "
                       "[--interval MS] [--host H]\n");
  std::exit(2);
}

options parse(int argc, char** argv) {
  options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a{argv[i]};
    if (i + 1 >= argc)
      usage();
    std::string v{argv[++i]};
    if (a == "--host") o.host = v;
    else if (a == "--port") o.port = static_cast<unsigned short>(std::stoi(v));
    else if (a == "--path") o.path = v;
    else if (a == "--clients") o.clients = std::stol(v);
    else if (a == "--rate") o.rate = std::stod(v);
    else if (a == "--warmup") o.warmup = std::stod(v);
    else if (a == "--duration") o.duration = std::stod(v);
    else if (a == "--threads") o.threads = std::max(1, std::stoi(v));
    else if (a == "--daemon-pid") o.daemon_pid = std::stoi(v);
    else if (a == "--interval") o.interval_ms = std::stol(v);
    else usage();
  }
  if (o.port == 0 || o.path.empty() || o.clients < 1)
    usage();
  return o;
}

double percentile(const std::vector<float>& sorted, double q) {
  if (sorted.empty())
    return NAN;
  auto rank = static_cast<size_t>(std::ceil(q * double(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

} // namespace

int main(int argc, char** argv) {
  auto opt = parse(argc, argv);
  target = tcp::endpoint{net::ip::make_address(opt.host), opt.port};
  handshake_request = "GET " + opt.path + " HTTP/1.1\r\nHost: " + opt.host + ":"
                      + std::to_string(opt.port)
                      + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                        "Sec-WebSocket-Version: 13\r\n\r\n";

  if (opt.interval_ms > 0) {
    auto text = R"({"type":"subscribe","interval":)" + std::to_string(opt.interval_ms) + "}";
    subscribe_frame = {char(0x81), char(0x80 | text.size()), 0x11, 0x22, 0x33, 0x44};
    for (size_t i = 0; i < text.size(); ++i)
      subscribe_frame.push_back(char(text[i] ^ subscribe_frame[2 + i % 4]));
  }

  rlimit nofile{};
  getrlimit(RLIMIT_NOFILE, &nofile);
  if (nofile.rlim_cur < rlim_t(opt.clients) + 64) {
    nofile.rlim_cur = std::min<rlim_t>(nofile.rlim_max, rlim_t(opt.clients) + 64);
    setrlimit(RLIMIT_NOFILE, &nofile);
    if (nofile.rlim_cur < rlim_t(opt.clients) + 64)
      std::fprintf(stderr, "warning: only %lu descriptors for %ld clients\n",
                   static_cast<unsigned long>(nofile.rlim_cur), opt.clients);
  }

  std::vector<std::unique_ptr<io_thread>> threads;
  for (unsigned i = 0; i < opt.threads; ++i)
    threads.push_back(std::make_unique<io_thread>());
  std::vector<net::executor_work_guard<net::io_context::executor_type>> guards;
  for (auto& t : threads) {
    guards.push_back(net::make_work_guard(t->ioc));
    t->thread = std::thread([io = t.get()] { io->ioc.run(); });
  }

  // Ramp up: a batch every 10 ms, at most --rate connections a second.
  auto ramp_start = mono_s();
  long started = 0;
  while (started < opt.clients) {
    long due = std::min<long>(opt.clients, long((mono_s() - ramp_start) * opt.rate) + 1);
    for (; started < due; ++started) {
      auto* io = threads[size_t(started) % threads.size()].get();
      net::post(io->ioc, [io] {
        io->connections.push_back(std::make_unique<connection>(io->ioc, io->stats, io->scratch));
        io->connections.back()->start();
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  // Wait until every connection got its `hello` or failed (at most 30 s more).
  auto wait_until = mono_s() + 30;
  while (opened.load() + refused.load() + dropped.load() < opt.clients && mono_s() < wait_until)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  auto ramp_s = mono_s() - ramp_start;
  std::fprintf(stderr, "%ld clients: %ld open, %ld refused after %.1f s of ramp-up\n", opt.clients,
               opened.load(), refused.load(), ramp_s);

  std::this_thread::sleep_for(std::chrono::duration<double>(opt.warmup));

  // The measurement window.
  long clk = sysconf(_SC_CLK_TCK);
  auto daemon_stat = "/proc/" + std::to_string(opt.daemon_pid) + "/stat";
  long long sys0 = 0, sys1 = 0;
  long long cpu0 = opt.daemon_pid ? stat_cpu_ticks(slurp(daemon_stat), nullptr, &sys0) : -1;
  long long wait0 = opt.daemon_pid ? run_delay_ns(opt.daemon_pid) : -1;
  long long self_wait0 = run_delay_ns(getpid());
  std::string load0 = slurp("/proc/loadavg");
  using ticks_by_thread = std::map<std::string, long long>;
  auto threads0 = opt.daemon_pid ? thread_ticks(opt.daemon_pid) : ticks_by_thread{};
  rusage self0{};
  getrusage(RUSAGE_SELF, &self0);
  long dropped0 = dropped.load();
  auto t0 = mono_s();
  auto begin = wall_us();
  window_end_us.store(begin + int64_t(opt.duration * 1e6));
  window_begin_us.store(begin);
  long rss_max = -1, tcp_max = -1;
  while (mono_s() - t0 < opt.duration) {
    auto left_ms = long((opt.duration - (mono_s() - t0)) * 1000) + 1;
    std::this_thread::sleep_for(std::chrono::milliseconds(std::min<long>(1000, left_ms)));
    if (opt.daemon_pid)
      rss_max = std::max(rss_max, vm_rss_kb(opt.daemon_pid));
    tcp_max = std::max(tcp_max, tcp_mem_kb());
  }
  auto elapsed = mono_s() - t0;
  long long cpu1 = opt.daemon_pid ? stat_cpu_ticks(slurp(daemon_stat), nullptr, &sys1) : -1;
  long long wait1 = opt.daemon_pid ? run_delay_ns(opt.daemon_pid) : -1;
  long long self_wait1 = run_delay_ns(getpid());
  std::string load1 = slurp("/proc/loadavg");
  auto threads1 = opt.daemon_pid ? thread_ticks(opt.daemon_pid) : ticks_by_thread{};
  rusage self1{};
  getrusage(RUSAGE_SELF, &self1);
  long dropped_in_window = dropped.load() - dropped0;

  // Let frames that were in flight at the end of the window arrive (they are outside it).
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  stopping.store(true);
  guards.clear();
  for (auto& t : threads)
    t->ioc.stop();
  for (auto& t : threads)
    t->thread.join();

  std::vector<float> delays;
  std::map<double, std::pair<float, float>> per_publication; // at -> (min, max) delay
  long long frames = 0, unparsed = 0, pings = 0, bytes = 0;
  for (auto& t : threads) {
    for (auto [at, d] : t->stats.samples) {
      delays.push_back(d);
      auto [it, fresh] = per_publication.try_emplace(at, d, d);
      if (!fresh) {
        it->second.first = std::min(it->second.first, d);
        it->second.second = std::max(it->second.second, d);
      }
    }
    frames += t->stats.frames_in_window;
    unparsed += t->stats.unparsed;
    pings += t->stats.pings;
    bytes += t->stats.bytes_in_window;
  }
  std::sort(delays.begin(), delays.end());
  std::vector<float> spans, firsts;
  for (auto& [at, mm] : per_publication) {
    spans.push_back(mm.second - mm.first);
    firsts.push_back(mm.first);
  }
  std::sort(spans.begin(), spans.end());
  std::sort(firsts.begin(), firsts.end());

  auto cpu_s = [](const rusage& a, const rusage& b) {
    auto tv = [](const timeval& t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return tv(b.ru_utime) - tv(a.ru_utime) + tv(b.ru_stime) - tv(a.ru_stime);
  };
  auto core_pct = [&](long long ticks) { return 100.0 * double(ticks) / double(clk) / elapsed; };
  double daemon_cpu_pct = cpu0 >= 0 && cpu1 >= 0 ? core_pct(cpu1 - cpu0) : NAN;
  double client_cpu_pct = 100.0 * cpu_s(self0, self1) / elapsed;
  double daemon_sys_pct = cpu0 >= 0 ? core_pct(sys1 - sys0) : NAN;
  double daemon_wait_pct = wait0 >= 0 ? 100.0 * double(wait1 - wait0) / 1e9 / elapsed : NAN;
  double client_wait_pct = 100.0 * double(self_wait1 - self_wait0) / 1e9 / elapsed;
  // The three load averages of a /proc/loadavg line.
  auto trim = [](const std::string& s) {
    return s.substr(0, s.find(' ', s.find(' ', s.find(' ') + 1) + 1));
  };

  if (opt.daemon_pid) {
    // Per daemon thread, those that used at least 1 % of a core.
    std::map<std::string, double> by_name;
    for (auto& [key, ticks] : threads1) {
      auto it = threads0.find(key);
      double pct = core_pct(ticks - (it == threads0.end() ? 0 : it->second));
      by_name[key.substr(0, key.find('#'))] += pct;
    }
    std::fprintf(stderr, "daemon CPU by thread name (%% of a core):");
    for (auto& [name, pct] : by_name)
      if (pct >= 0.5)
        std::fprintf(stderr, " %s %.1f", name.c_str(), pct);
    std::fprintf(stderr, "\n");
  }
  std::fprintf(stderr,
               "window %.1f s: %lld metrics frames (%lld bytes, %.0f B each), %zu publications, "
               "first frame of a publication after p50 %.1f ms, fan-out span (last - first) "
               "p50 %.1f ms max %.1f ms, %lld pings answered, %lld without a readable at\n",
               elapsed, frames, bytes, frames ? double(bytes) / double(frames) : 0.0,
               per_publication.size(), percentile(firsts, 0.5), percentile(spans, 0.5),
               percentile(spans, 1.0), pings, unparsed);
  std::fprintf(stderr,
               "daemon CPU %.1f %% of a core (system %.1f), waiting for a CPU %.1f %%; load client "
               "CPU %.1f %%, waiting %.1f %%; load average %s -> %s\n",
               daemon_cpu_pct, daemon_sys_pct, daemon_wait_pct, client_cpu_pct, client_wait_pct,
               trim(load0).c_str(), trim(load1).c_str());
  std::printf("RESULT clients=%ld open=%ld refused=%ld dropped=%ld dropped_in_window=%ld "
              "samples=%zu p50_ms=%.2f p99_ms=%.2f max_ms=%.2f frames_per_s=%.1f "
              "frames_per_client_s=%.3f daemon_rss_kb=%ld daemon_cpu_pct=%.1f "
              "client_cpu_pct=%.1f tcp_mem_kb=%ld ramp_s=%.1f frame_bytes=%.0f "
              "daemon_sys_pct=%.1f daemon_wait_pct=%.1f client_wait_pct=%.1f span_p50_ms=%.1f "
              "load1=%s\n",
              opt.clients, opened.load(), refused.load(), dropped.load(), dropped_in_window,
              delays.size(), percentile(delays, 0.5), percentile(delays, 0.99),
              percentile(delays, 1.0), double(frames) / elapsed,
              double(frames) / elapsed / double(std::max(1L, opened.load())), rss_max,
              daemon_cpu_pct, client_cpu_pct, tcp_max, ramp_s,
              frames ? double(bytes) / double(frames) : 0.0, daemon_sys_pct, daemon_wait_pct,
              client_wait_pct, percentile(spans, 0.5), load1.substr(0, load1.find(' ')).c_str());
  std::fflush(stdout);
  // The connections' sockets close (abortively) with the process.
  std::_Exit(0);
}
