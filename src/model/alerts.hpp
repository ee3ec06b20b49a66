#pragma once

// Alert configuration and alert events: plain data shared by the evaluator, the dispatcher,
// the store and the /alerts endpoints.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/time.hpp"

namespace medianest {

/// One threshold of the alert configuration. For `cacheHitRate` lower values are worse.
struct alert_threshold {
  double warning = 0;
  double critical = 0;
  std::string unit;          ///< "ms" or "percentage" as in the spec
  int64_t for_seconds = 60;  ///< how long the condition must hold before firing / resolving
};

/// A category of the spec's response-time target table, with the route patterns it covers
/// ("*" matches any run of characters, e.g. "/api/v1/auth/*").
struct endpoint_category {
  std::string name;          ///< "Authentication", "Search", "Media Requests", "Dashboard", "Admin Operations"
  double target = 0;         ///< P95 target, ms
  double warning = 0;        ///< ms
  double critical = 0;       ///< ms
  std::vector<std::string> routes;
};

struct alert_notifications {
  std::vector<std::string> email;
  std::string webhook;          ///< Slack-compatible incoming webhook URL, or empty
  bool discord = false;         ///< send to the Discord webhook URL below
  std::string discord_url;      ///< from configuration, or given as "discord": "<url>"
  int64_t repeat_seconds = 0;   ///< re-notify a still-firing alert this often (0: never)
};

/// The whole alert configuration (GET/PUT /alerts).
struct alert_config {
  bool enabled = true;
  alert_threshold response_time{500, 1000, "ms", 60};
  alert_threshold error_rate{0.05, 0.1, "percentage", 60};
  alert_threshold memory_usage{80, 90, "percentage", 60};
  alert_threshold cpu_usage{80, 95, "percentage", 60};
  alert_threshold cache_hit_rate{0.7, 0.5, "percentage", 60}; ///< lower is worse
  alert_threshold query_time{100, 500, "ms", 60};             ///< database average query time
  std::vector<endpoint_category> categories = default_categories();
  alert_notifications notifications;

  /// The spec's response-time target table with route patterns for MediaNest's API.
  static std::vector<endpoint_category> default_categories();
};

/// A state change of one alert, as stored, notified and published.
struct alert_event {
  std::string id;            ///< stable for the alert's life: "alt-<hex>"
  std::string metric;        ///< "responseTime", "errorRate", "memoryUsage", "cpuUsage", "cacheHitRate", "queryTime", or "responseTime:<category>"
  std::string severity;      ///< "warning" or "critical"
  std::string state;         ///< "firing" or "resolved"
  double value = 0;          ///< the value that caused the change
  double threshold = 0;      ///< the threshold it crossed
  sys_ms started_at{};
  std::optional<sys_ms> resolved_at;
  sys_ms at{};               ///< when this event happened
};

/// One attempt to deliver one alert event to one destination (the delivery log).
struct delivery_record {
  std::string alert_id;
  std::string state;       ///< of the event: "firing" or "resolved"
  std::string severity;
  std::string channel;     ///< "webhook", "discord" or "email"
  std::string destination; ///< masked URL or the e-mail address
  int attempt = 1;
  bool ok = false;
  long status = 0;         ///< HTTP or SMTP status, 0 when no answer came
  std::string error;
  sys_ms at{};
};

} // namespace medianest
