#pragma once

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace medianest::test {

/// A real HTTP/1.1 server on 127.0.0.1 that records every request it receives (a webhook
/// sink). It answers `status` (200 by default), can be stopped and started again on the same
/// port, and closes each connection after one response.
class http_sink {
public:
  struct request {
    std::string method;
    std::string path;
    std::string content_type;
    std::string body;
  };

  /// Listens on `port` (0: a free one) right away unless `start_now` is false.
  explicit http_sink(uint16_t port = 0, bool start_now = true);
  ~http_sink();

  void start();
  void stop();
  uint16_t port() const noexcept {
    return port_;
  }
  std::string url(const std::string& path) const;
  void respond_with(int status) {
    status_ = status;
  }

  /// Requests received so far on `path` (every path when empty).
  std::vector<request> received(const std::string& path = {}) const;

  /// Waits until `count` requests arrived on `path`; false on timeout.
  bool wait_for(size_t count, const std::string& path, int timeout_ms) const;

private:
  void serve();
  void handle(int fd);

  uint16_t port_;
  int listener_ = -1;
  std::atomic<bool> running_{false};
  std::atomic<int> status_{200};
  std::thread thread_;
  mutable std::mutex mtx_;
  mutable std::condition_variable cv_;
  std::vector<request> requests_;
};

} // namespace medianest::test
