#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "actors/atoms.hpp"
#include "model/prometheus.hpp"

namespace medianest::http {

/// The latest snapshot as the HTTP layer serves it: the hub publishes into it, handlers read
/// it without waiting on any actor. Each publication is immutable and rendered once (the
/// complete response bodies of /metrics, /resources and /prometheus in both exposition
/// formats), however many requests read it.
class snapshot_view {
public:
  struct rendered {
    snapshot_ptr data;
    std::string metrics_body;
    std::string resources_body;
    /// Prometheus text format 0.0.4.
    std::string prometheus_text;
    /// OpenMetrics 1.0.0.
    std::string prometheus_openmetrics;
  };

  /// Renders and installs a new snapshot (called from the hub's thread).
  void publish(snapshot_ptr s);

  /// The latest rendering, or nullptr before the first publication.
  std::shared_ptr<const rendered> latest() const noexcept {
    return current_.load(std::memory_order_acquire);
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

  std::atomic<std::shared_ptr<const rendered>> current_;
  mutable std::mutex extras_mutex_;
  std::map<std::string, std::vector<metric_family>> extras_;
};

} // namespace medianest::http
