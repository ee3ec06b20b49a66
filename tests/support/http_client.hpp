#pragma once

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace medianest::test {

struct http_result {
  long status = 0;
  std::string body;
  /// Header names lower-cased.
  std::multimap<std::string, std::string> headers;
  /// libcurl's error text when no response came back.
  std::string error;

  std::string header(const std::string& lower_name) const;
};

/// A real HTTP client (libcurl) with one keep-alive connection per client object.
class http_client {
public:
  http_client();
  ~http_client();
  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  http_result request(const std::string& method, const std::string& url,
                      const std::vector<std::string>& headers = {},
                      const std::string& body = {});
  http_result get(const std::string& url, const std::vector<std::string>& headers = {}) {
    return request("GET", url, headers);
  }

private:
  void* curl_;
};

/// "Authorization: Bearer <token>".
std::string bearer(const std::string& token);

/// A TCP connection to 127.0.0.1:port for tests that need to control every byte.
class raw_connection {
public:
  explicit raw_connection(uint16_t port);
  ~raw_connection();
  raw_connection(const raw_connection&) = delete;
  raw_connection& operator=(const raw_connection&) = delete;

  bool connected() const noexcept {
    return fd_ >= 0;
  }
  /// Sends all bytes; false if the peer is gone.
  bool send(const std::string& bytes);
  /// Reads until the peer closes or `timeout_ms` passed.
  std::string read_until_close(int timeout_ms = 3000);

private:
  int fd_ = -1;
};

/// Sends raw bytes over a fresh TCP connection and returns whatever came back until the
/// server closed or `timeout_ms` passed.
std::string raw_exchange(uint16_t port, const std::string& bytes, int timeout_ms = 3000);

} // namespace medianest::test
