#include "http/http_session.hpp"

#include <boost/algorithm/string/predicate.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <spdlog/spdlog.h>

#include "http/auth.hpp"
#include "http/buffered_parse.hpp"
#include "http/coarse_clock.hpp"
#include "http/correlation.hpp"
#include "http/gateway_impl.hpp"
#include "http/live_feed.hpp"
#include "http/live_session.hpp"
#include "http/proxy_exchange.hpp"
#include "http/router.hpp"
#include "model/http_text.hpp"
#include "model/query_string.hpp"

namespace medianest::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

/// Whether a browser's Origin ("http://host:port") names the host the request was sent to
/// (the daemon's own dashboard), whatever --live-origin lists.
bool same_origin(std::string_view origin, std::string_view host) {
  for (std::string_view scheme : {"http://", "https://"})
    if (origin.starts_with(scheme))
      return !host.empty() && origin.substr(scheme.size()) == host;
  return false;
}

const std::string* const route_rejected = intern_route("(rejected)");
const std::string* const route_unparsed = intern_route("(unparsed)");
const std::string* const route_unmatched = intern_route("(unmatched)");

int64_t steady_ms(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}

constexpr auto write_timeout = std::chrono::seconds(30);
constexpr auto linger_timeout = std::chrono::seconds(2);

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

bool is_quiet_close(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof
         || ec == net::error::connection_reset || ec == net::error::operation_aborted
         || ec == beast::error::timeout || ec == net::error::broken_pipe;
}

} // namespace

http_session::http_session(net::ip::tcp::socket&& socket, std::shared_ptr<server_state> state,
                           size_t worker)
  : stream_(std::move(socket)),
    timer_(stream_.get_executor()),
    state_(std::move(state)),
    id_(state_->next_id()),
    worker_(worker) {
  // nop
}

http_session::~http_session() {
  if (registered_)
    state_->leave(id_);
}

void http_session::start() {
  auto self = shared_from_this();
  if (state_->stopping.load() || !state_->enter(id_, self)) {
    net::dispatch(stream_.get_executor(), [self] {
      self->method_ = "-";
      self->route_ = route_rejected;
      self->correlation_id_ = make_correlation_id();
      self->started_ = clock::now();
      self->busy_ = true;
      self->send_and_close(
        {errc::resource_exhausted, "connection limit reached; retry shortly", {}, 1u});
    });
    return;
  }
  registered_ = true;
  // Answers go out in one write each: never hold one back waiting for an ACK (Nagle).
  beast::error_code ignored;
  stream_.socket().set_option(net::ip::tcp::no_delay(true), ignored);
  net::dispatch(stream_.get_executor(), [self] { self->wait_for_request(); });
}

void http_session::shutdown() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    self->stopping_ = true;
    if (!self->busy_)
      self->stream_.cancel();
  });
}

void http_session::close_silent() {
  net::post(stream_.get_executor(), [self = shared_from_this()] {
    if (self->spoke_)
      return; // its first bytes came in the meantime: let it be served
    spdlog::debug("connection {} closed: silent since it opened, its slot went to a new one",
                  self->id_);
    beast::error_code ignored;
    self->stream_.socket().close(ignored);
  });
}

void http_session::wait_for_request() {
  busy_ = false;
  if (stopping_ || state_->stopping.load())
    return linger_close();
  if (buffer_.size() > 0) // a pipelined request is already here
    return read_header();
  set_deadline(state_->config.idle_timeout);
  stream_.socket().async_read_some(buffer_.prepare(4096), [self = shared_from_this()](
                                                   beast::error_code ec, std::size_t n) {
    if (ec)
      return self->fail_read(ec);
    if (!self->spoke_) {
      self->spoke_ = true;
      self->state_->spoke(self->id_);
    }
    self->buffer_.commit(n);
    self->read_header();
  });
}

void http_session::read_header() {
  busy_ = true;
  started_ = clock::now();
  method_ = "-";
  route_ = route_unparsed;
  correlation_id_.clear();
  parser_.emplace(std::piecewise_construct, std::make_tuple(),
                  std::make_tuple(arena_allocator<char>{fields_arena_}));
  // A proxied body is streamed and may be any size: in gateway mode the limit is applied once
  // the header says where the request goes.
  if (state_->proxy)
    parser_->body_limit(boost::none);
  else
    parser_->body_limit(state_->config.body_limit);
  parser_->header_limit(static_cast<std::uint32_t>(state_->config.header_limit));
  // The whole request, body included, must arrive within the header timeout of its first
  // byte, also when its header came whole in the first read: then only the idle timeout
  // would bound a body trickled a byte at a time.
  set_deadline(state_->config.header_timeout);
  if (auto ec = parse_buffered(*parser_, buffer_, [this] { return parser_->is_header_done(); }))
    return fail_read(ec);
  if (parser_->is_header_done())
    return on_header({});
  bhttp::async_read_header(stream_.socket(), buffer_, *parser_,
                           [self = shared_from_this()](beast::error_code ec, std::size_t) {
                             self->on_header(ec);
                           });
}

void http_session::on_header(beast::error_code ec) {
  if (ec)
    return fail_read(ec);
  method_ = std::string{parser_->get().method_string()};
  if (!take_absolute_form(parser_->get()))
    return fail_read(bhttp::error::bad_target);
  // RFC 9112 §6.3: a request whose Transfer-Encoding does not end in chunked has no length the
  // server can trust; Beast would read it as bodiless and the body as the next request
  // (smuggling, here or upstream). 400 and close.
  if (!parser_->chunked() && parser_->get().count(bhttp::field::transfer_encoding) > 0)
    return fail_read(bhttp::error::bad_transfer_encoding);
  if (!parser_->is_done()
      && boost::algorithm::iequals(parser_->get()[bhttp::field::expect], "100-continue")) {
    static const std::string continue_line = "HTTP/1.1 100 Continue\r\n\r\n";
    net::async_write(stream_.socket(), net::buffer(continue_line),
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec)
                         return self->stream_.close();
                       self->continue_after_header();
                     });
    return;
  }
  continue_after_header();
}

// RFC 9112 3.2.2: a server must accept a target in absolute form ("GET http://host/path"),
// which clients send to a proxy, and take its authority as the Host. From here on the request
// is in origin form, for the routes and for the upstream alike.
bool http_session::take_absolute_form(request_type& req) {
  auto absolute = split_absolute_form(req.target());
  if (!absolute)
    return true;
  if (absolute->authority.empty())
    return false;
  std::string authority{absolute->authority}; // the target's storage is about to be replaced
  req.target(absolute->origin_form);
  req.set(bhttp::field::host, authority);
  return true;
}

void http_session::continue_after_header() {
  if (state_->proxy) {
    auto target = parser_->get().target();
    if (gateway::impl::proxies(target.substr(0, target.find('?')))) {
      clear_deadline();
      return std::make_shared<proxy_exchange>(shared_from_this(), state_->proxy->internals())
        ->start();
    }
    auto length = parser_->content_length();
    if (length && *length > state_->config.body_limit)
      return fail_read(bhttp::error::body_limit);
    parser_->body_limit(state_->config.body_limit);
  }
  read_body();
}

void http_session::read_body() {
  if (parser_->is_done())
    return on_body({});
  bhttp::async_read(stream_.socket(), buffer_, *parser_,
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->on_body(ec);
                    });
}

void http_session::on_body(beast::error_code ec) {
  if (ec)
    return fail_read(ec);
  clear_deadline();
  dispatch(parser_->release());
}

void http_session::fail_read(beast::error_code ec) {
  if (parser_ && parser_->is_header_done()) {
    method_ = std::string{parser_->get().method_string()};
    auto target = parser_->get().target();
    auto match = state_->routes->match(method_, target.substr(0, target.find('?')));
    route_ = match.path_known ? match.pattern : route_unmatched;
  }
  if (ec == bhttp::error::body_limit) {
    correlation_id_ = make_correlation_id();
    return send_and_close(
      {errc::payload_too_large,
       "request body exceeds " + std::to_string(state_->config.body_limit) + " bytes",
       {},
       std::nullopt});
  }
  if (ec == bhttp::error::header_limit) {
    correlation_id_ = make_correlation_id();
    return send_and_close(
      {errc::payload_too_large,
       "request headers exceed " + std::to_string(state_->config.header_limit) + " bytes",
       {},
       std::nullopt});
  }
  if (busy_ && ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
    correlation_id_ = make_correlation_id();
    return send_and_close(validation_error("request", "malformed HTTP request: " + ec.message()));
  }
  if (!is_quiet_close(ec))
    spdlog::debug("connection {} closed on read: {}", id_, ec.message());
  stream_.close();
}

void http_session::dispatch(request_type&& req) {
  keep_alive_ = req.keep_alive();
  http_request r;
  r.method = method_;
  r.target = std::string{req.target()};
  auto qpos = r.target.find('?');
  r.path = r.target.substr(0, qpos);
  if (qpos != std::string::npos)
    r.query = r.target.substr(qpos + 1);
  r.headers.reserve(8);
  for (const auto& field : req)
    r.headers.emplace_back(std::string{field.name_string()}, std::string{field.value()});
  r.body = std::move(req.body());
  r.remote_address = remote_address();

  auto client_cid = r.header("X-Correlation-ID");
  correlation_id_ = acceptable_correlation_id(client_cid) ? std::string{client_cid}
                                                          : make_correlation_id();

  auto match = state_->routes->match(method_, r.path);
  if (!match.found) {
    if (!match.path_known) {
      route_ = route_unmatched;
      return complete(http_response::error(
        {errc::not_found, "no route for " + method_ + ' ' + r.path, {}, std::nullopt}));
    }
    route_ = match.pattern;
    auto res = http_response::error(
      {errc::method_not_allowed, method_ + " is not allowed on " + *match.pattern, {},
       std::nullopt});
    res.headers.emplace_back("Allow", match.allowed);
    return complete(std::move(res));
  }
  route_ = match.found->name;
  if (state_->live && r.path == state_->live_path && beast::websocket::is_upgrade(req))
    return upgrade_to_live(std::move(req), r);
  // Only a request that carries a credential to a route that verifies it can be a guess: that
  // is what the failed-authentication limit counts and, once the address is locked out, refuses.
  auto authorization = r.header("Authorization");
  bool presents_credential = match.found->access != access::open && !authorization.empty();
  if (presents_credential && refuse_locked_out())
    return;
  auto auth = authorize(*state_->verifier, bearer_token(authorization), match.found->access,
                        unix_now());
  if (!auth) {
    auto err = from_caf_error(auth.error());
    spdlog::debug("auth refused cid={} route={}: {}", correlation_id_, *route_, err.message);
    if (presents_credential && err.code == errc::unauthorized)
      count_auth_failure();
    if (err.code == errc::unauthorized)
      err.message = "a valid bearer token is required";
    auto res = http_response::error(err);
    if (err.code == errc::unauthorized)
      res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return complete(std::move(res));
  }
  request_context ctx{std::move(r), std::move(match.params), std::move(*auth), correlation_id_,
                      *route_};
  responder done = [self = shared_from_this(), request_id = started_](http_response res) {
    net::post(self->stream_.get_executor(),
              [self, request_id, res = std::move(res)]() mutable {
                // A responder that outlives its request must not answer the next one.
                if (self->busy_ && self->started_ == request_id)
                  self->complete(std::move(res));
              });
  };
  try {
    match.found->handler(std::move(ctx), std::move(done));
  } catch (const std::exception& e) {
    spdlog::error("handler for {} threw: {} cid={}", *route_, e.what(), correlation_id_);
    complete(http_response::error({errc::internal_error, "internal error", {}, std::nullopt}));
  }
}

void http_session::upgrade_to_live(request_type&& req, const http_request& r) {
  auto authorization = r.header("Authorization");
  auto token = bearer_token(authorization);
  std::vector<std::pair<std::string, std::string>> params;
  if (token.empty() && parse_query_string(r.query, params))
    for (const auto& [key, value] : params)
      if (key == "token")
        token = value; // `params` outlives the use below
  bool presents_credential = !authorization.empty() || !token.empty();
  if (presents_credential && refuse_locked_out())
    return;
  auto auth = authorize(*state_->verifier, token, access::user, unix_now());
  if (!auth) {
    spdlog::debug("auth refused cid={} route={}: {}", correlation_id_, *route_,
                  from_caf_error(auth.error()).message);
    if (presents_credential)
      count_auth_failure();
    auto res = http_response::error(
      {errc::unauthorized, "a valid token is required (Authorization: Bearer, or ?token=)", {},
       std::nullopt});
    res.headers.emplace_back("WWW-Authenticate", "Bearer");
    return complete(std::move(res));
  }
  auto origin = r.header("Origin");
  if (!origin.empty() && !state_->live->origin_allowed(origin)
      && !same_origin(origin, r.header("Host")))
    return complete(http_response::error(
      {errc::forbidden, "origin " + std::string{origin} + " may not open the live feed", {},
       std::nullopt}));
  record_request(101);
  busy_ = false;
  clear_deadline();
  auto session = std::make_shared<live_session>(stream_.release_socket(), state_->live,
                                                auth->role == role::admin, id_);
  // The live session outlives this one and its arena: it gets the request on the heap.
  live_session::request_type upgrade;
  upgrade.method_string(req.method_string());
  upgrade.target(req.target());
  upgrade.version(req.version());
  for (const auto& field : req)
    upgrade.insert(field.name_string(), field.value());
  session->run(std::move(upgrade));
}

bool http_session::refuse_locked_out() {
  auto refusal = state_->auth_failures->refusal(remote_address(), clock::now());
  if (!refusal)
    return false;
  spdlog::debug("auth refused cid={} route={}: address locked out after failed authentications",
                correlation_id_, *route_);
  complete(http_response::error(*refusal));
  return true;
}

void http_session::count_auth_failure() {
  auto& guard = *state_->auth_failures;
  if (!guard.record_failure(remote_address(), clock::now()))
    return;
  const auto& cfg = guard.config();
  spdlog::warn("client {} locked out for {} s after {} failed authentications within {} s: its "
               "requests with credentials get 429 until then",
               remote_address(), cfg.lockout.count(), cfg.limit, cfg.window.count());
}

void http_session::complete(http_response res) {
  if (!busy_)
    return;
  write(std::move(res), !keep_alive_ || stopping_ || state_->stopping.load());
}

void http_session::send_and_close(const api_error& err) {
  keep_alive_ = false;
  write(http_response::error(err), true);
}

void http_session::write(http_response res, bool close) {
  busy_ = true;
  response_ = {};
  response_.version(11);
  response_.result(res.status);
  if (!res.from_upstream) {
    response_.set(bhttp::field::server, "medianest-perf");
    response_.set(bhttp::field::cache_control, "no-store");
  }
  if (!res.content_type.empty())
    response_.set(bhttp::field::content_type, res.content_type);
  response_.set("X-Correlation-ID", correlation_id_);
  for (auto& [name, value] : res.headers)
    response_.set(name, value);
  response_.body() = std::move(res.body);
  response_.keep_alive(!close);
  response_.prepare_payload();
  // A response to HEAD has no body (RFC 9110 §9.3.2): bytes after its header would be read as
  // the start of the next response on a kept-alive connection. The length stays announced.
  if (method_ == "HEAD")
    response_.body().clear();
  set_deadline(write_timeout);
  bhttp::async_write(stream_.socket(), response_,
                     [self = shared_from_this(), close](beast::error_code ec, std::size_t) {
                       self->on_write(ec, close);
                     });
}

void http_session::on_write(beast::error_code ec, bool close) {
  record_request(response_.result_int());
  if (ec) {
    if (!is_quiet_close(ec))
      spdlog::debug("connection {} closed on write: {}", id_, ec.message());
    return stream_.close();
  }
  if (close)
    return linger_close();
  wait_for_request();
}

void http_session::finish_proxied(unsigned status, bool close) {
  record_request(status);
  if (close || stopping_ || state_->stopping.load())
    return linger_close();
  wait_for_request();
}

void http_session::abort_proxied(unsigned status) {
  record_request(status);
  stream_.close();
}

const std::string& http_session::remote_address() {
  if (!remote_address_) {
    beast::error_code ec;
    auto remote = stream_.socket().remote_endpoint(ec);
    remote_address_ = ec ? std::string{} : remote.address().to_string();
  }
  return *remote_address_;
}

void http_session::record_request(unsigned status) {
  auto finished = clock::now();
  auto elapsed = finished - started_;
  if (state_->observer)
    state_->observer(
      {route_, method_of(method_), static_cast<uint16_t>(status),
       static_cast<uint32_t>(std::min<int64_t>(
         std::chrono::duration_cast<std::chrono::microseconds>(elapsed).count(), UINT32_MAX)),
       steady_ms(finished)});
  if (state_->access_log)
    state_->access_log->info(
      "{} {} {} {:.3f}ms cid={}", method_, *route_, status,
      std::chrono::duration<double, std::milli>(elapsed).count(), correlation_id_);
}

void http_session::set_deadline(clock::duration timeout) {
  deadline_ = coarse_now() + timeout;
  if (!timer_waiting_ || deadline_ < timer_.expiry())
    arm_timer();
}

void http_session::clear_deadline() {
  deadline_ = clock::time_point::max();
}

void http_session::arm_timer() {
  timer_waiting_ = true;
  timer_.expires_at(deadline_);
  // A weak reference: a closed connection is not kept alive by its timer.
  timer_.async_wait([weak = weak_from_this()](beast::error_code ec) {
    if (auto self = weak.lock())
      self->on_timer(ec);
  });
}

void http_session::on_timer(beast::error_code ec) {
  if (ec == net::error::operation_aborted)
    return; // re-armed earlier, or the session is going away
  timer_waiting_ = false;
  if (deadline_ == clock::time_point::max())
    return;
  if (clock::now() < deadline_)
    return arm_timer(); // the deadline moved on since the timer was set
  if (exchange_)
    return exchange_->deadline_passed();
  // Idle, too slow to send its header, or not reading our answer: closing ends the pending
  // operation, whose handler then closes quietly.
  beast::error_code ignored;
  stream_.socket().close(ignored);
}

void http_session::linger_close() {
  // Half-close, then drain what the client still sends, so that its unread bytes do not turn
  // our close into a reset that would destroy the response before the client reads it.
  busy_ = true;
  beast::error_code ec;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ec);
  if (ec)
    return stream_.close();
  set_deadline(linger_timeout);
  buffer_.consume(buffer_.size());
  drain();
}

void http_session::drain() {
  stream_.socket().async_read_some(buffer_.prepare(4096), [self = shared_from_this()](
                                                   beast::error_code ec, std::size_t n) {
    if (ec)
      return self->stream_.close();
    self->buffer_.commit(n);
    self->buffer_.consume(self->buffer_.size());
    self->drain();
  });
}

} // namespace medianest::http
