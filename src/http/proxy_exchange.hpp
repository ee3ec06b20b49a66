#pragma once

#include <array>
#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <boost/beast/http/buffer_body.hpp>
#include <boost/beast/http/parser.hpp>

#include "http/field_arena.hpp"
#include "http/gateway_impl.hpp"
#include "http/types.hpp"
#include "http/upstream_response_parser.hpp"
#include "model/rate_limiter.hpp"

namespace medianest::http {

class http_session;

/// One proxied request, from its parsed header to the last byte of the answer: admission
/// (rate limit, cache, circuit breaker, load shedding, queue cap), then the request relayed
/// upstream over a pooled connection and the response relayed back piece by piece, so that
/// neither body is ever held whole (but a response on its way into the cache). Runs on the
/// client session's strand; upstream completions are bound to it.
class proxy_exchange : public std::enable_shared_from_this<proxy_exchange> {
public:
  proxy_exchange(std::shared_ptr<http_session> session, gateway::impl& gw);
  ~proxy_exchange();

  /// Takes over the session's request, whose header has been read.
  void start();

private:
  using clock = std::chrono::steady_clock;
  using request_parser =
    boost::beast::http::request_parser<boost::beast::http::buffer_body, arena_allocator<char>>;

  // -- admission ------------------------------------------------------------------------
  bool admit_rate();
  void look_up_cache();
  void serve_cached(const cached_response& hit, std::chrono::seconds age);
  void go_upstream();
  bool admit_breaker_and_load();

  // -- the upstream leg -----------------------------------------------------------------
  void prepare_upstream_request();
  void on_connection(boost::beast::error_code ec, upstream_connection_ptr c);
  void send_request();
  void relay_request_body();
  void write_upstream(const char* data, size_t n);
  /// Fills out_ with what goes on the wire next: the header if not sent yet, then `n` bytes
  /// of body (chunk-framed when `chunked`), then the last chunk when `last`. Bodies are framed
  /// by hand rather than by Beast's serializer: on this path its buffer sequences cost more
  /// than the copying they avoid.
  void frame(const char* data, size_t n, bool chunked, bool last);
  void on_request_written(boost::beast::error_code ec);
  void read_response_header();
  void continue_response_header();
  void on_response_header(boost::beast::error_code ec);
  bool retry_on_stale(boost::beast::error_code ec);
  void fail_upstream(boost::beast::error_code ec);

  // -- the response leg -----------------------------------------------------------------
  void prepare_client_response();
  void relay_response_body();
  void on_upstream_body(boost::beast::error_code ec);
  void write_client_piece(size_t n);
  void on_client_piece(boost::beast::error_code ec);
  void finish();
  void abort(const char* where, boost::beast::error_code ec);

  // -- no progress for --upstream-timeout ends the exchange ------------------------------
  // The deadline is the connection's: its one timer, re-armed only when it fires, calls
  // deadline_passed while an exchange is in flight.
  void arm_deadline();
  void progress();
  void clear_deadline();
  friend class http_session;
  void deadline_passed();

  /// Answers with a buffered response through the session (refusals, cache hits, 502/504).
  void answer(http_response res);
  void add_rate_headers(http_response& res) const;
  void store_in_cache();

  std::shared_ptr<http_session> session_;
  gateway::impl& gw_;
  /// The pool of this connection's HTTP thread.
  upstream_pool* pool_;
  gateway::impl::counters_block* counters_;
  bool timed_out_ = false;
  clock::time_point started_;
  const std::string* route_ = nullptr;
  bool is_get_ = false;
  bool is_head_ = false;
  bool client_keep_alive_ = true;
  unsigned client_version_ = 11;

  std::optional<request_parser> request_;
  std::optional<upstream_response_parser> response_;
  /// The head on its way: the session's upstream_head_, then its client_head_.
  const std::string* head_ = nullptr;
  bool head_sent_ = false;
  bool request_chunked_ = false;
  bool response_chunked_ = false;
  std::array<boost::asio::const_buffer, 5> out_;
  std::array<char, 24> chunk_prefix_;
  upstream_connection_ptr upstream_;
  bool request_done_at_header_ = false;
  unsigned stale_retries_ = 0;
  bool breaker_ticket_ = false;
  bool upstream_reusable_ = false;
  unsigned status_ = 0;

  rate_decision rate_;
  std::chrono::seconds cache_ttl_{0};
  std::string credential_key_;
  std::string shared_key_;
  bool capturing_ = false;
  /// What this GET's answer was, for the route's usage counters (cache_strategy reads them).
  route_latency::get_kind get_kind_ = route_latency::get_kind::not_get;
  cached_response capture_;
  std::string capture_control_;
  std::string capture_vary_;
  bool capture_sets_cookie_ = false;

  /// The relay buffer, borrowed from the thread's pool on first use.
  char* piece();
  std::unique_ptr<char[]> piece_;
  static constexpr size_t piece_size = gateway::impl::piece_bytes;
};

} // namespace medianest::http
