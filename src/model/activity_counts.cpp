#include "model/activity_counts.hpp"

namespace medianest {

namespace {

using pair_counts = std::map<std::pair<std::string, std::string>, uint64_t>;

metric_family counter_of(std::string name, std::string help, const pair_counts& counts,
                         const char* first_label, const char* second_label) {
  metric_family f{std::move(name), std::move(help), metric_kind::counter, {}};
  for (const auto& [labels, n] : counts)
    f.points.push_back({{{first_label, labels.first}, {second_label, labels.second}},
                        static_cast<double>(n)});
  return f;
}

} // namespace

void activity_counts::on_alert(const alert_event& e) {
  ++alert_events_[{e.state, e.severity}];
  if (e.state == "firing")
    active_[e.id] = e.severity;
  else
    active_.erase(e.id);
}

void activity_counts::on_run(const optimization_run& run) {
  if (!is_done(run.status)) {
    running_.insert(run.id);
    return;
  }
  running_.erase(run.id);
  if (!counted_.insert(run.id).second)
    return;
  counted_order_.push_back(run.id);
  if (counted_order_.size() > remembered_runs) {
    counted_.erase(counted_order_.front());
    counted_order_.pop_front();
  }
  ++runs_[{run.trigger, std::string{status_name(run.status)}}];
  for (const auto& r : run.results)
    ++types_[{std::string{type_name(r.type)}, std::string{status_name(r.status)}}];
}

void activity_counts::on_delivery(const delivery_record& d) {
  ++deliveries_[{d.channel, d.ok ? "delivered" : "failed"}];
}

std::vector<metric_family> activity_counts::families() const {
  std::vector<metric_family> out;
  metric_family active{"medianest_alerts_active", "Alerts firing now, by severity",
                       metric_kind::gauge, {}};
  for (const char* severity : {"critical", "warning"}) {
    double n = 0;
    for (const auto& [id, s] : active_)
      n += s == severity ? 1 : 0;
    active.points.push_back({{{"severity", severity}}, n});
  }
  out.push_back(std::move(active));
  out.push_back(counter_of("medianest_alert_events_total",
                           "Alert state changes since start, by new state and severity",
                           alert_events_, "state", "severity"));
  out.push_back({"medianest_optimizations_running", "Optimization runs in progress",
                 metric_kind::gauge, {{{}, static_cast<double>(running_.size())}}});
  out.push_back(counter_of("medianest_optimization_runs_total",
                           "Finished optimization runs since start, by trigger and status", runs_,
                           "trigger", "status"));
  out.push_back(counter_of("medianest_optimization_types_total",
                           "Finished optimization types since start, by type and status", types_,
                           "type", "status"));
  out.push_back(counter_of("medianest_notification_deliveries_total",
                           "Notification delivery attempts since start, by channel and outcome",
                           deliveries_, "channel", "outcome"));
  return out;
}

} // namespace medianest
