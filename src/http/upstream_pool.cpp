#include "http/upstream_pool.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

namespace medianest::http {

namespace net = boost::asio;
namespace beast = boost::beast;
using tcp = net::ip::tcp;

namespace {

/// An idle connection older than this may have been closed by the upstream's own keep-alive
/// timeout (nginx: 75 s, Node: 5 s); it is closed rather than risked.
constexpr auto max_idle = std::chrono::seconds(4);

} // namespace

upstream_pool::upstream_pool(net::io_context& ioc, upstream_target target, size_t max_connections,
                             size_t max_queue, std::chrono::milliseconds connect_timeout)
  : ioc_(ioc),
    target_(std::move(target)),
    max_connections_(std::max<size_t>(max_connections, 1)),
    max_queue_(max_queue),
    connect_timeout_(connect_timeout) {
  // nop
}

upstream_connection_ptr upstream_pool::take_idle() {
  std::vector<upstream_connection_ptr> expired;
  upstream_connection_ptr found;
  {
    std::lock_guard guard{mutex_};
    auto now = clock::now();
    while (!idle_.empty() && !found) {
      auto c = std::move(idle_.back());
      idle_.pop_back();
      if (now - c->idle_since < max_idle) {
        found = std::move(c);
      } else {
        --open_;
        expired.push_back(std::move(c));
      }
    }
  }
  for (auto& c : expired) {
    beast::error_code ignored;
    c->stream.socket().close(ignored);
  }
  return found;
}

bool upstream_pool::acquire(const net::any_io_executor& ex, handler done) {
  std::unique_lock guard{mutex_};
  if (closed_) {
    guard.unlock();
    deliver({ex, std::move(done)}, net::error::operation_aborted, nullptr);
    return true;
  }
  guard.unlock();
  if (auto c = take_idle()) {
    deliver({ex, std::move(done)}, {}, std::move(c));
    return true;
  }
  guard.lock();
  if (open_ < max_connections_) {
    ++open_;
    guard.unlock();
    connect({ex, std::move(done)});
    return true;
  }
  if (waiters_.size() >= max_queue_)
    return false;
  waiters_.push_back({ex, std::move(done)});
  return true;
}

void upstream_pool::release(upstream_connection_ptr c, bool reusable) {
  std::vector<waiter> to_connect;
  std::unique_lock guard{mutex_};
  if (reusable && !closed_) {
    c->reused = true;
    c->idle_since = clock::now();
    if (!waiters_.empty()) {
      auto w = std::move(waiters_.front());
      waiters_.pop_front();
      guard.unlock();
      deliver(std::move(w), {}, std::move(c));
      return;
    }
    idle_.push_back(std::move(c));
    return;
  }
  --open_;
  serve_waiters_locked(to_connect);
  guard.unlock();
  beast::error_code ignored;
  c->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  c->stream.socket().close(ignored);
  for (auto& w : to_connect)
    connect(std::move(w));
}

void upstream_pool::serve_waiters_locked(std::vector<waiter>& to_connect) {
  while (!waiters_.empty() && open_ < max_connections_) {
    ++open_;
    to_connect.push_back(std::move(waiters_.front()));
    waiters_.pop_front();
  }
}

void upstream_pool::close() {
  std::vector<upstream_connection_ptr> idle;
  std::deque<waiter> waiters;
  {
    std::lock_guard guard{mutex_};
    closed_ = true;
    idle.swap(idle_);
    waiters.swap(waiters_);
    open_ -= idle.size();
  }
  for (auto& c : idle) {
    beast::error_code ignored;
    c->stream.socket().close(ignored);
  }
  for (auto& w : waiters)
    deliver(std::move(w), net::error::operation_aborted, nullptr);
}

void upstream_pool::connect(waiter w) {
  auto c = std::make_shared<upstream_connection>(ioc_.get_executor());
  tcp::resolver::results_type endpoints;
  {
    std::lock_guard guard{mutex_};
    endpoints = endpoints_;
  }
  auto self = shared_from_this();
  auto connect_to = [self, c](waiter w, const tcp::resolver::results_type& endpoints) {
    c->stream.expires_after(self->connect_timeout_);
    c->stream.async_connect(endpoints, [self, c, w = std::move(w)](
                                         beast::error_code ec, const tcp::endpoint&) mutable {
      self->on_connected(std::move(w), c, ec);
    });
  };
  if (!endpoints.empty())
    return connect_to(std::move(w), endpoints);
  auto resolver = std::make_shared<tcp::resolver>(ioc_);
  resolver->async_resolve(
    target_.host, std::to_string(target_.port),
    [self, resolver, connect_to, w = std::move(w)](beast::error_code ec,
                                                   tcp::resolver::results_type results) mutable {
      if (ec)
        return self->on_connected(std::move(w), nullptr, ec);
      {
        std::lock_guard guard{self->mutex_};
        self->endpoints_ = results;
      }
      connect_to(std::move(w), results);
    });
}

void upstream_pool::on_connected(waiter w, upstream_connection_ptr c, beast::error_code ec) {
  if (!ec) {
    c->stream.expires_never();
    beast::error_code ignored;
    c->stream.socket().set_option(tcp::no_delay(true), ignored);
    return deliver(std::move(w), {}, std::move(c));
  }
  spdlog::warn("upstream {} unreachable: {}", target_.url, ec.message());
  // The upstream refused or timed out just now: the exchanges queued behind this one would
  // meet the same fate one connect timeout at a time, so they fail together.
  std::deque<waiter> failed;
  {
    std::lock_guard guard{mutex_};
    --open_;
    endpoints_ = {}; // resolve again next time: the address may have changed
    failed.swap(waiters_);
  }
  deliver(std::move(w), ec, nullptr);
  for (auto& other : failed)
    deliver(std::move(other), ec, nullptr);
}

void upstream_pool::deliver(waiter w, beast::error_code ec, upstream_connection_ptr c) {
  auto ex = w.ex;
  net::post(ex, [done = std::move(w.done), ec, c = std::move(c)]() mutable {
    done(ec, std::move(c));
  });
}

size_t upstream_pool::queued() const {
  std::lock_guard guard{mutex_};
  return waiters_.size();
}

size_t upstream_pool::open() const {
  std::lock_guard guard{mutex_};
  return open_;
}

size_t upstream_pool::idle() const {
  std::lock_guard guard{mutex_};
  return idle_.size();
}

} // namespace medianest::http
