#include "model/alert_log_json.hpp"

#include <cmath>

#include <boost/json/array.hpp>

#include "model/json.hpp"

namespace medianest {

namespace {

double round4(double x) {
  return std::isfinite(x) ? std::round(x * 10000) / 10000 : 0.0;
}

} // namespace

boost::json::object alert_event_json(const alert_event& e) {
  return {{"id", e.id},
          {"metric", e.metric},
          {"severity", e.severity},
          {"state", e.state},
          {"value", round4(e.value)},
          {"threshold", e.threshold},
          {"startedAt", iso8601(e.started_at)},
          {"resolvedAt", e.resolved_at ? boost::json::value(iso8601(*e.resolved_at)) : nullptr},
          {"at", iso8601(e.at)}};
}

std::string alert_log_json(const std::vector<alert_event>& events) {
  boost::json::array items;
  for (const auto& e : events)
    items.push_back(alert_event_json(e));
  return to_json(boost::json::object{{"events", std::move(items)}});
}

std::string delivery_log_json(const std::vector<delivery_record>& deliveries) {
  boost::json::array items;
  for (const auto& d : deliveries)
    items.push_back({{"alertId", d.alert_id},
                     {"state", d.state},
                     {"severity", d.severity},
                     {"channel", d.channel},
                     {"destination", d.destination},
                     {"attempt", d.attempt},
                     {"ok", d.ok},
                     {"status", d.status},
                     {"error", d.error},
                     {"at", iso8601(d.at)}});
  return to_json(boost::json::object{{"deliveries", std::move(items)}});
}

} // namespace medianest
