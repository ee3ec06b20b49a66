#include "support/ws_client.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>

namespace medianest::test {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;
using tcp = net::ip::tcp;

struct ws_client::impl {
  net::io_context io{1};
  websocket::stream<tcp::socket> ws{io};
  beast::flat_buffer buffer;
  websocket::response_type response;
};

template <class Predicate>
bool ws_client::run_until(Predicate done, clock::time_point deadline) {
  auto& io = impl_->io;
  while (!done()) {
    auto now = clock::now();
    if (now >= deadline)
      return false;
    if (io.stopped())
      io.restart();
    if (io.run_one_for(deadline - now) == 0 && io.stopped())
      return done(); // nothing is pending: nothing can change
  }
  return true;
}

ws_client::ws_client(uint16_t port, options opts)
  : impl_(std::make_unique<impl>()), opts_(std::move(opts)) {
  auto& socket = impl_->ws.next_layer();
  beast::error_code ec;
  socket.open(tcp::v4(), ec);
  if (!ec && opts_.receive_buffer > 0)
    socket.set_option(net::socket_base::receive_buffer_size(opts_.receive_buffer), ec);
  if (!ec)
    socket.connect({net::ip::make_address_v4("127.0.0.1"), port}, ec);
  if (ec) {
    error_ = "connect: " + ec.message();
    ended_ = true;
    return;
  }
  socket.set_option(tcp::no_delay(true), ec);
  impl_->ws.set_option(
    websocket::stream_base::decorator([headers = opts_.headers](websocket::request_type& req) {
      for (const auto& [name, value] : headers)
        req.set(name, value);
    }));
  auto done = std::make_shared<std::optional<beast::error_code>>();
  impl_->ws.async_handshake(impl_->response, "127.0.0.1:" + std::to_string(port), opts_.target,
                            [done](beast::error_code ec) { *done = ec; });
  if (!run_until([&] { return done->has_value(); }, clock::now() + opts_.timeout)) {
    error_ = "handshake: timed out";
    ended_ = true;
    return;
  }
  status_ = impl_->response.result_int();
  if (**done) {
    error_ = "handshake: " + (*done)->message();
    body_ = impl_->response.body();
    ended_ = true;
    return;
  }
  accepted_ = true;
}

ws_client::~ws_client() {
  beast::error_code ignored;
  beast::get_lowest_layer(impl_->ws).close(ignored);
  // Pending handlers refer to this object: let them finish (aborted) while it still exists.
  impl_->io.restart();
  impl_->io.run_for(std::chrono::seconds(1));
}

void ws_client::start_read() {
  reading_ = true;
  impl_->ws.async_read(impl_->buffer, [this](beast::error_code ec, std::size_t) {
    reading_ = false;
    if (ec) {
      ended_ = true;
      error_ = ec.message();
      const auto& reason = impl_->ws.reason();
      close_code_ = static_cast<uint16_t>(reason.code);
      close_reason_ = std::string{reason.reason.c_str()};
      return;
    }
    messages_.push_back(beast::buffers_to_string(impl_->buffer.data()));
    impl_->buffer.consume(impl_->buffer.size());
    start_read();
  });
}

std::optional<std::string> ws_client::read(std::chrono::milliseconds timeout) {
  if (!accepted_ || !opts_.read)
    return std::nullopt;
  if (messages_.empty() && !ended_ && !reading_)
    start_read();
  run_until([&] { return !messages_.empty() || ended_; }, clock::now() + timeout);
  if (messages_.empty())
    return std::nullopt;
  auto out = std::move(messages_.front());
  messages_.pop_front();
  return out;
}

bool ws_client::send(const std::string& text) {
  if (!accepted_ || ended_)
    return false;
  // Beast allows one write at a time: a send that timed out must finish first.
  if (!run_until([&] { return !writing_; }, clock::now() + opts_.timeout)) {
    error_ = "send: the previous message is still being sent";
    return false;
  }
  // The handler may outlive this call (a timed-out write completes during a later one).
  auto message = std::make_shared<const std::string>(text);
  auto done = std::make_shared<std::optional<beast::error_code>>();
  writing_ = true;
  impl_->ws.text(true);
  impl_->ws.async_write(net::buffer(*message),
                        [this, message, done](beast::error_code ec, std::size_t) {
                          writing_ = false;
                          *done = ec;
                        });
  if (!run_until([&] { return done->has_value(); }, clock::now() + opts_.timeout))
    return false;
  if (**done) {
    error_ = "send: " + (*done)->message();
    return false;
  }
  return true;
}

void ws_client::close() {
  if (!accepted_ || ended_)
    return;
  if (!run_until([&] { return !writing_; }, clock::now() + opts_.timeout)) {
    ended_ = true; // a close frame cannot go out behind a stuck write: the destructor resets
    return;
  }
  auto done = std::make_shared<bool>(false);
  impl_->ws.async_close(websocket::close_code::normal,
                        [done](beast::error_code) { *done = true; });
  run_until([&] { return *done || ended_; }, clock::now() + opts_.timeout);
  ended_ = true;
}

bool ws_client::wait_until_ended(std::chrono::milliseconds timeout) {
  if (!accepted_)
    return true;
  if (!opts_.read)
    return ended_;
  auto deadline = clock::now() + timeout;
  while (!ended_ && clock::now() < deadline) {
    if (!reading_)
      start_read();
    run_until([&] { return !messages_.empty() || ended_; }, deadline);
    messages_.clear();
  }
  return ended_;
}

} // namespace medianest::test
