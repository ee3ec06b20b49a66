#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace medianest::test {

/// A small WebSocket client for tests of the live feed: one connection to 127.0.0.1, driven
/// from the test's thread. Every operation runs the client's own io_context for at most its
/// timeout; a read that times out stays pending and is picked up by the next call, so no
/// operation is ever cancelled half-way (Beast latches a failed stream).
class ws_client {
public:
  using clock = std::chrono::steady_clock;

  struct options {
    std::string target = "/api/v1/performance/live";
    /// Extra request headers, e.g. {"Authorization", "Bearer …"}, {"Origin", "https://…"}.
    std::vector<std::pair<std::string, std::string>> headers;
    /// SO_RCVBUF set before connecting (0: the kernel's default and autotuning).
    int receive_buffer = 0;
    /// false: a "slow reader" that never reads a byte after the handshake (frames pile up in
    /// the kernel buffers until the server gives up on it).
    bool read = true;
    std::chrono::milliseconds timeout{5000};
  };

  /// Connects and performs the handshake (at most `opts.timeout`).
  ws_client(uint16_t port, options opts);
  ~ws_client();
  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

  /// Whether the server accepted the upgrade (101).
  bool accepted() const noexcept {
    return accepted_;
  }
  /// The handshake response's HTTP status (0 when none came) and, when declined, its body.
  unsigned status() const noexcept {
    return status_;
  }
  const std::string& body() const noexcept {
    return body_;
  }
  /// Why the connection failed or ended (empty while it is fine).
  const std::string& error() const noexcept {
    return error_;
  }

  /// The next text message, waiting at most `timeout`; nothing on timeout or once the
  /// connection ended.
  std::optional<std::string> read(std::chrono::milliseconds timeout);
  /// Sends one text message; false if it could not be sent within the client's timeout.
  bool send(const std::string& text);
  /// Starts the closing handshake (code 1000) and waits for the server's answer.
  void close();

  /// Whether the connection has ended (a close frame, a reset, end of stream).
  bool ended() const noexcept {
    return ended_;
  }
  /// Reads (discarding messages) until the connection ends or `timeout` passes; whether it
  /// ended.
  bool wait_until_ended(std::chrono::milliseconds timeout);
  /// The code and reason of the close frame the server sent (0 and empty without one).
  uint16_t close_code() const noexcept {
    return close_code_;
  }
  const std::string& close_reason() const noexcept {
    return close_reason_;
  }

private:
  struct impl;

  void start_read();
  /// Runs the io_context until `done()` or the deadline; whether `done()`.
  template <class Predicate>
  bool run_until(Predicate done, clock::time_point deadline);

  std::unique_ptr<impl> impl_;
  options opts_;
  bool accepted_ = false;
  unsigned status_ = 0;
  std::string body_;
  std::string error_;
  std::deque<std::string> messages_;
  bool reading_ = false;
  bool writing_ = false;
  bool ended_ = false;
  uint16_t close_code_ = 0;
  std::string close_reason_;
};

} // namespace medianest::test
