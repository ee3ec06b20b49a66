#pragma once

// What /prometheus says about the daemon's own activity outside the metrics snapshot: alerts
// firing now by severity, alert state changes, optimization runs and types by outcome, and
// notification deliveries by channel and outcome. Counted since start.

#include <cstdint>
#include <deque>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/alerts.hpp"
#include "model/optimization.hpp"
#include "model/prometheus.hpp"

namespace medianest {

class activity_counts {
public:
  /// A firing event sets the alert's severity (an escalation moves it); resolved removes it.
  void on_alert(const alert_event& e);
  /// A run as the supervisor publishes it: counted once, when it has finished.
  void on_run(const optimization_run& run);
  void on_delivery(const delivery_record& d);

  /// medianest_alerts_active{severity} (gauge; warning and critical always present),
  /// medianest_alert_events_total{state,severity}, medianest_optimizations_running (gauge),
  /// medianest_optimization_runs_total{trigger,status},
  /// medianest_optimization_types_total{type,status},
  /// medianest_notification_deliveries_total{channel,outcome} (outcome "delivered"/"failed").
  std::vector<metric_family> families() const;

private:
  /// Runs finished and counted, newest last; bounded (runs are rare, ids random).
  static constexpr size_t remembered_runs = 1'000;

  std::map<std::string, std::string> active_;  ///< alert id -> severity
  std::map<std::pair<std::string, std::string>, uint64_t> alert_events_;
  std::set<std::string> running_;
  std::deque<std::string> counted_order_;
  std::set<std::string> counted_;
  std::map<std::pair<std::string, std::string>, uint64_t> runs_;
  std::map<std::pair<std::string, std::string>, uint64_t> types_;
  std::map<std::pair<std::string, std::string>, uint64_t> deliveries_;
};

} // namespace medianest
