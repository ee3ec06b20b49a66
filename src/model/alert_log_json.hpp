#pragma once

#include <string>
#include <vector>

#include <boost/json/object.hpp>

#include "model/alerts.hpp"

namespace medianest {

/// An alert as the API shows it: id, metric, severity, state, value, threshold, startedAt,
/// resolvedAt (null while firing), at.
boost::json::object alert_event_json(const alert_event& e);

/// `{"events":[...]}` of GET /alerts/events.
std::string alert_log_json(const std::vector<alert_event>& events);

/// `{"deliveries":[...]}` of GET /alerts/deliveries.
std::string delivery_log_json(const std::vector<delivery_record>& deliveries);

} // namespace medianest
