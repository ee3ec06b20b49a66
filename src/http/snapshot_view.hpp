#pragma once

#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/atoms.hpp"
#include "http/shared_value.hpp"
#include "model/prometheus.hpp"

namespace medianest::http {

/// The latest snapshot as the HTTP layer serves it: the hub publishes into it, handlers read
/// it without waiting on any actor. Each publication is immutable; each of its response
/// bodies (/metrics, /resources, /prometheus in both exposition formats) is rendered by the
/// first request that asks for it, once, however many requests read it. The hub publishes
/// once or more per sample interval and is mostly not read in between: rendering eagerly
/// was the largest part of the idle daemon's CPU time.
class snapshot_view {
public:
  enum class body { metrics, resources, prometheus_text, prometheus_openmetrics };

  class rendered {
  public:
    rendered(snapshot_ptr data, prometheus_extras extras)
      : data_(std::move(data)), extras_(std::move(extras)) {
      // nop
    }

    const snapshot_ptr& data() const noexcept {
      return data_;
    }

    /// The body, rendered on the first call (concurrent first callers wait for one render).
    const std::string& get(body which) const;

  private:
    struct lazy_body {
      std::once_flag once;
      std::string text;
    };

    static constexpr size_t body_count = 4;

    snapshot_ptr data_;
    prometheus_extras extras_;
    mutable std::array<lazy_body, body_count> bodies_;
  };

  /// Installs a new snapshot (called from the hub's thread; renders nothing).
  void publish(snapshot_ptr s);

  /// The latest publication, or nullptr before the first one.
  std::shared_ptr<const rendered> latest() const {
    return current_.load();
  }

  /// The Prometheus extension point: a component that counts something outside the snapshot
  /// (active alerts by severity, optimization runs, notification deliveries) hands its
  /// current families over under its own `source` name, replacing what that source gave
  /// before; they appear in /prometheus from the next publication on (within one sample
  /// interval). Any thread may call it; it only stores the families.
  void set_prometheus_families(const std::string& source, std::vector<metric_family> families);

private:
  /// The extra families of every source, in source-name order.
  prometheus_extras extras() const;

  shared_value<rendered> current_;
  mutable std::mutex extras_mutex_;
  std::map<std::string, std::vector<metric_family>> extras_;
};

} // namespace medianest::http
