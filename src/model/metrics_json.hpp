#pragma once

#include <boost/json/object.hpp>

#include "model/metrics.hpp"

namespace medianest {

/// The `data` object of GET /metrics: timestamp, api, database, system, cache.
boost::json::object metrics_data(const snapshot& s);

/// The `data` object of GET /resources: timestamp, processes, network, storage, connections.
boost::json::object resources_data(const snapshot& s);

/// Each section as JSON. Every section carries "status": "ok", or "unavailable" together
/// with "error" and "since" and every spec field set to null (no stale numbers).
boost::json::object to_json_object(const api_sample& x);
boost::json::object to_json_object(const database_sample& x);
boost::json::object to_json_object(const system_sample& x);
boost::json::object to_json_object(const cache_sample& x);
boost::json::object to_json_object(const resources_sample& x);
boost::json::object to_json_object(const gateway_sample& x);

/// Rounds to two decimals, for ms and percentages.
double round2(double x) noexcept;

} // namespace medianest
