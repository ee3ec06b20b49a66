#pragma once

#include <memory>

#include "http/types.hpp"

namespace medianest::http {

struct api_services;

/// GET /api/v1/performance/prometheus: the latest snapshot in Prometheus' text format 0.0.4,
/// or in OpenMetrics 1.0.0 when the Accept header prefers application/openmetrics-text. Both
/// bodies are rendered once per snapshot publication (snapshot_view): a scrape copies one out,
/// with no actor round trip and no rendering.
handler prometheus_endpoint(std::shared_ptr<const api_services> services);

} // namespace medianest::http
