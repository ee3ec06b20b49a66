#pragma once

#include <optional>
#include <string>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>
#include <vector>

#include "actors/atoms.hpp"

namespace medianest {

/// One indicator of the score: its current value and thresholds.
struct indicator {
  std::string name;   ///< "responseTime", "errorRate", "memoryUsage", "cpuUsage", "cacheHitRate"
  double value = 0;
  double optimal = 0; ///< at or better than this the indicator scores 100
  double warning = 0;
  double critical = 0;
  bool lower_is_worse = false;
};

/// 0–100 for one indicator: 100 up to optimal, falling linearly to 75 at warning, to 25 at
/// critical, to 0 at twice the critical distance from optimal.
double indicator_score(const indicator& x) noexcept;

/// "optimal" (every indicator at or better than optimal), "good", "degraded" (some past
/// warning), "critical" (some past critical), or "unknown" when no indicator has data.
std::string indicator_status(const std::vector<indicator>& xs);

/// The overall score: the mean of the mean and the minimum of the indicator scores, rounded;
/// nullopt when no indicator has data (no data is not perfect health).
std::optional<int> overall_score(const std::vector<indicator>& xs);

/// The indicators of a snapshot (those whose section is available and has data).
std::vector<indicator> indicators_of(const snapshot& s);

/// Trend of one metric over the last 24 h against the 24 h before: "improving", "stable"
/// (|change| < 5 %), "degrading" or "insufficient_data"; change in percent.
struct trend {
  std::string direction = "insufficient_data";
  std::optional<double> change;
};
trend trend_of(const std::optional<double>& last, const std::optional<double>& previous,
               bool lower_is_worse);

/// Recommendations derived from the data by the rules documented in docs/summary.md.
std::vector<std::string> recommendations_of(const snapshot& s, const summary_sql_data& data,
                                            int64_t now_unix);

/// The `currentMetrics` of GET /summary (also what the live feed sends users): responseTime,
/// memoryUsage, cpuUsage, errorRate, cacheHitRate, null when their section is unavailable.
boost::json::object current_metrics_json(const snapshot& s);

/// The `data` object of GET /summary; `active` are the alerts firing now, `optimizations`
/// the recentOptimizations entries (see recent_optimization_entries).
std::string render_summary(const snapshot_ptr& current, const summary_sql_data& data,
                           int64_t now_unix, const std::vector<alert_event>& active = {},
                           const boost::json::array& optimizations = {});

} // namespace medianest
