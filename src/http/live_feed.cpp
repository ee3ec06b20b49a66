#include "http/live_feed.hpp"

#include <algorithm>

namespace medianest::http {

live_feed::live_feed(live_feed_config cfg) : cfg_(std::move(cfg)) {}

std::vector<std::shared_ptr<live_subscriber>> live_feed::sessions() const {
  std::vector<std::shared_ptr<live_subscriber>> out;
  std::lock_guard guard{mutex_};
  out.reserve(sessions_.size());
  for (const auto& [id, weak] : sessions_)
    if (auto s = weak.lock())
      out.push_back(std::move(s));
  return out;
}

void live_feed::publish_metrics(shared_frame admin_frame, shared_frame user_frame) {
  {
    std::lock_guard guard{mutex_};
    admin_frame_ = std::move(admin_frame);
    user_frame_ = std::move(user_frame);
    ++sequence_;
    published_ = std::chrono::steady_clock::now();
  }
  for (const auto& s : sessions())
    s->metrics_available();
}

void live_feed::publish_event(shared_frame frame, bool admin_only) {
  for (const auto& s : sessions())
    if (!admin_only || s->is_admin())
      s->event(frame);
}

live_feed::join_result live_feed::join(uint64_t id, std::weak_ptr<live_subscriber> session) {
  std::lock_guard guard{mutex_};
  if (stopping_)
    return join_result::stopping;
  if (sessions_.size() >= cfg_.max_clients)
    return join_result::full;
  sessions_.emplace(id, std::move(session));
  clients_.store(sessions_.size(), std::memory_order_relaxed);
  return join_result::joined;
}

void live_feed::leave(uint64_t id) {
  std::function<void()> drained;
  {
    std::lock_guard guard{mutex_};
    sessions_.erase(id);
    clients_.store(sessions_.size(), std::memory_order_relaxed);
    if (stopping_ && sessions_.empty())
      drained = drained_;
  }
  if (drained)
    drained();
}

void live_feed::on_drained(std::function<void()> callback) {
  std::lock_guard guard{mutex_};
  drained_ = std::move(callback);
}

shared_frame live_feed::latest(bool admin, uint64_t& sequence,
                               std::chrono::steady_clock::time_point& published) const {
  std::lock_guard guard{mutex_};
  sequence = sequence_;
  published = published_;
  return admin ? admin_frame_ : user_frame_;
}

void live_feed::shutdown() {
  {
    std::lock_guard guard{mutex_};
    stopping_ = true;
  }
  for (const auto& s : sessions())
    s->going_away();
}

bool live_feed::origin_allowed(std::string_view origin) const {
  if (cfg_.allowed_origins.empty())
    return true;
  return std::find(cfg_.allowed_origins.begin(), cfg_.allowed_origins.end(), origin)
         != cfg_.allowed_origins.end();
}

} // namespace medianest::http
