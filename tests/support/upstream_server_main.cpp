// medianest-test-upstream: a real HTTP/1.1 server that the gateway (reverse-proxy) mode is tested
// and benchmarked against. One io_context run by N threads, one strand per connection,
// keep-alive, requests answered strictly in order (so pipelined requests are safe), bodies
// streamed in 64 KiB pieces both ways. Nothing here ever blocks an io thread.
//
//   medianest-test-upstream [--port N] [--threads N] [--host H]
//
// Prints "listening on PORT" once it accepts connections; exits cleanly on SIGTERM/SIGINT.
// The routes are listed in route() below.

#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = net::ip::tcp;

namespace {

constexpr std::size_t piece_size = 64 * 1024;
/// Idle keep-alive connections, stalled reads and writes and /hang give up after this.
constexpr std::chrono::seconds io_timeout{120};
constexpr std::uint64_t mib = 1024 * 1024;

std::atomic<std::uint64_t> requests_served{0};
std::atomic<std::uint64_t> connections_accepted{0};

/// How many times each /cache target (path + query) was served.
std::mutex cache_hits_mutex;
std::unordered_map<std::string, std::uint64_t> cache_hits;

std::uint64_t count_cache_hit(const std::string& target) {
  std::lock_guard lock{cache_hits_mutex};
  return ++cache_hits[target];
}

/// "a=1&b=2" -> {a: 1, b: 2}; no percent-decoding.
std::map<std::string, std::string> parse_query(std::string_view query) {
  std::map<std::string, std::string> out;
  while (!query.empty()) {
    auto amp = query.find('&');
    auto pair = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos)
      out.emplace(std::string{pair}, std::string{});
    else
      out.emplace(std::string{pair.substr(0, eq)}, std::string{pair.substr(eq + 1)});
  }
  return out;
}

std::optional<std::uint64_t> parse_uint(std::string_view s) {
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  std::uint64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v;
}

std::string lower(std::string_view s) {
  std::string out{s};
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool starts_with_segment(std::string_view path, std::string_view prefix) {
  return path.starts_with(prefix) && (path.size() == prefix.size() || path[prefix.size()] == '/');
}

/// "/api/v1/media/ID" or "/api/v1/users/ID/items/ID2" -> the last ID; nullopt otherwise.
std::optional<std::string> api_item_id(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    auto slash = path.find('/');
    auto part = path.substr(0, slash);
    if (!part.empty())
      parts.push_back(part);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
  }
  if (parts.size() < 4 || parts[0] != "api" || parts[1] != "v1")
    return std::nullopt;
  if (parts.size() == 4 && parts[2] == "media")
    return std::string{parts[3]};
  if (parts.size() == 6 && parts[2] == "users" && parts[4] == "items")
    return std::string{parts[5]};
  return std::nullopt;
}

class session : public std::enable_shared_from_this<session> {
public:
  explicit session(tcp::socket socket)
      : stream_(std::move(socket)), timer_(stream_.get_executor()) {}

  void start() {
    net::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_header(); });
  }

private:
  /// What the body of the current request is being read for.
  enum class body_use { discard, keep, sum };

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_; // survives between requests: holds pipelined bytes
  net::steady_timer timer_;
  /// 64 KiB for body pieces, allocated on first use: most connections carry small requests.
  std::vector<char> piece_;

  // The current request.
  std::optional<http::request_parser<http::buffer_body>> parser_;
  body_use body_use_ = body_use::discard;
  std::string body_;
  std::uint64_t body_bytes_ = 0;
  std::uint32_t body_sum_ = 0;
  bool head_ = false;
  bool keep_alive_ = true;
  unsigned version_ = 11;

  // The current response.
  http::response<http::empty_body> continue_;
  http::response<http::string_body> res_;
  std::optional<http::response_serializer<http::string_body>> head_serializer_;
  http::response<http::buffer_body> large_;
  std::optional<http::response_serializer<http::buffer_body>> large_serializer_;
  std::uint64_t large_sent_ = 0;
  std::uint64_t large_total_ = 0;

  // ---- reading -------------------------------------------------------------------------

  void read_header() {
    parser_.emplace();
    parser_->header_limit(64 * 1024);
    parser_->body_limit(boost::none); // /upload takes any size; bodies are read in pieces
    body_.clear();
    body_bytes_ = 0;
    body_sum_ = 0;
    stream_.expires_after(io_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == http::error::partial_message
        || ec == net::error::eof || ec == beast::error::timeout || ec == net::error::connection_reset
        || ec == net::error::operation_aborted)
      return close();
    if (ec)
      return bad_request();
    const auto& req = parser_->get();
    head_ = req.method() == http::verb::head;
    keep_alive_ = req.keep_alive();
    version_ = req.version();
    std::string_view path{req.target().data(), req.target().size()};
    path = path.substr(0, path.find('?'));
    body_use_ = path == "/upload"         ? body_use::sum
                : path.starts_with("/echo") ? body_use::keep
                                            : body_use::discard;
    if (parser_->is_done())
      return on_request();
    if (beast::iequals(req[http::field::expect], "100-continue")) {
      continue_ = {http::status::continue_, version_};
      continue_.set(http::field::server, "medianest-test-upstream");
      stream_.expires_after(io_timeout);
      return http::async_write(stream_, continue_,
                               [self = shared_from_this()](beast::error_code e, std::size_t) {
                                 if (e)
                                   return self->close();
                                 self->read_body_piece();
                               });
    }
    read_body_piece();
  }

  /// The 64 KiB scratch buffer for body pieces (and drained bytes).
  std::vector<char>& piece() {
    piece_.resize(piece_size);
    return piece_;
  }

  void read_body_piece() {
    // Beast reads no more at once than the buffer's free capacity: let reads be body-sized.
    if (buffer_.capacity() < piece_size)
      buffer_.reserve(piece_size);
    auto& body = parser_->get().body();
    body.data = piece().data();
    body.size = piece_size;
    stream_.expires_after(io_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = shared_from_this()](beast::error_code ec, std::size_t) {
                       self->on_body_piece(ec);
                     });
  }

  void on_body_piece(beast::error_code ec) {
    if (ec == http::error::need_buffer)
      ec = {};
    if (ec)
      return close();
    auto got = piece_size - parser_->get().body().size;
    body_bytes_ += got;
    if (body_use_ == body_use::keep)
      body_.append(piece_.data(), got);
    else if (body_use_ == body_use::sum)
      for (std::size_t i = 0; i < got; ++i)
        body_sum_ += static_cast<unsigned char>(piece_[i]);
    if (parser_->is_done())
      return on_request();
    read_body_piece();
  }

  // ---- routing -------------------------------------------------------------------------

  void on_request() {
    ++requests_served;
    route();
  }

  void route() {
    const auto& req = parser_->get();
    const auto method = req.method();
    const bool get = method == http::verb::get || method == http::verb::head;
    const std::string target{req.target()};
    const auto question = target.find('?');
    const std::string path = target.substr(0, question);
    const auto query =
      parse_query(question == std::string::npos ? std::string_view{}
                                                : std::string_view{target}.substr(question + 1));
    auto param = [&](const std::string& name) -> std::string {
      auto it = query.find(name);
      return it == query.end() ? std::string{} : it->second;
    };
    auto only = [&](bool allowed, const char* allow) {
      if (!allowed)
        send_json(http::status::method_not_allowed, {{"error", "method not allowed"}},
                  {{http::field::allow, allow}});
      return allowed;
    };

    if (path == "/fast") {
      if (only(get, "GET, HEAD"))
        send_text(http::status::ok, "ok");
    } else if (path == "/slow") {
      if (!only(get, "GET, HEAD"))
        return;
      auto ms = parse_uint(param("ms")).value_or(0);
      timer_.expires_after(std::chrono::milliseconds(ms));
      timer_.async_wait([self = shared_from_this()](beast::error_code ec) {
        if (ec)
          return self->close();
        self->send_text(http::status::ok, "slow");
      });
    } else if (path.starts_with("/status/")) {
      auto code = parse_uint(std::string_view{path}.substr(8));
      if (!code || *code < 200 || *code > 599)
        return send_json(http::status::bad_request, {{"error", "status must be 200..599"}});
      send_status(static_cast<unsigned>(*code));
    } else if (path == "/fail") {
      if (only(get, "GET, HEAD"))
        send_json(http::status::internal_server_error, {{"error", "fail"}});
    } else if (path == "/large") {
      if (!only(get, "GET, HEAD"))
        return;
      char* end = nullptr;
      auto mb_text = param("mb");
      double mb = std::strtod(mb_text.c_str(), &end);
      if (mb_text.empty() || *end != '\0' || !std::isfinite(mb) || mb < 0 || mb > 65536)
        return send_json(http::status::bad_request, {{"error", "mb must be 0..65536"}});
      send_large(static_cast<std::uint64_t>(mb * static_cast<double>(mib)),
                 param("chunked") == "1");
    } else if (starts_with_segment(path, "/cache")) {
      if (!only(get, "GET, HEAD"))
        return;
      std::optional<std::string> cache_control;
      if (path == "/cache/public")
        cache_control =
          "public, max-age=" + std::to_string(parse_uint(param("max-age")).value_or(0));
      else if (path == "/cache/private")
        cache_control = "private, max-age=60";
      else if (path == "/cache/no-store")
        cache_control = "no-store";
      else if (path != "/cache/plain")
        return send_json(http::status::not_found, {{"error", "not found"}});
      json::object doc{{"path", path},
                       {"n", count_cache_hit(target)},
                       {"auth", std::string{req[http::field::authorization]}}};
      std::vector<std::pair<http::field, std::string>> extra;
      if (cache_control)
        extra.emplace_back(http::field::cache_control, *cache_control);
      send_json(http::status::ok, doc, extra);
    } else if (path.starts_with("/echo")) {
      json::object headers;
      for (const auto& field : req) {
        auto name = lower(field.name_string());
        auto value = std::string{field.value()};
        if (auto* existing = headers.if_contains(name))
          *existing = std::string{existing->as_string()} + ", " + value;
        else
          headers.emplace(name, value);
      }
      send_json(http::status::ok, {{"method", std::string{req.method_string()}},
                                   {"target", target},
                                   {"headers", std::move(headers)},
                                   {"body", body_}});
    } else if (auto id = api_item_id(path)) {
      if (only(get, "GET, HEAD"))
        send_json(http::status::ok, {{"id", *id}});
    } else if (path == "/upload") {
      if (only(method == http::verb::post, "POST"))
        send_json(http::status::ok, {{"bytes", body_bytes_}, {"sum", body_sum_}});
    } else if (path == "/close") {
      if (!only(get, "GET, HEAD"))
        return;
      keep_alive_ = false;
      send_text(http::status::ok, "bye");
    } else if (path == "/hang") {
      if (only(get, "GET, HEAD"))
        hang();
    } else if (path == "/count") {
      if (only(get, "GET, HEAD"))
        send_json(http::status::ok, {{"requests", requests_served.load()},
                                     {"connections", connections_accepted.load()}});
    } else {
      send_json(http::status::not_found, {{"error", "not found"}});
    }
  }

  // ---- writing -------------------------------------------------------------------------

  void start_response(http::status status, const char* content_type) {
    res_ = {status, version_};
    res_.set(http::field::server, "medianest-test-upstream");
    res_.set(http::field::content_type, content_type);
    res_.keep_alive(keep_alive_);
  }

  void send_text(http::status status, std::string body) {
    start_response(status, "text/plain");
    res_.body() = std::move(body);
    res_.prepare_payload();
    write_response();
  }

  void send_json(http::status status, const json::object& doc,
                 const std::vector<std::pair<http::field, std::string>>& extra = {}) {
    start_response(status, "application/json");
    for (const auto& [name, value] : extra)
      res_.set(name, value);
    res_.body() = json::serialize(doc);
    res_.prepare_payload();
    write_response();
  }

  void send_status(unsigned code) {
    if (code == 204 || code == 304) { // no body, and for 204 no Content-Length either
      res_ = {};
      res_.result(code);
      res_.version(version_);
      res_.set(http::field::server, "medianest-test-upstream");
      res_.keep_alive(keep_alive_);
      return write_response();
    }
    start_response(http::status::ok, "application/json");
    res_.result(code);
    res_.body() = json::serialize(json::object{{"status", code}});
    res_.prepare_payload();
    write_response();
  }

  /// Writes res_; for HEAD the header only (its Content-Length stays that of the body).
  void write_response() {
    stream_.expires_after(io_timeout);
    auto done = [self = shared_from_this()](beast::error_code ec, std::size_t) {
      self->after_response(ec);
    };
    if (head_) {
      head_serializer_.emplace(res_);
      return http::async_write_header(stream_, *head_serializer_, std::move(done));
    }
    http::async_write(stream_, res_, std::move(done));
  }

  void after_response(beast::error_code ec) {
    head_serializer_.reset();
    large_serializer_.reset();
    if (ec)
      return close();
    if (!keep_alive_)
      return linger();
    read_header();
  }

  /// N bytes of i % 251, produced 64 KiB at a time: the body is never held whole.
  void send_large(std::uint64_t total, bool chunked) {
    large_ = {http::status::ok, version_};
    large_.set(http::field::server, "medianest-test-upstream");
    large_.set(http::field::content_type, "application/octet-stream");
    large_.keep_alive(keep_alive_);
    if (chunked && version_ == 11)
      large_.chunked(true);
    else
      large_.content_length(total);
    large_.body().data = nullptr;
    large_.body().size = 0;
    large_.body().more = true;
    large_sent_ = 0;
    large_total_ = total;
    large_serializer_.emplace(large_);
    stream_.expires_after(io_timeout);
    http::async_write_header(stream_, *large_serializer_,
                             [self = shared_from_this()](beast::error_code ec, std::size_t) {
                               if (ec || self->head_)
                                 return self->after_response(ec);
                               self->write_large_piece();
                             });
  }

  void write_large_piece() {
    auto n = static_cast<std::size_t>(
      std::min<std::uint64_t>(piece_size, large_total_ - large_sent_));
    auto value = static_cast<unsigned>(large_sent_ % 251);
    auto& out = piece();
    for (std::size_t i = 0; i < n; ++i) {
      out[i] = static_cast<char>(value);
      if (++value == 251)
        value = 0;
    }
    large_sent_ += n;
    auto& body = large_.body();
    body.data = n ? out.data() : nullptr;
    body.size = n;
    body.more = large_sent_ < large_total_;
    stream_.expires_after(io_timeout);
    http::async_write(stream_, *large_serializer_,
                      [self = shared_from_this()](beast::error_code ec, std::size_t) {
                        if (ec == http::error::need_buffer)
                          return self->write_large_piece();
                        self->after_response(ec);
                      });
  }

  // ---- endings -------------------------------------------------------------------------

  /// /hang: no answer; reads (and drops) whatever comes until the client closes or the
  /// timeout.
  void hang() {
    stream_.expires_after(io_timeout);
    stream_.async_read_some(net::buffer(piece()),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec)
                                return self->close();
                              self->hang();
                            });
  }

  void bad_request() {
    keep_alive_ = false;
    head_ = false;
    send_json(http::status::bad_request, {{"error", "bad request"}});
  }

  /// After a "Connection: close" answer: stop sending, then drain until the client closes,
  /// so that a close with unread bytes does not reset the connection under the answer.
  void linger() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec)
      return close();
    stream_.expires_after(std::chrono::seconds(5));
    drain();
  }

  void drain() {
    stream_.async_read_some(net::buffer(piece()),
                            [self = shared_from_this()](beast::error_code ec, std::size_t) {
                              if (ec)
                                return self->close();
                              self->drain();
                            });
  }

  void close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
  }
};

class listener : public std::enable_shared_from_this<listener> {
public:
  listener(net::io_context& ioc, tcp::acceptor acceptor)
      : ioc_(ioc), acceptor_(std::move(acceptor)) {}

  void accept() {
    acceptor_.async_accept(net::make_strand(ioc_),
                           [self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
                             if (ec == net::error::operation_aborted)
                               return;
                             if (!ec) {
                               ++connections_accepted;
                               beast::error_code ignored;
                               socket.set_option(tcp::no_delay(true), ignored);
                               std::make_shared<session>(std::move(socket))->start();
                             }
                             self->accept();
                           });
  }

private:
  net::io_context& ioc_;
  tcp::acceptor acceptor_;
};

int usage(const char* argv0) {
  std::fprintf(stderr, "usage: %s [--port N] [--threads N] [--host H]\n", argv0);
  return 2;
}

} // namespace

int main(int argc, char** argv) {
  std::string host = "127.0.0.1";
  std::uint64_t port = 0;
  std::uint64_t threads = 1;
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      usage(argv[0]);
      return 0;
    }
    if (i + 1 >= argc)
      return usage(argv[0]);
    std::string_view value = argv[++i];
    if (arg == "--host") {
      host = value;
    } else if (arg == "--port") {
      auto v = parse_uint(value);
      if (!v || *v > 65535)
        return usage(argv[0]);
      port = *v;
    } else if (arg == "--threads") {
      auto v = parse_uint(value);
      if (!v || *v < 1 || *v > 1024)
        return usage(argv[0]);
      threads = *v;
    } else {
      return usage(argv[0]);
    }
  }

  net::io_context ioc{static_cast<int>(threads)};
  tcp::acceptor acceptor{ioc};
  try {
    tcp::endpoint endpoint{net::ip::make_address(host), static_cast<unsigned short>(port)};
    acceptor.open(endpoint.protocol());
    acceptor.set_option(net::socket_base::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(net::socket_base::max_listen_connections);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "medianest-test-upstream: cannot listen on %s:%llu: %s\n", host.c_str(),
                 static_cast<unsigned long long>(port), e.what());
    return 1;
  }
  auto bound_port = acceptor.local_endpoint().port();
  std::make_shared<listener>(ioc, std::move(acceptor))->accept();

  net::signal_set signals{ioc, SIGINT, SIGTERM};
  signals.async_wait([&ioc](beast::error_code, int) { ioc.stop(); });

  std::printf("listening on %u\n", static_cast<unsigned>(bound_port));
  std::fflush(stdout);

  std::vector<std::thread> pool;
  for (std::uint64_t i = 1; i < threads; ++i)
    pool.emplace_back([&ioc] { ioc.run(); });
  ioc.run();
  for (auto& t : pool)
    t.join();
  return 0;
}
