#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>

#include "model/gateway_config.hpp"

namespace medianest::http {

/// One keep-alive connection to the upstream, used by one exchange at a time.
struct upstream_connection {
  explicit upstream_connection(const boost::asio::any_io_executor& ex) : stream(ex) {}
  boost::beast::tcp_stream stream;
  boost::beast::flat_buffer buffer;
  /// It served an earlier exchange: a failure before any response byte may mean the
  /// upstream closed it while idle, and the request may be retried on another one.
  bool reused = false;
  std::chrono::steady_clock::time_point idle_since;
};
using upstream_connection_ptr = std::shared_ptr<upstream_connection>;

/// The gateway's pool of keep-alive connections to the upstream: at most `max_connections`
/// open, idle ones reused most-recent first, and a FIFO queue of exchanges waiting for one,
/// bounded by `max_queue`. Thread-safe; completions are posted to the executor each caller names.
class upstream_pool : public std::enable_shared_from_this<upstream_pool> {
public:
  using clock = std::chrono::steady_clock;
  using handler = std::function<void(boost::beast::error_code, upstream_connection_ptr)>;

  upstream_pool(boost::asio::io_context& ioc, upstream_target target, size_t max_connections,
                size_t max_queue, std::chrono::milliseconds connect_timeout);

  /// An idle connection, right now, or nullptr: the common case needs no hop through the
  /// io_context (which would wake another thread).
  upstream_connection_ptr take_idle();

  /// Hands an idle or newly connected connection to `done`, run on `ex`; a connect failure
  /// arrives as an error (504 for a timeout, 502 otherwise). False when the queue is full.
  bool acquire(const boost::asio::any_io_executor& ex, handler done);

  /// Gives back a connection after its exchange; one that is not `reusable` (an error, a body
  /// left unread, the upstream asked to close) is closed.
  void release(upstream_connection_ptr connection, bool reusable);

  /// Closes the idle connections and fails the waiting exchanges (shutdown).
  void close();

  size_t queued() const;
  size_t open() const;
  size_t idle() const;
  size_t max_connections() const noexcept {
    return max_connections_;
  }
  size_t max_queue() const noexcept {
    return max_queue_;
  }

private:
  struct waiter {
    boost::asio::any_io_executor ex;
    handler done;
  };

  void connect(waiter w);
  void on_connected(waiter w, upstream_connection_ptr c, boost::beast::error_code ec);
  /// Starts a connection for the first waiter if the cap allows; call with the lock held.
  void serve_waiters_locked(std::vector<waiter>& to_connect);
  static void deliver(waiter w, boost::beast::error_code ec, upstream_connection_ptr c);

  boost::asio::io_context& ioc_;
  upstream_target target_;
  size_t max_connections_;
  size_t max_queue_;
  std::chrono::milliseconds connect_timeout_;

  mutable std::mutex mutex_;
  std::vector<upstream_connection_ptr> idle_;
  std::deque<waiter> waiters_;
  size_t open_ = 0;
  bool closed_ = false;
  boost::asio::ip::tcp::resolver::results_type endpoints_;
};

} // namespace medianest::http
