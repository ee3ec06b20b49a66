#include "support/http_sink.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "support/daemon_process.hpp"

namespace medianest::test {

http_sink::http_sink(uint16_t port, bool start_now) : port_(port ? port : free_port()) {
  if (start_now)
    start();
}

http_sink::~http_sink() {
  stop();
}

std::string http_sink::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void http_sink::start() {
  if (running_)
    return;
  // Close-on-exec: a daemon forked later must not hold the listener open, or stop() would
  // leave the port accepting connections nobody answers instead of refusing them.
  listener_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  int one = 1;
  ::setsockopt(listener_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port_);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(listener_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0
      || ::listen(listener_, 64) != 0)
    throw std::runtime_error("http_sink cannot listen on port " + std::to_string(port_));
  running_ = true;
  thread_ = std::thread([this] { serve(); });
}

void http_sink::stop() {
  if (!running_)
    return;
  running_ = false;
  thread_.join();
  ::close(listener_);
  listener_ = -1;
}

void http_sink::serve() {
  while (running_) {
    pollfd p{listener_, POLLIN, 0};
    if (::poll(&p, 1, 50) <= 0)
      continue;
    int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
    if (fd >= 0) {
      handle(fd);
      ::close(fd);
    }
  }
}

void http_sink::handle(int fd) {
  std::string data;
  char buf[8192];
  size_t header_end = std::string::npos, content_length = 0;
  while (true) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 2000) <= 0)
      return;
    auto n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0)
      return;
    data.append(buf, static_cast<size_t>(n));
    if (header_end == std::string::npos && (header_end = data.find("\r\n\r\n")) != std::string::npos) {
      auto lower = data.substr(0, header_end);
      for (auto& c : lower)
        c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (auto pos = lower.find("content-length:"); pos != std::string::npos)
        content_length = std::stoul(lower.substr(pos + 15));
    }
    if (header_end != std::string::npos && data.size() >= header_end + 4 + content_length)
      break;
  }
  request r;
  auto line_end = data.find("\r\n");
  auto first = data.substr(0, line_end);
  auto sp1 = first.find(' '), sp2 = first.rfind(' ');
  r.method = first.substr(0, sp1);
  r.path = first.substr(sp1 + 1, sp2 - sp1 - 1);
  auto headers = data.substr(0, header_end);
  std::string lower = headers;
  for (auto& c : lower)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (auto pos = lower.find("content-type:"); pos != std::string::npos) {
    auto end = headers.find("\r\n", pos);
    r.content_type = headers.substr(pos + 13, end - pos - 13);
    r.content_type.erase(0, r.content_type.find_first_not_of(' '));
  }
  r.body = data.substr(header_end + 4, content_length);
  int status = status_;
  std::string reply = "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Length: 2\r\n"
                      "Connection: close\r\n\r\nok";
  ::send(fd, reply.data(), reply.size(), MSG_NOSIGNAL);
  if (status >= 200 && status < 300) {
    std::lock_guard guard{mtx_};
    requests_.push_back(std::move(r));
  }
  cv_.notify_all();
}

std::vector<http_sink::request> http_sink::received(const std::string& path) const {
  std::lock_guard guard{mtx_};
  std::vector<request> out;
  for (const auto& r : requests_)
    if (path.empty() || r.path == path)
      out.push_back(r);
  return out;
}

bool http_sink::wait_for(size_t count, const std::string& path, int timeout_ms) const {
  std::unique_lock lock{mtx_};
  return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] {
    size_t n = 0;
    for (const auto& r : requests_)
      if (path.empty() || r.path == path)
        ++n;
    return n >= count;
  });
}

} // namespace medianest::test
