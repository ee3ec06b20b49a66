#include "http/live_session.hpp"

#include <boost/asio/buffer.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/websocket.hpp>
#include <spdlog/spdlog.h>

#include "app/version.hpp"
#include "model/live_frames.hpp"

namespace medianest::http {

namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace net = boost::asio;

namespace {

constexpr size_t max_client_message = 4096;

shared_frame make_frame(std::string text) {
  return std::make_shared<const std::string>(std::move(text));
}

} // namespace

live_session::live_session(net::ip::tcp::socket&& socket, std::shared_ptr<live_feed> feed,
                           bool admin, uint64_t id)
  : ws_(std::move(socket)),
    stall_timer_(ws_.get_executor()),
    feed_(std::move(feed)),
    interval_(default_live_interval),
    id_(id),
    admin_(admin) {}

live_session::~live_session() {
  if (joined_)
    feed_->leave(id_);
}

void live_session::run(request_type req) {
  // A fixed send buffer (no autotuning up to megabytes): what a client that stops reading can
  // hold in the kernel, before its writes stall and it is dropped.
  beast::error_code ignored;
  ws_.next_layer().set_option(
    net::socket_base::send_buffer_size(feed_->config().send_buffer_bytes), ignored);
  websocket::stream_base::timeout limits{};
  limits.handshake_timeout = std::chrono::seconds(10);
  // Beast pings after half of it without a byte from the client and closes after all of it.
  limits.idle_timeout = std::chrono::seconds(30);
  limits.keep_alive_pings = true;
  ws_.set_option(limits);
  ws_.set_option(websocket::stream_base::decorator([](websocket::response_type& res) {
    res.set(beast::http::field::server, std::string{"medianest-perf/"} + version);
  }));
  ws_.read_message_max(max_client_message);
  ws_.auto_fragment(false);
  // Joined before the handshake, so that a shutdown starting now waits for this session too.
  refused_ = feed_->join(id_, weak_from_this());
  joined_ = refused_ == live_feed::join_result::joined;
  ws_.async_accept(req, [self = shared_from_this()](beast::error_code ec) { self->on_accept(ec); });
}

void live_session::on_accept(beast::error_code ec) {
  accepted_ = true;
  if (ec) {
    spdlog::debug("live session {}: handshake failed: {}", id_, ec.message());
    return;
  }
  if (close_pending_)
    return send_pending_close(); // the daemon began stopping during the handshake
  if (!joined_) {
    // Accepted, then closed with a reason a browser can show.
    auto reason = refused_ == live_feed::join_result::stopping
                    ? websocket::close_reason{websocket::close_code::going_away,
                                              "the daemon is stopping"}
                    : websocket::close_reason{websocket::close_code::try_again_later,
                                              "too many live clients"};
    return close(std::move(reason));
  }
  open_ = true;
  queue(make_frame(hello_frame(admin_, interval_, live_now_ms())));
  metrics_pending_ = true; // the latest sample at once, if there is one
  pump();
  read();
}

void live_session::read() {
  ws_.async_read(input_, [self = shared_from_this()](beast::error_code ec, std::size_t) {
    self->on_read(ec);
  });
}

void live_session::on_read(beast::error_code ec) {
  if (ec) {
    if (ec == websocket::error::message_too_big)
      return close({websocket::close_code::too_big, "messages are limited to 4 KiB"});
    stall_timer_.cancel();
    return; // closed by the peer, by a timeout or by us
  }
  auto parsed = parse_client_message(beast::buffers_to_string(input_.data()));
  input_.consume(input_.size());
  if (auto* interval = std::get_if<std::chrono::milliseconds>(&parsed)) {
    interval_ = *interval;
    queue(make_frame(hello_frame(admin_, interval_, live_now_ms())));
  } else {
    queue(make_frame(error_frame(std::get<api_error>(parsed), live_now_ms())));
  }
  read();
}

void live_session::metrics_available() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->metrics_pending_ = true;
    self->pump();
  });
}

void live_session::event(shared_frame frame) {
  net::post(ws_.get_executor(),
            [self = shared_from_this(), frame = std::move(frame)]() mutable {
              self->queue(std::move(frame));
            });
}

void live_session::going_away() {
  net::post(ws_.get_executor(), [self = shared_from_this()] {
    self->close({websocket::close_code::going_away, "the daemon is stopping"});
  });
}

void live_session::queue(shared_frame frame) {
  if (closing_)
    return;
  if (events_.size() >= max_queued_events)
    return drop("its event queue is full");
  events_.push_back(std::move(frame));
  pump();
}

void live_session::pump() {
  // Nothing before the handshake's answer has gone out (the session joins the feed earlier,
  // so publications may already arrive).
  if (in_flight_ || closing_ || !joined_ || !open_)
    return;
  if (!events_.empty()) {
    auto next = std::move(events_.front());
    events_.pop_front();
    return write(std::move(next));
  }
  if (!metrics_pending_)
    return;
  metrics_pending_ = false;
  uint64_t sequence = 0;
  clock::time_point published{};
  auto frame = feed_->latest(admin_, sequence, published);
  if (!frame || sequence == sent_sequence_)
    return;
  // Paced by publication times, not by send times: every client gets each publication it
  // is due for as soon as it is published. "Due" allows a tenth of the interval for jitter, so
  // that with the interval equal to the sample interval every sample goes out.
  if (sent_sequence_ != 0 && published < last_published_ + interval_ * 9 / 10)
    return;
  sent_sequence_ = sequence;
  last_published_ = published;
  write(std::move(frame));
}

void live_session::write(shared_frame frame) {
  in_flight_ = std::move(frame);
  ws_.text(true);
  stall_timer_.expires_after(feed_->config().write_timeout);
  stall_timer_.async_wait([self = shared_from_this()](beast::error_code ec) { self->on_stall(ec); });
  ws_.async_write(net::buffer(*in_flight_),
                  [self = shared_from_this()](beast::error_code ec, std::size_t) {
                    self->on_write(ec);
                  });
}

void live_session::on_write(beast::error_code ec) {
  stall_timer_.cancel();
  in_flight_.reset();
  if (ec)
    return;
  if (close_pending_)
    return send_pending_close();
  pump();
}

void live_session::on_stall(beast::error_code ec) {
  // A wait that expired just as its write completed may still run after the next write
  // started: only a deadline that has really passed counts.
  if (ec || !in_flight_ || stall_timer_.expiry() > clock::now())
    return;
  drop("a write did not complete within --live-write-timeout");
}

void live_session::close(websocket::close_reason reason) {
  if (closing_)
    return;
  closing_ = true;
  pending_close_ = std::move(reason);
  close_pending_ = true;
  // One write at a time, the close frame included, and only once the handshake is done: it
  // goes when the handshake or the write in flight completes.
  if (accepted_ && !in_flight_)
    send_pending_close();
}

void live_session::send_pending_close() {
  close_pending_ = false;
  ws_.async_close(pending_close_, [self = shared_from_this()](beast::error_code) {});
}

void live_session::drop(const char* why) {
  spdlog::info("live session {}: client too slow ({}), disconnected", id_, why);
  closing_ = true;
  events_.clear();
  stall_timer_.cancel();
  beast::error_code ignored;
  beast::get_lowest_layer(ws_).shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  beast::get_lowest_layer(ws_).close(ignored);
}

} // namespace medianest::http
