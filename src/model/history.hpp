#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/error.hpp"
#include "model/series.hpp"

namespace medianest {

struct forecast_result;

/// A validated GET /history request.
struct history_query {
  std::string period = "24h";
  int64_t period_seconds = 86400;
  std::string metric = "response_time";
  std::string granularity = "5m";
  int64_t resolution = resolution_5m;
  bool forecast = false;

  /// The cache key of the query (every field that changes the answer).
  std::string key() const;
};

/// Parses and validates the query string of GET /history: period 1h|24h|7d|30d (default
/// 24h), metric (default response_time; a built-in metric or "route:<METHOD> <template>"),
/// granularity 1m|5m|1h (default 5m), forecast true|false. Unknown, repeated or empty
/// parameters are errors naming the parameter.
std::variant<history_query, api_error> parse_history_query(std::string_view query_string);

/// The first bucket start of the answer: every bucket overlapping [now - period, now].
int64_t history_from(const history_query& q, int64_t now_unix) noexcept;

/// Merges the rows read from SQL with the buckets still in memory (memory wins for the same
/// bucket), keeps those from `from` on, ascending.
std::vector<rollup_row> merge_rows(std::vector<rollup_row> stored,
                                   const std::vector<rollup_row>& pending, int64_t from);

/// Summary over a period: average, min, max from the rows; p95/p99 from the merged sketch.
struct history_summary {
  double average = 0;
  double min = 0;
  double max = 0;
  double p95 = 0;
  double p99 = 0;
  uint64_t count = 0;
};

/// Renders the `data` object of GET /history (dataPoints, summary, forecast if given).
std::string render_history(const history_query& q, const metric_info& info,
                           const std::vector<rollup_row>& points, const history_summary& summary,
                           const std::optional<forecast_result>& forecast);

} // namespace medianest
