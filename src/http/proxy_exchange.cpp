#include "http/proxy_exchange.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>

#include <boost/asio/write.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <spdlog/spdlog.h>

#include "http/buffered_parse.hpp"
#include "http/coarse_clock.hpp"
#include "http/correlation.hpp"
#include "http/hop_by_hop.hpp"
#include "http/http_session.hpp"
#include "model/cache_policy.hpp"
#include "model/cached_response_codec.hpp"
#include "model/http_text.hpp"
#include "model/request_record.hpp"

namespace medianest::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;

namespace {

/// Responses larger than this are relayed but never cached.
constexpr uint64_t max_cached_body = 8u << 20;
/// Retry-After of a shed request.
constexpr unsigned shed_retry_after_seconds = 5;

int64_t steady_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::steady_clock::now().time_since_epoch())
    .count();
}

int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

/// Appends "Name: number\r\n".
template <class Number>
void append_number_field(std::string& head, std::string_view name, Number value) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, value);
  head.append(name).append(": ").append(digits, end).append("\r\n");
}

bool is_stale_connection_error(const beast::error_code& ec) {
  return ec == bhttp::error::end_of_stream || ec == net::error::eof
         || ec == net::error::connection_reset || ec == net::error::broken_pipe
         || ec == bhttp::error::partial_message;
}

/// Headers of an upstream response that a cached copy replays.
bool replayable(std::string_view name) {
  for (std::string_view skip : {"Content-Length", "Content-Type", "Date", "X-Correlation-ID",
                                "Age", "X-RateLimit-Limit", "X-RateLimit-Remaining",
                                "X-RateLimit-Reset", "X-Cache"})
    if (iequals_ascii(name, skip))
      return false;
  return true;
}

} // namespace

proxy_exchange::proxy_exchange(std::shared_ptr<http_session> session, gateway::impl& gw)
  : session_(std::move(session)),
    gw_(gw),
    pool_(gw.pools[session_->worker_].get()),
    counters_(&gw.counters[session_->worker_]),
    started_(session_->started_) {
  counters_->in_flight.fetch_add(1, std::memory_order_relaxed);
  session_->exchange_ = this;
}

proxy_exchange::~proxy_exchange() {
  if (session_->exchange_ == this) // a pipelined request may have started the next one
    session_->exchange_ = nullptr;
  if (piece_)
    gw_.give_buffer(session_->worker_, std::move(piece_));
  if (breaker_ticket_)
    gw_.breaker_abandon();
  if (upstream_)
    pool_->release(std::move(upstream_), false);
  counters_->in_flight.fetch_sub(1, std::memory_order_relaxed);
  counters_->requests.fetch_add(1, std::memory_order_relaxed);
}

char* proxy_exchange::piece() {
  if (!piece_)
    piece_ = gw_.take_buffer(session_->worker_);
  return piece_.get();
}

void proxy_exchange::start() {
  auto& s = *session_;
  request_.emplace(std::move(*s.parser_));
  s.parser_.reset();
  request_->body_limit(boost::none); // streamed: the upstream decides what it accepts
  request_done_at_header_ = request_->is_done();
  auto& req = request_->get();
  client_keep_alive_ = req.keep_alive();
  client_version_ = req.version();
  s.keep_alive_ = client_keep_alive_;
  is_get_ = req.method() == bhttp::verb::get;
  is_head_ = req.method() == bhttp::verb::head;

  auto client_cid = req["X-Correlation-ID"];
  if (acceptable_correlation_id(client_cid))
    s.correlation_id_.assign(client_cid);
  else
    make_correlation_id(s.correlation_id_);
  auto target = req.target();
  thread_local std::string folded;
  fold_route(folded, target.substr(0, target.find('?')), gw_.config.templates);
  route_ = intern_route(folded);
  s.route_ = route_;

  if (!admit_rate())
    return;
  cache_ttl_ = is_get_ ? gw_.ttl_for(*route_) : std::chrono::seconds{0};
  if (cache_ttl_.count() > 0)
    return look_up_cache();
  go_upstream();
}

// -- admission --------------------------------------------------------------------------------

bool proxy_exchange::admit_rate() {
  if (gw_.config.rate.limit == 0)
    return true;
  auto& req = request_->get();
  auto authorization = req[bhttp::field::authorization];
  std::string client;
  if (!authorization.empty()) {
    client.assign("t:").append(authorization);
  } else {
    client = "a:" + session_->remote_address();
  }
  rate_ = gw_.limiter.check(client, clock::now());
  if (rate_.allowed)
    return true;
  counters_->rate_limited.fetch_add(1, std::memory_order_relaxed);
  auto res = http_response::error(
    {errc::rate_limited,
     "rate limit of " + std::to_string(rate_.limit) + " requests per "
       + std::to_string(gw_.config.rate.window.count()) + " s exceeded",
     {{"limit", rate_.limit}, {"retryAfter", rate_.retry_after_seconds}},
     static_cast<unsigned>(rate_.retry_after_seconds)});
  answer(std::move(res));
  return false;
}

void proxy_exchange::look_up_cache() {
  auto& req = request_->get();
  auto bypass = request_bypasses_cache(req[bhttp::field::cache_control], req[bhttp::field::pragma]);
  auto method = req.method_string();
  auto target = req.target();
  auto encoding = req[bhttp::field::accept_encoding];
  shared_key_ = cache_key(method, target, encoding, {}, true);
  credential_key_ = cache_key(method, target, encoding,
                              request_credential(req[bhttp::field::authorization],
                                                 req[bhttp::field::cookie]),
                              false);
  if (bypass)
    return go_upstream();
  auto now = clock::now();
  for (const auto* key : {&shared_key_, &credential_key_})
    if (auto hit = gw_.cache.get(*key, now)) {
      auto age = std::chrono::duration_cast<std::chrono::seconds>(now - hit->produced);
      return serve_cached(*hit, age);
    }
  if (!gw_.shared_store)
    return go_upstream();
  // The shared tier: one Redis round trip per key, on the store's thread.
  auto self = shared_from_this();
  auto strand = session_->stream_.get_executor();
  auto ask = [self, strand](const std::string& key, std::function<void()> on_miss) {
    self->gw_.shared_store->lookup(key, [self, strand, key, on_miss = std::move(on_miss)](
                                          std::optional<decoded_response> found) mutable {
      // Everything moves on to the strand: the store keeps this callback until its task ends,
      // and the exchange (its request's fields are in the connection's arena) must be
      // destroyed on its own thread.
      net::post(strand, [self = std::move(self), key = std::move(key), found = std::move(found),
                         on_miss = std::move(on_miss)]() mutable {
        if (!found)
          return on_miss();
        auto remaining = found->expires_unix_ms - unix_now_ms();
        auto value = std::make_shared<cached_response>(std::move(found->response));
        self->gw_.cache.put(key, value, std::chrono::milliseconds(std::max<int64_t>(remaining, 1)));
        self->serve_cached(*value, std::chrono::seconds{0});
      });
    });
  };
  ask(shared_key_, [self, ask] { ask(self->credential_key_, [self] { self->go_upstream(); }); });
}

void proxy_exchange::serve_cached(const cached_response& hit, std::chrono::seconds age) {
  counters_->cache_hits.fetch_add(1, std::memory_order_relaxed);
  http_response res;
  res.status = hit.status;
  res.content_type = hit.content_type;
  res.body = hit.body;
  res.headers = hit.headers;
  res.from_upstream = true;
  res.headers.emplace_back("X-Cache", "HIT");
  res.headers.emplace_back("Age", std::to_string(age.count()));
  if (is_head_)
    res.body.clear();
  answer(std::move(res));
}

void proxy_exchange::go_upstream() {
  if (cache_ttl_.count() > 0)
    counters_->cache_misses.fetch_add(1, std::memory_order_relaxed);
  if (!admit_breaker_and_load())
    return;
  prepare_upstream_request();
  if (auto idle = pool_->take_idle())
    return on_connection({}, std::move(idle));
  auto self = shared_from_this();
  bool queued = pool_->acquire(session_->stream_.get_executor(),
                                  [self](beast::error_code ec, upstream_connection_ptr c) {
                                    self->on_connection(ec, std::move(c));
                                  });
  if (queued)
    return;
  counters_->shed_exhausted.fetch_add(1, std::memory_order_relaxed);
  gw_.breaker_abandon();
  breaker_ticket_ = false;
  answer(http_response::error(
    {errc::resource_exhausted,
     "the upstream queue is full (" + std::to_string(pool_->max_queue()) + " requests waiting)",
     {{"queued", pool_->max_queue()}},
     1u}));
}

bool proxy_exchange::admit_breaker_and_load() {
  std::chrono::milliseconds retry_after{0};
  if (!gw_.breaker_allows(retry_after)) {
    counters_->shed_circuit_open.fetch_add(1, std::memory_order_relaxed);
    auto seconds = static_cast<unsigned>(std::max<int64_t>(1, (retry_after.count() + 999) / 1000));
    answer(http_response::error(
      {errc::circuit_breaker_open,
       "the upstream failed repeatedly; requests resume after the breaker's cool-down",
       {{"retryAfter", seconds}},
       seconds}));
    return false;
  }
  breaker_ticket_ = true;
  auto queued = pool_->queued();
  if (queued >= gw_.shed_queue_per_pool && queued > 0) {
    auto p95 = gw_.latency[session_->worker_].p95_ms(route_, steady_now_ms());
    if (p95 > gw_.config.shed_p95_ms) {
      counters_->shed_degraded.fetch_add(1, std::memory_order_relaxed);
      gw_.breaker_abandon();
      breaker_ticket_ = false;
      answer(http_response::error(
        {errc::performance_degraded,
         *route_ + " is answering slowly and " + std::to_string(queued)
           + " requests are waiting for the upstream",
         {{"responseTime", std::round(p95)},
          {"threshold", gw_.config.shed_p95_ms},
          {"retryAfter", shed_retry_after_seconds}},
         shed_retry_after_seconds}));
      return false;
    }
  }
  return true;
}

// -- the upstream leg -------------------------------------------------------------------------

void proxy_exchange::prepare_upstream_request() {
  // The head is written once, straight from the parsed request: the client's fields minus
  // the hop-by-hop ones and those the gateway sets, then the gateway's own.
  auto& req = request_->get();
  auto& head = session_->upstream_head_;
  head.clear();
  head.append(req.method_string()).push_back(' ');
  head.append(gw_.config.upstream.base_path).append(req.target()).append(" HTTP/1.1\r\n");
  std::string listed;
  for_each_connection_listed(req[bhttp::field::connection],
                             [&](std::string_view token) { listed.append(token).push_back(','); });
  std::string_view host, forwarded_for, forwarded_proto, forwarded_host;
  auto first = [](std::string_view& seen, std::string_view value) {
    if (seen.empty())
      seen = value;
  };
  for (const auto& field : req) {
    auto name = field.name_string();
    if (is_hop_by_hop(field.name()) || (!listed.empty() && is_listed(listed, name)))
      continue;
    if (field.name() == bhttp::field::host) {
      first(host, field.value());
      continue;
    }
    if (field.name() == bhttp::field::unknown && (name[0] == 'X' || name[0] == 'x')) {
      if (beast::iequals(name, "X-Forwarded-For")) {
        first(forwarded_for, field.value());
        continue;
      }
      if (beast::iequals(name, "X-Forwarded-Proto")) {
        first(forwarded_proto, field.value());
        continue;
      }
      if (beast::iequals(name, "X-Forwarded-Host")) {
        first(forwarded_host, field.value());
        continue;
      }
      if (beast::iequals(name, "X-Correlation-ID"))
        continue;
    }
    head.append(name).append(": ").append(field.value()).append("\r\n");
  }
  head.append("Host: ").append(gw_.upstream_host).append("\r\n");
  const auto& address = session_->remote_address();
  if (!forwarded_for.empty() || !address.empty()) {
    head.append("X-Forwarded-For: ").append(forwarded_for);
    if (!forwarded_for.empty() && !address.empty())
      head.append(", ");
    head.append(address).append("\r\n");
  }
  head.append("X-Forwarded-Proto: ")
    .append(forwarded_proto.empty() ? std::string_view{"http"} : forwarded_proto)
    .append("\r\n");
  if (!forwarded_host.empty() || !host.empty())
    head.append("X-Forwarded-Host: ")
      .append(forwarded_host.empty() ? host : forwarded_host)
      .append("\r\n");
  head.append("X-Correlation-ID: ").append(session_->correlation_id_).append("\r\n");
  request_chunked_ = req.chunked();
  if (request_chunked_)
    head.append("Transfer-Encoding: chunked\r\n");
  head.append("\r\n");
}

void proxy_exchange::on_connection(beast::error_code ec, upstream_connection_ptr c) {
  if (ec)
    return fail_upstream(ec);
  upstream_ = std::move(c);
  arm_deadline();
  send_request();
}

void proxy_exchange::send_request() {
  head_ = &session_->upstream_head_;
  head_sent_ = false;
  if (request_->is_done())
    return write_upstream(nullptr, 0);
  relay_request_body();
}

void proxy_exchange::relay_request_body() {
  auto& body = request_->get().body();
  body.data = piece();
  body.size = piece_size;
  auto& s = *session_;
  bhttp::async_read(s.stream_.socket(), s.buffer_, *request_,
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      if (ec == bhttp::error::need_buffer)
                        ec = {};
                      if (ec)
                        return self->abort("reading the request body", ec);
                      self->progress();
                      auto n = self->piece_size - self->request_->get().body().size;
                      self->write_upstream(self->piece(), n);
                    });
}

void proxy_exchange::write_upstream(const char* data, size_t n) {
  frame(data, n, request_chunked_, request_->is_done());
  net::async_write(upstream_->stream.socket(), out_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->on_request_written(ec);
                   });
}

void proxy_exchange::on_request_written(beast::error_code ec) {
  if (ec) {
    if (retry_on_stale(ec))
      return;
    return fail_upstream(ec);
  }
  progress();
  if (!request_->is_done())
    return relay_request_body();
  read_response_header();
}

void proxy_exchange::frame(const char* data, size_t n, bool chunked, bool last) {
  static constexpr std::string_view crlf = "\r\n";
  static constexpr std::string_view last_chunk = "0\r\n\r\n";
  out_.fill(net::const_buffer{});
  size_t i = 0;
  if (!head_sent_) {
    out_[i++] = net::buffer(*head_);
    head_sent_ = true;
  }
  if (n > 0) {
    if (chunked) {
      auto [end, ec] = std::to_chars(chunk_prefix_.data(), chunk_prefix_.data() + 16, n, 16);
      *end++ = '\r';
      *end++ = '\n';
      out_[i++] = net::buffer(chunk_prefix_.data(), static_cast<size_t>(end - chunk_prefix_.data()));
    }
    out_[i++] = net::buffer(data, n);
    if (chunked)
      out_[i++] = net::buffer(crlf.data(), crlf.size());
  }
  if (chunked && last)
    out_[i++] = net::buffer(last_chunk.data(), last_chunk.size());
}

void proxy_exchange::read_response_header() {
  response_.emplace(session_->client_head_, rate_.limit > 0, cache_ttl_.count() > 0);
  response_->body_limit(boost::none);
  if (is_head_)
    response_->skip(true);
  continue_response_header();
}

void proxy_exchange::continue_response_header() {
  auto& buffer = upstream_->buffer;
  auto header_done = [this] { return response_->header_complete(); };
  if (auto ec = parse_buffered(*response_, buffer, header_done))
    return on_response_header(ec);
  if (response_->header_complete())
    return on_response_header({});
  // Read and parsed here rather than by http::async_read_header, whose composed operations
  // cost more than the read on this path.
  upstream_->stream.socket().async_read_some(
    buffer.prepare(beast::read_size(buffer, 65536)),
    [self = shared_from_this()](beast::error_code ec, std::size_t n) {
      if (ec == net::error::eof) {
        if (self->response_->got_some())
          self->response_->put_eof(ec);
        else
          ec = bhttp::error::end_of_stream;
      }
      if (ec)
        return self->on_response_header(ec);
      self->upstream_->buffer.commit(n);
      self->continue_response_header();
    });
}

bool proxy_exchange::retry_on_stale(beast::error_code ec) {
  if (!upstream_ || !upstream_->reused || !request_done_at_header_ || stale_retries_ >= 2
      || !is_stale_connection_error(ec))
    return false;
  // The upstream closed an idle pooled connection as we reused it: nothing reached it, so
  // the request goes again on another connection.
  ++stale_retries_;
  pool_->release(std::move(upstream_), false);
  auto self = shared_from_this();
  bool queued = pool_->acquire(session_->stream_.get_executor(),
                                  [self](beast::error_code ec, upstream_connection_ptr c) {
                                    self->on_connection(ec, std::move(c));
                                  });
  if (!queued)
    fail_upstream(ec);
  return true;
}

void proxy_exchange::on_response_header(beast::error_code ec) {
  if (ec) {
    if (retry_on_stale(ec))
      return;
    return fail_upstream(ec);
  }
  auto status = response_->status();
  if (status >= 100 && status < 200) // an interim response (103 Early Hints): wait for the final
    return read_response_header();
  progress();
  status_ = status;
  gw_.breaker_record(status_ < 502 || status_ > 504);
  breaker_ticket_ = false;
  prepare_client_response();
  head_ = &session_->client_head_;
  head_sent_ = false;
  relay_response_body();
}

void proxy_exchange::fail_upstream(beast::error_code ec) {
  if (breaker_ticket_) {
    gw_.breaker_record(false);
    breaker_ticket_ = false;
  }
  if (upstream_)
    pool_->release(std::move(upstream_), false);
  clear_deadline();
  bool timed_out = timed_out_ || ec == beast::error::timeout;
  if (ec == net::error::operation_aborted && !timed_out) {
    // the pool is closing: the daemon is shutting down
    return answer(http_response::error(
      {errc::resource_exhausted, "the gateway is shutting down", {}, 1u}));
  }
  if (timed_out) {
    counters_->upstream_timeouts.fetch_add(1, std::memory_order_relaxed);
    spdlog::warn("gateway: upstream timed out on {} cid={}", *route_, session_->correlation_id_);
    return answer(http_response::error(
      {errc::gateway_timeout, "the upstream did not answer in time", {}, std::nullopt}));
  }
  counters_->upstream_errors.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("gateway: upstream failed on {}: {} cid={}", *route_, ec.message(),
               session_->correlation_id_);
  answer(http_response::error(
    {errc::bad_gateway, "the upstream failed: " + ec.message(), {}, std::nullopt}));
}

// -- the response leg -------------------------------------------------------------------------

void proxy_exchange::prepare_client_response() {
  auto& res = *response_;
  upstream_reusable_ = res.keep_alive();
  bool body_follows = !res.is_done();
  bool has_length = res.content_length().has_value();
  if (is_get_)
    get_kind_ = route_latency::get_kind::other_status;
  if (is_get_ && status_ == 200) {
    response_traits traits{status_, res.cache_control(), res.vary(), res.sets_cookie()};
    // Whether the route could be cached at all, whatever its TTL now.
    constexpr std::chrono::seconds probe_ttl{3600};
    get_kind_ = decide_store(traits, probe_ttl).store ? route_latency::get_kind::cacheable
                                                      : route_latency::get_kind::uncacheable;
    auto decision = cache_ttl_.count() > 0 ? decide_store(traits, cache_ttl_) : store_decision{};
    if (decision.store && (!has_length || *res.content_length() <= max_cached_body)) {
      capturing_ = true;
      capture_.status = status_;
      capture_.content_type = std::string{res.content_type()};
      cache_ttl_ = decision.ttl;
      if (decision.shared)
        credential_key_ = shared_key_;
    }
  }
  if (capturing_)
    res.for_each_field([this](std::string_view name, std::string_view value) {
      if (replayable(name))
        capture_.headers.emplace_back(name, value);
    });
  // The parser wrote the status line and the upstream's end-to-end fields; the gateway's
  // framing and its own fields follow.
  auto& head = session_->client_head_;
  if (body_follows && !has_length) {
    if (client_version_ >= 11) {
      response_chunked_ = !is_head_;
      head.append("Transfer-Encoding: chunked\r\n");
    } else {
      client_keep_alive_ = false; // an HTTP/1.0 client reads to the end of the connection
    }
  }
  head.append("X-Correlation-ID: ").append(session_->correlation_id_).append("\r\n");
  if (rate_.limit > 0) {
    append_number_field(head, "X-RateLimit-Limit", rate_.limit);
    append_number_field(head, "X-RateLimit-Remaining", rate_.remaining);
    append_number_field(head, "X-RateLimit-Reset", rate_.reset_seconds);
  }
  if (cache_ttl_.count() > 0)
    head.append("X-Cache: MISS\r\n");
  if (session_->stopping_ || session_->state_->stopping.load())
    client_keep_alive_ = false;
  if (!client_keep_alive_)
    head.append("Connection: close\r\n");
  head.append("\r\n");
}

void proxy_exchange::relay_response_body() {
  if (is_head_ || response_->is_done())
    return write_client_piece(0);
  auto& res = *response_;
  res.data = piece();
  res.size = piece_size;
  auto ec = parse_buffered(res, upstream_->buffer, [&] { return res.is_done() || res.size == 0; });
  if (ec)
    return abort("parsing the upstream body", ec);
  if (res.size < piece_size || res.is_done())
    return on_upstream_body({}); // it came with the header
  bhttp::async_read(upstream_->stream.socket(), upstream_->buffer, res,
                    [self = shared_from_this()](beast::error_code ec, std::size_t) {
                      self->on_upstream_body(ec);
                    });
}

void proxy_exchange::on_upstream_body(beast::error_code ec) {
  if (ec == bhttp::error::need_buffer)
    ec = {};
  if (ec)
    return abort("reading the upstream body", ec);
  progress();
  auto n = piece_size - response_->size;
  if (capturing_) {
    if (capture_.body.size() + n <= std::min(max_cached_body, gw_.cache.max_entry_bytes()))
      capture_.body.append(piece(), n);
    else
      capturing_ = false, capture_.body = {};
  }
  write_client_piece(n);
}

void proxy_exchange::write_client_piece(size_t n) {
  frame(n ? piece() : nullptr, n, response_chunked_, is_head_ || response_->is_done());
  net::async_write(session_->stream_.socket(), out_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) {
                     self->on_client_piece(ec);
                   });
}

void proxy_exchange::on_client_piece(beast::error_code ec) {
  if (ec)
    return abort("writing the response", ec);
  progress();
  if (!is_head_ && !response_->is_done())
    return relay_response_body();
  finish();
}

void proxy_exchange::finish() {
  clear_deadline();
  pool_->release(std::move(upstream_), upstream_reusable_ && response_->is_done());
  auto now = clock::now();
  gw_.latency[session_->worker_].add(route_,
                  static_cast<uint64_t>(
                    std::chrono::duration_cast<std::chrono::microseconds>(now - started_).count()),
                  std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch())
                    .count(),
                  get_kind_);
  if (capturing_)
    store_in_cache();
  session_->finish_proxied(status_, !client_keep_alive_);
}

void proxy_exchange::abort(const char* where, beast::error_code ec) {
  clear_deadline();
  spdlog::debug("gateway: exchange on {} aborted {}: {} cid={}", *route_, where, ec.message(),
                session_->correlation_id_);
  if (upstream_)
    pool_->release(std::move(upstream_), false);
  session_->abort_proxied(status_ ? status_ : 502);
}

void proxy_exchange::arm_deadline() {
  session_->set_deadline(gw_.config.response_timeout);
}

void proxy_exchange::progress() {
  session_->set_deadline(gw_.config.response_timeout);
}

void proxy_exchange::clear_deadline() {
  session_->clear_deadline();
}

void proxy_exchange::deadline_passed() {
  // Nothing moved for a whole timeout: closing the sockets ends the pending operation, whose
  // handler sees timed_out_.
  timed_out_ = true;
  beast::error_code ignored;
  if (upstream_)
    upstream_->stream.socket().close(ignored);
  // Once the response has started the client cannot be told any more; a client that stalls
  // its own upload is dropped too.
  if (status_ || !request_->is_done())
    session_->stream_.socket().close(ignored);
}

void proxy_exchange::store_in_cache() {
  auto value = std::make_shared<cached_response>(std::move(capture_));
  gw_.cache.put(credential_key_, value, cache_ttl_);
  counters_->cache_stores.fetch_add(1, std::memory_order_relaxed);
  if (gw_.shared_store)
    gw_.shared_store->store(credential_key_,
                            encode_cached_response(*value, unix_now_ms() + cache_ttl_.count() * 1000),
                            cache_ttl_);
}

void proxy_exchange::answer(http_response res) {
  clear_deadline();
  add_rate_headers(res);
  if (!request_->is_done())
    session_->keep_alive_ = false; // the unread body would be taken for the next request
  session_->route_ = route_;
  session_->complete(std::move(res));
}

void proxy_exchange::add_rate_headers(http_response& res) const {
  if (rate_.limit == 0)
    return;
  res.headers.emplace_back("X-RateLimit-Limit", std::to_string(rate_.limit));
  res.headers.emplace_back("X-RateLimit-Remaining", std::to_string(rate_.remaining));
  res.headers.emplace_back("X-RateLimit-Reset", std::to_string(rate_.reset_seconds));
}


} // namespace medianest::http
