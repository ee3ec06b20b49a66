#include "http/server.hpp"

#include <thread>

#include <boost/asio/executor_work_guard.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "http/http_session.hpp"
#include "http/gateway_impl.hpp"
#include "http/live_feed.hpp"
#include "http/server_state.hpp"

namespace medianest::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// -- server_state -------------------------------------------------------------

bool server_state::enter(uint64_t id, const std::shared_ptr<http_session>& session) {
  auto now = std::chrono::steady_clock::now();
  std::shared_ptr<http_session> displaced;
  {
    std::lock_guard guard{mtx_};
    if (sessions_.size() >= config.max_connections) {
      auto oldest = silent_.begin();
      if (oldest == silent_.end() || now - oldest->second < silent_grace)
        return false;
      if (auto it = sessions_.find(oldest->first); it != sessions_.end()) {
        displaced = it->second.lock();
        sessions_.erase(it);
      }
      silent_.erase(oldest);
    }
    sessions_.emplace(id, session);
    silent_.emplace(id, now);
    active_.store(sessions_.size(), std::memory_order_relaxed);
  }
  if (displaced)
    displaced->close_silent();
  return true;
}

void server_state::spoke(uint64_t id) {
  std::lock_guard guard{mtx_};
  silent_.erase(id);
}

void server_state::leave(uint64_t id) {
  bool drained = false;
  {
    std::lock_guard guard{mtx_};
    sessions_.erase(id);
    silent_.erase(id);
    active_.store(sessions_.size(), std::memory_order_relaxed);
    drained = sessions_.empty() && stopping.load() && (!live || live->clients() == 0);
  }
  if (drained && on_drained)
    on_drained();
}

void server_state::shutdown_sessions() {
  std::vector<std::shared_ptr<http_session>> live;
  {
    std::lock_guard guard{mtx_};
    for (auto& [id, weak] : sessions_)
      if (auto session = weak.lock())
        live.push_back(std::move(session));
  }
  for (auto& session : live)
    session->shutdown();
}

// -- http_server ---------------------------------------------------------------

struct http_server::impl {
  using work_guard = net::executor_work_guard<net::io_context::executor_type>;

  /// One io_context per HTTP thread, each run by that thread alone (as nginx runs one event
  /// loop per worker): a connection and its upstream exchanges stay on one thread, so there
  /// is no lock or cross-thread wake-up on the request path.
  std::vector<std::unique_ptr<net::io_context>> workers;
  /// Keeps the workers but the first running while they have no connection yet.
  std::vector<work_guard> idle_guards;
  /// On the first worker: serializes the acceptor, the signal set and the shutdown timer.
  net::strand<net::io_context::executor_type> control;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer grace_timer;
  net::steady_timer accept_retry;
  std::shared_ptr<server_state> state;
  std::atomic<bool> shutdown_started{false};
  size_t next_worker = 0;

  static std::vector<std::unique_ptr<net::io_context>> make_workers(unsigned threads) {
    std::vector<std::unique_ptr<net::io_context>> out;
    for (unsigned i = 0; i < std::max(threads, 1u); ++i)
      out.push_back(std::make_unique<net::io_context>(1));
    return out;
  }

  impl(server_config cfg)
    : workers(make_workers(cfg.threads)),
      control(net::make_strand(*workers.front())),
      acceptor(control),
      signals(control, SIGINT, SIGTERM),
      grace_timer(control),
      accept_retry(control),
      state(std::make_shared<server_state>()) {
    state->config = std::move(cfg);
    state->auth_failures = std::make_unique<auth_guard>(state->config.auth_failures);
    for (size_t i = 1; i < workers.size(); ++i)
      idle_guards.emplace_back(workers[i]->get_executor());
  }

  ~impl() {
    if (state->proxy)
      state->proxy->internals().shutdown();
  }

  void accept() {
    auto worker = next_worker++ % workers.size();
    acceptor.async_accept(*workers[worker], [this, worker](boost::system::error_code ec,
                                                           tcp::socket socket) {
      if (!acceptor.is_open())
        return;
      if (ec) {
        // Out of descriptors or a transient error: pause instead of spinning.
        spdlog::warn("accept failed: {}", ec.message());
        accept_retry.expires_after(std::chrono::milliseconds(50));
        accept_retry.async_wait([this](boost::system::error_code ec) {
          if (!ec)
            accept();
        });
        return;
      }
      std::make_shared<http_session>(std::move(socket), state, worker)->start();
      accept();
    });
  }

  void stop_workers() {
    for (auto& w : workers)
      w->stop();
  }

  void begin_shutdown() {
    if (shutdown_started.exchange(true))
      return;
    net::post(control, [this] {
      state->stopping.store(true);
      boost::system::error_code ignored;
      acceptor.close(ignored);
      signals.cancel(ignored);
      accept_retry.cancel();
      if (state->proxy)
        state->proxy->internals().close_pools();
      if (state->live)
        state->live->shutdown();
      auto open = state->active() + (state->live ? state->live->clients() : 0);
      spdlog::info("shutting down: stopped accepting, {} connection(s) to finish", open);
      grace_timer.expires_after(state->config.shutdown_grace);
      grace_timer.async_wait([this](boost::system::error_code ec) {
        if (ec)
          return;
        spdlog::warn("shutdown grace period over, dropping {} connection(s)",
                     state->active());
        stop_workers();
      });
      if (open == 0)
        grace_timer.cancel();
      else
        state->shutdown_sessions();
    });
  }
};

http_server::http_server(server_config cfg, std::shared_ptr<const router> routes,
                         std::shared_ptr<const jwt_verifier> verifier,
                         std::shared_ptr<spdlog::logger> access_log)
  : impl_(std::make_unique<impl>(std::move(cfg))) {
  impl_->state->routes = std::move(routes);
  impl_->state->verifier = std::move(verifier);
  impl_->state->access_log = std::move(access_log);
  impl_->state->on_drained = [this] {
    net::post(impl_->control, [this] { impl_->grace_timer.cancel(); });
  };
}

http_server::~http_server() = default;

uint16_t http_server::listen(std::error_code& ec) {
  boost::system::error_code bec;
  const auto& cfg = impl_->state->config;
  auto address = net::ip::make_address(cfg.host, bec);
  if (bec) {
    tcp::resolver resolver{*impl_->workers.front()};
    auto results = resolver.resolve(cfg.host, std::to_string(cfg.port), bec);
    if (bec || results.empty()) {
      ec = bec ? std::error_code{bec.value(), std::system_category()}
               : std::make_error_code(std::errc::address_not_available);
      return 0;
    }
    address = results.begin()->endpoint().address();
  }
  tcp::endpoint endpoint{address, cfg.port};
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), bec);
  if (!bec)
    acceptor.set_option(net::socket_base::reuse_address(true), bec);
  if (!bec)
    acceptor.bind(endpoint, bec);
  if (!bec)
    acceptor.listen(net::socket_base::max_listen_connections, bec);
  if (bec) {
    ec = std::error_code{bec.value(), std::system_category()};
    return 0;
  }
  ec.clear();
  return acceptor.local_endpoint().port();
}

std::shared_ptr<gateway> http_server::enable_gateway(gateway_config cfg, uint64_t cache_bytes,
                                                    std::optional<redis_target> shared_cache) {
  std::vector<net::io_context*> contexts;
  for (auto& w : impl_->workers)
    contexts.push_back(w.get());
  impl_->state->proxy = std::make_shared<gateway>(std::make_unique<gateway::impl>(
    contexts, std::move(cfg), cache_bytes, std::move(shared_cache)));
  return impl_->state->proxy;
}

std::shared_ptr<live_feed> http_server::enable_live_feed(std::string path, live_feed_config cfg) {
  impl_->state->live_path = std::move(path);
  impl_->state->live = std::make_shared<live_feed>(std::move(cfg));
  // Shutdown waits for live clients too (up to the grace period).
  impl_->state->live->on_drained([state = std::weak_ptr<server_state>(impl_->state)] {
    auto s = state.lock();
    if (s && s->active() == 0 && s->on_drained)
      s->on_drained();
  });
  return impl_->state->live;
}

std::shared_ptr<gateway> http_server::gateway_handle() const {
  return impl_->state->proxy;
}

void http_server::on_request(request_observer observer) {
  impl_->state->observer = std::move(observer);
}

void http_server::run() {
  impl_->signals.async_wait([this](boost::system::error_code ec, int signal) {
    if (ec)
      return;
    spdlog::info("received signal {}", signal);
    shutdown();
  });
  net::post(impl_->control, [this] { impl_->accept(); });
  std::vector<std::thread> threads;
  for (size_t i = 1; i < impl_->workers.size(); ++i)
    threads.emplace_back([this, i] { impl_->workers[i]->run(); });
  // The first worker holds the acceptor and the shutdown timer: once it runs out of work every
  // connection has been closed (or the grace period stopped everything).
  impl_->workers.front()->run();
  impl_->idle_guards.clear();
  for (auto& t : threads)
    t.join();
}

void http_server::shutdown() {
  impl_->begin_shutdown();
}

size_t http_server::active_connections() const noexcept {
  return impl_->state->active();
}

} // namespace medianest::http
