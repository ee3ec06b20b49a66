#pragma once

// Real network peers on 127.0.0.1 for the notifier tests: a tiny threaded HTTP/1.1 sink, a
// listener that never accepts (to exercise connect timeouts) and an SMTP server (Debian's
// python3-aiosmtpd, run as a child process). Header-only: the unit test target compiles only
// *_test.cpp files.

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <boost/json.hpp>

extern char** environ;

namespace medianest::test_peers {

inline bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

/// A loopback TCP port that nothing listens on right now (bound, read back and released).
inline uint16_t unused_port() {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    if (fd >= 0)
      ::close(fd);
    throw std::runtime_error("unused_port: cannot bind a loopback socket");
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// A listening socket on an ephemeral loopback port; returns the fd and fills `port`.
inline int listen_loopback(uint16_t& port, int backlog) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0)
    throw std::runtime_error("socket() failed");
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::listen(fd, backlog) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error("bind/listen on 127.0.0.1 failed");
  }
  port = ntohs(addr.sin_port);
  return fd;
}

// -- HTTP sink ------------------------------------------------------------------------------------

/// One request as the sink received it.
struct received_request {
  std::string method;
  std::string target;
  std::string version;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

  /// The value of the first header of that name (case-insensitive), or "".
  std::string header(std::string_view name) const {
    for (const auto& [key, value] : headers)
      if (iequals(key, name))
        return value;
    return {};
  }
};

/// A tiny threaded HTTP/1.1 server on 127.0.0.1: an accept thread plus one thread per
/// connection. It records each request (method, target, headers, Content-Length body), then
/// answers with the configured status after the configured delay, and closes the connection.
class http_sink {
public:
  http_sink() {
    listen_fd_ = listen_loopback(port_, 16);
    acceptor_ = std::thread([this] { accept_loop(); });
  }
  ~http_sink() {
    stop();
  }
  http_sink(const http_sink&) = delete;
  http_sink& operator=(const http_sink&) = delete;

  uint16_t port() const {
    return port_;
  }
  std::string url(std::string_view path = "/hook") const {
    return "http://127.0.0.1:" + std::to_string(port_) + std::string(path);
  }

  /// The answer to every later request; `extra_headers` are whole lines without CRLF.
  void respond_with(int status, std::string body = {}, std::vector<std::string> extra_headers = {}) {
    std::lock_guard lock{mutex_};
    status_ = status;
    response_body_ = std::move(body);
    extra_headers_ = std::move(extra_headers);
  }
  /// Waits this long (after reading a request) before answering.
  void delay_responses(std::chrono::milliseconds delay) {
    std::lock_guard lock{mutex_};
    delay_ = delay;
  }

  std::vector<received_request> requests() const {
    std::lock_guard lock{mutex_};
    return requests_;
  }
  bool wait_for_requests(std::size_t n, std::chrono::milliseconds timeout) {
    std::unique_lock lock{mutex_};
    return cv_.wait_for(lock, timeout, [&] { return requests_.size() >= n; });
  }

  void stop() {
    {
      std::lock_guard lock{mutex_};
      if (stopping_)
        return;
      stopping_ = true;
    }
    cv_.notify_all();
    if (acceptor_.joinable())
      acceptor_.join();
    std::vector<std::thread> workers;
    {
      std::lock_guard lock{mutex_};
      workers.swap(workers_);
    }
    for (auto& worker : workers)
      worker.join();
    ::close(listen_fd_);
  }

private:
  bool stopping() const {
    std::lock_guard lock{mutex_};
    return stopping_;
  }

  void accept_loop() {
    while (!stopping()) {
      pollfd p{listen_fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0)
        continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0)
        continue;
      std::lock_guard lock{mutex_};
      workers_.emplace_back([this, fd] { serve(fd); });
    }
  }

  /// Reads until `pred(buffer)` or EOF/error/stop; false on the latter.
  template <typename Pred>
  bool read_until(int fd, std::string& buffer, Pred pred) {
    char chunk[4096];
    while (!pred(buffer)) {
      if (stopping())
        return false;
      pollfd p{fd, POLLIN, 0};
      const int ready = ::poll(&p, 1, 50);
      if (ready < 0)
        return false;
      if (ready == 0)
        continue;
      const ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0)
        return false;
      buffer.append(chunk, static_cast<std::size_t>(n));
    }
    return true;
  }

  void serve(int fd) {
    std::string buffer;
    received_request request;
    std::size_t header_end = 0;
    const bool got_head = read_until(fd, buffer, [&](const std::string& b) {
      header_end = b.find("\r\n\r\n");
      return header_end != std::string::npos;
    });
    if (!got_head) {
      ::close(fd);
      return;
    }
    // Request line and headers.
    std::istringstream head(buffer.substr(0, header_end));
    std::string line;
    std::getline(head, line);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    {
      std::istringstream request_line(line);
      request_line >> request.method >> request.target >> request.version;
    }
    std::size_t content_length = 0;
    while (std::getline(head, line)) {
      if (!line.empty() && line.back() == '\r')
        line.pop_back();
      const auto colon = line.find(':');
      if (colon == std::string::npos)
        continue;
      std::string name = line.substr(0, colon);
      std::string value = line.substr(colon + 1);
      value.erase(0, value.find_first_not_of(" \t"));
      if (iequals(name, "Content-Length"))
        content_length = std::strtoul(value.c_str(), nullptr, 10);
      request.headers.emplace_back(std::move(name), std::move(value));
    }
    const std::size_t body_start = header_end + 4;
    read_until(fd, buffer, [&](const std::string& b) { return b.size() >= body_start + content_length; });
    request.body = buffer.substr(std::min(body_start, buffer.size()), content_length);

    int status;
    std::string body;
    std::vector<std::string> extra;
    std::chrono::milliseconds delay;
    {
      std::unique_lock lock{mutex_};
      requests_.push_back(std::move(request));
      cv_.notify_all();
      status = status_;
      body = response_body_;
      extra = extra_headers_;
      delay = delay_;
      if (delay.count() > 0)
        cv_.wait_for(lock, delay, [&] { return stopping_; });
    }
    std::string response = "HTTP/1.1 " + std::to_string(status) + " " + reason(status) + "\r\n";
    response += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) +
                "\r\nConnection: close\r\n";
    for (const auto& header : extra)
      response += header + "\r\n";
    response += "\r\n" + body;
    // The client may be gone (timed out): MSG_NOSIGNAL, and ignore the outcome.
    std::size_t sent = 0;
    while (sent < response.size()) {
      const ssize_t n = ::send(fd, response.data() + sent, response.size() - sent, MSG_NOSIGNAL);
      if (n <= 0)
        break;
      sent += static_cast<std::size_t>(n);
    }
    ::shutdown(fd, SHUT_WR);
    ::close(fd);
  }

  static const char* reason(int status) {
    switch (status) {
      case 200: return "OK";
      case 204: return "No Content";
      case 301: return "Moved Permanently";
      case 400: return "Bad Request";
      case 404: return "Not Found";
      case 429: return "Too Many Requests";
      case 500: return "Internal Server Error";
      case 503: return "Service Unavailable";
      default: return "Status";
    }
  }

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::thread acceptor_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  int status_ = 200;
  std::string response_body_;
  std::vector<std::string> extra_headers_;
  std::chrono::milliseconds delay_{0};
  std::vector<received_request> requests_;
  std::vector<std::thread> workers_;
};

// -- a listener that never accepts ---------------------------------------------------------------

/// A listening socket with a backlog of 0 whose accept queue is filled by the object's own
/// connections: Linux then drops further SYNs, so a client's connect hangs until its timeout.
class black_hole {
public:
  black_hole() {
    listen_fd_ = listen_loopback(port_, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    for (int i = 0; i < 4; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
      fillers_.push_back(fd);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
  }
  ~black_hole() {
    for (int fd : fillers_)
      ::close(fd);
    ::close(listen_fd_);
  }
  black_hole(const black_hole&) = delete;
  black_hole& operator=(const black_hole&) = delete;

  uint16_t port() const {
    return port_;
  }

  /// True when a fresh connect does not complete within `wait` (the queue is really full).
  bool swallows_connects(std::chrono::milliseconds wait) const {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    const int rc = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    bool swallowed = false;
    if (rc != 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      swallowed = ::poll(&p, 1, static_cast<int>(wait.count())) == 0;
    }
    ::close(fd);
    return swallowed;
  }

private:
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::vector<int> fillers_;
};

// -- SMTP server ------------------------------------------------------------------------------------

/// One message as the SMTP server received it.
struct smtp_message {
  std::string mail_from;
  std::vector<std::string> rcpt_tos;
  std::string data;
};

/// An aiosmtpd server (Debian package python3-aiosmtpd) on a free loopback port, run as a
/// child process with a handler script written here. It appends every message it accepts to a
/// JSON-lines file. Recipients whose local part starts with "reject" get `550`, with "defer"
/// get `451`. Stopped (SIGTERM, then SIGKILL) and cleaned up by the destructor.
class smtp_server {
public:
  smtp_server() {
    char pattern[] = "/tmp/medianest-smtp-XXXXXX";
    if (!::mkdtemp(pattern))
      throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    python_ = find_python();
    if (python_.empty()) {
      error_ = "no python3 with the aiosmtpd module: apt-get install python3-aiosmtpd";
      return;
    }
    write_script();
    for (int attempt = 0; attempt < 3 && pid_ <= 0; ++attempt)
      start();
  }
  ~smtp_server() {
    stop();
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
  smtp_server(const smtp_server&) = delete;
  smtp_server& operator=(const smtp_server&) = delete;

  bool running() const {
    return pid_ > 0;
  }
  /// Why it is not running.
  const std::string& error() const {
    return error_;
  }
  uint16_t port() const {
    return port_;
  }
  std::string url() const {
    return "smtp://127.0.0.1:" + std::to_string(port_);
  }

  std::vector<smtp_message> messages() const {
    std::vector<smtp_message> out;
    std::ifstream in(dir_ / "messages.jsonl");
    std::string line;
    while (std::getline(in, line)) {
      if (line.empty())
        continue;
      boost::system::error_code ec;
      const boost::json::value v = boost::json::parse(line, ec);
      if (ec || !v.is_object())
        continue;  // a line being written
      smtp_message m;
      m.mail_from = boost::json::value_to<std::string>(v.at("mail_from"));
      for (const auto& r : v.at("rcpt_tos").as_array())
        m.rcpt_tos.push_back(boost::json::value_to<std::string>(r));
      m.data = boost::json::value_to<std::string>(v.at("data"));
      out.push_back(std::move(m));
    }
    return out;
  }

  bool wait_for_messages(std::size_t n, std::chrono::milliseconds timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (messages().size() >= n)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return messages().size() >= n;
  }

  void stop() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGTERM);
    if (!reap_within(std::chrono::seconds{5})) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  /// The server's output (for failure messages).
  std::string log() const {
    std::ifstream in(dir_ / "server.log");
    std::ostringstream text;
    text << in.rdbuf();
    return text.str();
  }

private:
  static std::string find_python() {
    // Debian's interpreter first: a pyenv or venv python3 on PATH lacks the Debian package.
    for (const char* candidate : {"/usr/bin/python3", "python3"}) {
      const std::string command =
        std::string(candidate) + " -c 'import aiosmtpd.controller' >/dev/null 2>&1";
      if (std::system(command.c_str()) == 0)
        return candidate;
    }
    return {};
  }

  void write_script() {
    std::ofstream script(dir_ / "smtp_sink.py");
    script << R"PY(import json, signal, sys, threading
from aiosmtpd.controller import Controller

class Recorder:
    def __init__(self, path):
        self.path = path

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        local = address.split('@')[0]
        if local.startswith('reject'):
            return '550 5.1.1 mailbox unavailable'
        if local.startswith('defer'):
            return '451 4.3.0 try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, server, session, envelope):
        data = envelope.original_content
        if data is None:
            data = envelope.content
        if isinstance(data, (bytes, bytearray)):
            data = bytes(data).decode('utf-8', 'replace')
        record = {'mail_from': envelope.mail_from, 'rcpt_tos': list(envelope.rcpt_tos), 'data': data}
        with open(self.path, 'a', encoding='utf-8') as f:
            f.write(json.dumps(record) + '\n')
        return '250 2.0.0 accepted'

port, path = int(sys.argv[1]), sys.argv[2]
controller = Controller(Recorder(path), hostname='127.0.0.1', port=port)
controller.start()
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *args: stop.set())
signal.signal(signal.SIGINT, lambda *args: stop.set())
print('READY', flush=True)
while not stop.wait(0.2):
    pass
controller.stop()
)PY";
  }

  void start() {
    port_ = unused_port();
    const std::string script = (dir_ / "smtp_sink.py").string();
    const std::string messages = (dir_ / "messages.jsonl").string();
    const std::string log = (dir_ / "server.log").string();
    const std::string port = std::to_string(port_);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<char*> argv{const_cast<char*>(python_.c_str()), const_cast<char*>("-u"),
                            const_cast<char*>(script.c_str()), const_cast<char*>(port.c_str()),
                            const_cast<char*>(messages.c_str()), nullptr};
    pid_t pid = -1;
    const int rc = ::posix_spawnp(&pid, python_.c_str(), &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    if (rc != 0) {
      error_ = "posix_spawnp failed";
      return;
    }
    pid_ = pid;
    // Ready once the script printed READY (Controller.start() returns when it serves).
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds{20};
    while (std::chrono::steady_clock::now() < deadline) {
      if (this->log().find("READY") != std::string::npos)
        return;
      int status = 0;
      if (::waitpid(pid_, &status, WNOHANG) == pid_) {
        error_ = "the SMTP server exited: " + this->log();
        pid_ = -1;
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds{50});
    }
    error_ = "the SMTP server did not start within 20 s: " + this->log();
    stop();
  }

  bool reap_within(std::chrono::milliseconds wait) {
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds{20});
    }
    return false;
  }

  std::filesystem::path dir_;
  std::string python_;
  std::string error_;
  uint16_t port_ = 0;
  pid_t pid_ = -1;
};

} // namespace medianest::test_peers
