#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include "http/field_arena.hpp"
#include "http/server_state.hpp"
#include "http/types.hpp"

namespace medianest::http {

class proxy_exchange;

/// One HTTP/1.1 connection: reads requests (with idle, header and body limits), routes and
/// authenticates them, hands them to their handler with a responder, and writes the answer
/// when the responder is called, on the connection's strand.
class http_session : public std::enable_shared_from_this<http_session> {
public:
  /// `worker` is the index of the HTTP thread (io_context) that owns the socket.
  http_session(boost::asio::ip::tcp::socket&& socket, std::shared_ptr<server_state> state,
               size_t worker);
  ~http_session();

  /// Starts serving; false (and the socket answered with 503) if the connection cap is hit.
  void start();

  /// Finishes the request in flight, if any, then closes. Thread-safe.
  void shutdown();

  /// Closes a connection that has not sent a byte yet, to make room for a new one at the
  /// connection cap (server_state::enter). Thread-safe.
  void close_silent();

private:
  friend class proxy_exchange;
  using clock = std::chrono::steady_clock;
  using fields_type = boost::beast::http::basic_fields<arena_allocator<char>>;
  using request_type = boost::beast::http::request<boost::beast::http::string_body, fields_type>;
  using request_parser =
    boost::beast::http::request_parser<boost::beast::http::string_body, arena_allocator<char>>;

  void wait_for_request();
  void read_header();
  void on_header(boost::beast::error_code ec);
  void read_body();
  /// An absolute-form target turned into origin form and Host; false when it has no host.
  static bool take_absolute_form(request_type& req);
  /// After the header: a gateway request goes upstream, anything else reads its body.
  void continue_after_header();
  /// The proxy wrote the whole response itself: account the request and read the next one.
  void finish_proxied(unsigned status, bool close);
  /// The proxy failed half-way through a response: account it and drop the connection.
  void abort_proxied(unsigned status);
  void record_request(unsigned status);
  /// The peer's address, looked up once per connection ("" if the socket has none).
  const std::string& remote_address();
  void on_body(boost::beast::error_code ec);
  void fail_read(boost::beast::error_code ec);
  void dispatch(request_type&& req);
  /// A WebSocket upgrade of the live feed's path: authenticates (header or ?token=), checks
  /// the Origin, then hands the socket to a live_session and ends this session.
  void upgrade_to_live(request_type&& req, const http_request& r);
  /// When this connection's address is locked out for failed authentications (auth_guard):
  /// answers 429 RATE_LIMITED and returns true.
  bool refuse_locked_out();
  /// Counts a failed authentication of this connection's address; logs the lockout it starts.
  void count_auth_failure();
  void complete(http_response res);
  void send_and_close(const api_error& err);
  void write(http_response res, bool close);
  void on_write(boost::beast::error_code ec, bool close);
  void linger_close();
  /// Timeouts: one timer per connection, armed lazily. Setting a deadline only moves
  /// deadline_; the timer, when it fires, re-arms itself if the deadline moved, so the
  /// request path arms no timer per socket operation.
  void set_deadline(clock::duration timeout);
  void clear_deadline();
  void arm_timer();
  void on_timer(boost::beast::error_code ec);
  void drain();

  boost::beast::tcp_stream stream_;
  boost::asio::steady_timer timer_;
  clock::time_point deadline_ = clock::time_point::max();
  bool timer_waiting_ = false;
  boost::beast::flat_buffer buffer_;
  /// Declared before parser_, whose fields it holds, so that it is destroyed after it (a
  /// proxied exchange that holds a request's fields holds the session too).
  field_arena fields_arena_;
  std::optional<request_parser> parser_;
  boost::beast::http::response<boost::beast::http::string_body> response_;
  std::shared_ptr<server_state> state_;
  uint64_t id_;
  size_t worker_;
  bool registered_ = false;
  /// Whether the client has sent a byte yet (until then it may be closed at the cap).
  bool spoke_ = false;
  bool busy_ = false;
  bool stopping_ = false;
  // -- the request in flight -------------------------------------------------
  std::string method_;
  const std::string* route_ = nullptr;
  std::string correlation_id_;
  bool keep_alive_ = true;
  std::optional<std::string> remote_address_;
  /// The heads a proxied exchange writes (the request upstream, the response to the client),
  /// kept with the connection so that their storage is reused by its next requests.
  std::string upstream_head_;
  std::string client_head_;
  /// The proxied exchange in flight, which the connection's deadline concerns (it clears this
  /// when it ends).
  proxy_exchange* exchange_ = nullptr;
  clock::time_point started_;
};

} // namespace medianest::http
