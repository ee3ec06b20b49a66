#pragma once

#include <chrono>
#include <deque>
#include <memory>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "http/live_feed.hpp"

namespace medianest::http {

/// One WebSocket client of the live feed (docs/live.md): sends the latest metrics frame at
/// the client's interval and every event frame, one write at a time; reads subscribe
/// messages; drops a client that stops reading instead of queueing for it.
class live_session final : public live_subscriber,
                           public std::enable_shared_from_this<live_session> {
public:
  using request_type = boost::beast::http::request<boost::beast::http::string_body>;

  /// Event frames waiting for one session before it counts as too slow.
  static constexpr size_t max_queued_events = 64;

  live_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<live_feed> feed,
               bool admin, uint64_t id);
  ~live_session() override;

  /// Completes the upgrade `req` (already authenticated) and starts serving. Call on the
  /// socket's thread.
  void run(request_type req);

  void metrics_available() override;
  void event(shared_frame frame) override;
  void going_away() override;
  bool is_admin() const noexcept override {
    return admin_;
  }

private:
  using clock = std::chrono::steady_clock;

  void on_accept(boost::beast::error_code ec);
  void read();
  void on_read(boost::beast::error_code ec);
  /// Starts the next write if none is in flight: queued events first, then the newest metrics
  /// frame once it was published an interval after the one sent before.
  void pump();
  void write(shared_frame frame);
  void on_write(boost::beast::error_code ec);
  void on_stall(boost::beast::error_code ec);
  void queue(shared_frame frame);
  /// Closes with `reason` once no handshake or write is in flight.
  void close(boost::beast::websocket::close_reason reason);
  void send_pending_close();
  /// Drops the TCP connection at once (a client that does not read cannot get a close frame).
  void drop(const char* why);

  boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws_;
  boost::asio::steady_timer stall_timer_;
  boost::beast::flat_buffer input_;
  std::shared_ptr<live_feed> feed_;
  std::deque<shared_frame> events_;
  shared_frame in_flight_;
  std::chrono::milliseconds interval_;
  /// When the last metrics frame sent was published.
  clock::time_point last_published_{};
  uint64_t sent_sequence_ = 0;
  uint64_t id_;
  bool admin_;
  bool joined_ = false;
  live_feed::join_result refused_ = live_feed::join_result::joined;
  bool metrics_pending_ = false;
  bool closing_ = false;
  bool accepted_ = false;
  /// The handshake succeeded and the session is in the feed: frames may be written.
  bool open_ = false;
  bool close_pending_ = false;
  boost::beast::websocket::close_reason pending_close_;
};

} // namespace medianest::http
