#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "actors/atoms.hpp"

namespace medianest::http {

/// The latest snapshot as the HTTP layer serves it: the hub publishes into it, handlers read
/// it without waiting on any actor. Each publication is immutable and rendered once (the
/// complete response bodies of /metrics and /resources), however many requests read it.
class snapshot_view {
public:
  struct rendered {
    snapshot_ptr data;
    std::string metrics_body;
    std::string resources_body;
  };

  /// Renders and installs a new snapshot (called from the hub's thread).
  void publish(snapshot_ptr s);

  /// The latest rendering, or nullptr before the first publication.
  std::shared_ptr<const rendered> latest() const noexcept {
    return current_.load(std::memory_order_acquire);
  }

private:
  std::atomic<std::shared_ptr<const rendered>> current_;
};

} // namespace medianest::http
