#include "http/server.hpp"

#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <spdlog/spdlog.h>

#include "http/http_session.hpp"
#include "http/gateway_impl.hpp"
#include "http/server_state.hpp"

namespace medianest::http {

namespace net = boost::asio;
using tcp = net::ip::tcp;

// -- server_state -------------------------------------------------------------

bool server_state::enter(uint64_t id, const std::shared_ptr<http_session>& session) {
  std::lock_guard guard{mtx_};
  if (sessions_.size() >= config.max_connections)
    return false;
  sessions_.emplace(id, session);
  active_.store(sessions_.size(), std::memory_order_relaxed);
  return true;
}

void server_state::leave(uint64_t id) {
  bool drained = false;
  {
    std::lock_guard guard{mtx_};
    sessions_.erase(id);
    active_.store(sessions_.size(), std::memory_order_relaxed);
    drained = sessions_.empty() && stopping.load();
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
  net::io_context ioc;
  /// Serializes the acceptor, the signal set and the shutdown timer.
  net::strand<net::io_context::executor_type> control;
  tcp::acceptor acceptor;
  net::signal_set signals;
  net::steady_timer grace_timer;
  net::steady_timer accept_retry;
  std::shared_ptr<server_state> state;
  std::atomic<bool> shutdown_started{false};

  ~impl() {
    if (state->proxy)
      state->proxy->internals().shutdown();
  }

  impl(server_config cfg)
    : ioc(static_cast<int>(cfg.threads)),
      control(net::make_strand(ioc)),
      acceptor(control),
      signals(control, SIGINT, SIGTERM),
      grace_timer(control),
      accept_retry(control),
      state(std::make_shared<server_state>()) {
    state->config = std::move(cfg);
  }

  void accept() {
    acceptor.async_accept(net::make_strand(ioc), [this](boost::system::error_code ec,
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
      std::make_shared<http_session>(std::move(socket), state)->start();
      accept();
    });
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
        state->proxy->internals().pool->close();
      auto open = state->active();
      spdlog::info("shutting down: stopped accepting, {} connection(s) to finish", open);
      grace_timer.expires_after(state->config.shutdown_grace);
      grace_timer.async_wait([this](boost::system::error_code ec) {
        if (ec)
          return;
        spdlog::warn("shutdown grace period over, dropping {} connection(s)",
                     state->active());
        ioc.stop();
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
    tcp::resolver resolver{impl_->ioc};
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
  impl_->state->proxy = std::make_shared<gateway>(std::make_unique<gateway::impl>(
    impl_->ioc, std::move(cfg), cache_bytes, std::move(shared_cache)));
  return impl_->state->proxy;
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
  std::vector<std::thread> pool;
  for (unsigned i = 1; i < impl_->state->config.threads; ++i)
    pool.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : pool)
    t.join();
}

void http_server::shutdown() {
  impl_->begin_shutdown();
}

size_t http_server::active_connections() const noexcept {
  return impl_->state->active();
}

} // namespace medianest::http
