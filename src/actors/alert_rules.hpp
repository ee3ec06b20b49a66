#pragma once

// The alert rule engine: plain state (no actors, no I/O) that turns observed values of the
// alert metrics into alert state changes, with a Prometheus-like `for` duration and
// Netdata-like hysteresis on the way back.
//
// Metrics and their thresholds (alert_config):
//   "responseTime"            api p95, ms                      response_time, higher is worse
//   "errorRate"               api error rate, 0-1              error_rate, higher is worse
//   "memoryUsage"             system memory, %                 memory_usage, higher is worse
//   "cpuUsage"                system cpu, %                    cpu_usage, higher is worse
//   "cacheHitRate"            cache hit rate, 0-1              cache_hit_rate, LOWER is worse
//   "queryTime"               database average query time, ms  query_time, higher is worse
//   "responseTime:<category>" slowest matching endpoint, ms    the category's warning/critical,
//                                                              response_time.for_seconds
//
// Semantics, per metric (at most one alert per metric at any time):
// - "Past" a threshold means strictly above it (strictly below for cacheHitRate).
// - Pending -> firing: the value must be past the warning threshold on every observation for
//   at least for_seconds, measured on observation timestamps from the first breaching
//   observation (that observation's time becomes startedAt). One observation back within the
//   threshold resets the pending period. for_seconds = 0 fires on the first breaching
//   observation. The alert fires as "critical" directly if the value has also been past the
//   critical threshold for for_seconds by then (so one event, never warning-then-critical).
// - Escalation: a firing warning alert whose value stays past critical for for_seconds
//   emits one event: state "firing", severity "critical", same id, startedAt unchanged.
// - De-escalation: a firing critical alert whose value stays back within critical by the
//   hysteresis margin (value <= critical × 0.95; cacheHitRate: >= critical × 1.05) for
//   for_seconds emits state "firing", severity "warning", same id.
// - Resolution: a firing alert resolves only once the value has stayed back within the
//   warning threshold by the hysteresis margin (value <= warning × 0.95; cacheHitRate:
//   >= warning × 1.05) for for_seconds; it emits state "resolved" with resolvedAt = the time
//   of that observation, and the alert is forgotten. A value oscillating around the warning
//   threshold therefore fires at most once and never resolves/refires (no flapping). When
//   resolution and de-escalation become due on the same observation, only "resolved" is
//   emitted.
// - Event fields: id "alt-" + 16 random hex digits, new for every new alert and kept for its
//   life; value = the observation's value; threshold = the threshold of the event's severity
//   for firing events (warning or critical value; a de-escalation reports the warning
//   value) and the warning value for resolved events; at = the observation's time.
// - Missing data neither fires nor resolves: with no observation, nothing changes, and the
//   running pending/escalation/resolution periods are not interrupted by a gap (the next
//   observation is judged as if the condition held in between when it holds again).
//   Non-finite values count as missing data. Observations older than the latest one seen for
//   their metric are ignored; unknown metrics (e.g. a removed category) are ignored.
// - enabled == false: observe() returns no events and keeps no state.
//
// Not thread-safe: owned by one actor.

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "model/alerts.hpp"
#include "model/metrics.hpp"
#include "model/time.hpp"

namespace medianest {

/// One observed value of one alert metric at one time.
struct alert_observation {
  std::string metric;
  double value = 0;
  sys_ms at{};
};

/// True if `text` matches `pattern`, where '*' matches any run of characters (also empty,
/// also '/') and every other character matches itself.
bool glob_match(std::string_view pattern, std::string_view text) noexcept;

/// The metric names of a config, in the order active() lists alerts: responseTime,
/// errorRate, memoryUsage, cpuUsage, cacheHitRate, queryTime, then "responseTime:<name>" per
/// category.
std::vector<std::string> alert_metric_names(const alert_config& cfg);

/// The values an alert config is evaluated on, taken from a snapshot:
/// - "responseTime" = api p95 and "errorRate" = api error_rate, only when the api section is
///   available and requests_per_minute > 0;
/// - "responseTime:<category>" = the highest average_time among the api's slowest_endpoints
///   whose path matches one of the category's route patterns (same api condition; no
///   observation when none matches; a path may match several categories);
/// - "memoryUsage" = system memory percentage, "cpuUsage" = system cpu usage, when the
///   system section is available;
/// - "cacheHitRate" = cache hit_rate, when the cache section is available and gets > 0;
/// - "queryTime" = database average_query_time, when the database section is available.
/// The observation time is the section's `updated` time, or snapshot.timestamp when unset.
/// Non-finite values are left out. Order: as alert_metric_names().
std::vector<alert_observation> observations_of(const snapshot& s, const alert_config& cfg);

/// The state of every alert; feed it observations, get state-change events.
/// See the semantics at the top of this header.
class alert_rules {
public:
  /// Margin of the hysteresis, as a share of the threshold value.
  static constexpr double hysteresis = 0.05;

  explicit alert_rules(alert_config cfg);

  /// Replaces the config. New thresholds and durations apply from the next observation;
  /// active alerts keep their ids and running periods. Returns the "resolved" events (at and
  /// resolvedAt = `at`, value = the last observed value) of the active alerts that end here:
  /// all of them when the new config is disabled (and all state is dropped), otherwise those
  /// whose metric no longer exists (a removed or renamed category).
  std::vector<alert_event> configure(alert_config cfg, sys_ms at = now_ms());

  const alert_config& config() const noexcept {
    return cfg_;
  }

  /// Evaluates one observation; returns the events it caused (none or one).
  std::vector<alert_event> observe(const alert_observation& o);

  /// Alerts currently firing (the latest event of each: state "firing"), in the order of
  /// alert_metric_names().
  std::vector<alert_event> active() const;

private:
  struct rule {
    double warning = 0;
    double critical = 0;
    int64_t for_ms = 0;
    bool lower_is_worse = false;
  };

  struct metric_state {
    std::optional<sys_ms> last_at;
    double last_value = 0;
    /// The firing alert, if any (its latest event).
    std::optional<alert_event> alert;
    // Since when each condition has held continuously (unset: not holding now).
    std::optional<sys_ms> breach_since;    ///< past warning
    std::optional<sys_ms> critical_since;  ///< past critical
    std::optional<sys_ms> decrit_since;    ///< back within critical by the margin
    std::optional<sys_ms> clear_since;     ///< back within warning by the margin
  };

  std::optional<rule> rule_for(std::string_view metric) const;
  std::string new_id();

  alert_config cfg_;
  std::map<std::string, metric_state, std::less<>> states_;
  std::mt19937_64 rng_;
};

} // namespace medianest
