#pragma once

// Optimization runs as plain data (POST /optimize, GET /optimize/{id}, the recentOptimizations
// of GET /summary): the request, the run state, the before/after arithmetic and the wire forms.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "model/error.hpp"
#include "model/time.hpp"

namespace medianest {

enum class optimization_type : uint8_t { cache_strategy, database_queries, memory_cleanup };

/// Every type, in wire order.
inline constexpr optimization_type all_optimization_types[] = {
  optimization_type::cache_strategy, optimization_type::database_queries,
  optimization_type::memory_cleanup};

/// The wire name: "cache_strategy", "database_queries", "memory_cleanup".
std::string_view type_name(optimization_type t) noexcept;

/// The type of a wire name (exact, case-sensitive); nullopt for anything else.
std::optional<optimization_type> parse_type(std::string_view name) noexcept;

/// One line saying what the type really does.
std::string_view type_description(optimization_type t) noexcept;

// ---- The request ----------------------------------------------------------------------------

/// A validated POST /optimize body; `types` in the order given, without duplicates.
struct optimize_request {
  std::vector<optimization_type> types;
  bool aggressive = false;
};

/// Validates a POST /optimize body `{"optimizations": [type...], "aggressive"?: bool}`. Errors
/// are VALIDATION_ERROR with details.field naming the offending value: "body" (not JSON, not an
/// object), "optimizations" (missing, not a list, empty), "optimizations[i]" (not a string, an
/// unknown type, a duplicate), "aggressive" (not true/false), or the unknown key itself.
std::variant<optimize_request, api_error> parse_optimize_request(std::string_view body);

// ---- Run state ------------------------------------------------------------------------------

enum class run_status : uint8_t { started, running, completed, failed };

/// "started", "running", "completed", "failed".
std::string_view status_name(run_status s) noexcept;

/// completed or failed.
bool is_done(run_status s) noexcept;

/// One before/after comparison of a metric.
struct improvement {
  std::string metric;                ///< spec key: "responseTime", "cacheHitRate", "memoryUsage"...
  std::optional<std::string> value;  ///< "+5.2%", "-12ms", "-48MB"; nullopt: too little data
  std::string note;                  ///< why value is missing; "" when it is not
};

struct type_result {
  optimization_type type = optimization_type::cache_strategy;
  run_status status = run_status::started;
  std::vector<std::string> actions;       ///< what was done, in order, for people
  std::vector<improvement> improvements;
  std::string error_code;                 ///< "OPTIMIZATION_FAILED" when failed
  std::string error_message;
  /// Seconds the type's own work took (without the measurement window); nullopt until done.
  std::optional<double> seconds;
};

struct optimization_run {
  std::string id;
  run_status status = run_status::started;
  std::string trigger = "manual";  ///< "manual" | "automatic"
  std::string triggered_by;        ///< the alert id when automatic, "" otherwise
  bool aggressive = false;
  sys_ms started_at{};
  std::optional<sys_ms> completed_at;
  std::vector<type_result> results;  ///< one per requested type, in request order
};

/// The type an automatic run uses for a firing alert of `metric`: response times
/// ("responseTime", "responseTime:<category>") and "cacheHitRate" -> cache_strategy,
/// "memoryUsage" -> memory_cleanup, "queryTime" -> database_queries; nullopt for the others.
std::optional<optimization_type> optimization_for_alert(std::string_view metric) noexcept;

/// "opt-" and 12 random lowercase hex digits (48 bits).
std::string make_optimization_id();

/// A run's status from its types': failed once all are done and any failed, running while any
/// is started or running, completed when all completed (also when there are none).
run_status overall_status(const std::vector<type_result>& results) noexcept;

// ---- Estimated duration ---------------------------------------------------------------------

/// Seconds a type takes when no run of it has finished yet. Database work dominates: ANALYZE
/// reads every table.
inline constexpr double default_cache_strategy_seconds = 5;
inline constexpr double default_database_queries_seconds = 30;
inline constexpr double default_memory_cleanup_seconds = 2;

/// Whether a type's improvements come from the traffic windows before and after its work
/// (cache_strategy, database_queries: responseTime, cacheHitRate), so that it finishes one
/// window after its work. memory_cleanup measures the process itself and finishes at once.
bool measures_window(optimization_type t) noexcept;

/// The types of a run work in parallel: the largest over `types` of the past mean work time
/// of each type (when known, finite and positive) or its default above, plus `window_seconds`
/// for a type that measures_window, rounded up; at least 1.
int64_t estimated_duration_seconds(const std::vector<optimization_type>& types,
                                   const std::map<optimization_type, double>& past_mean_seconds,
                                   double window_seconds = 0);

/// The mean work seconds of each type over the results of `runs` that have one.
std::map<optimization_type, double> past_mean_seconds(const std::vector<optimization_run>& runs);

// ---- Improvements ---------------------------------------------------------------------------

/// A window of measurements before or after a run: how many and their mean.
struct window_stats {
  uint64_t samples = 0;
  double mean = 0;
};

/// Fewest requests per window for a latency comparison to mean anything.
inline constexpr uint64_t min_latency_samples = 30;
/// Fewest cache lookups per window for a hit-rate comparison.
inline constexpr uint64_t min_ratio_lookups = 30;

// Every value carries its sign ("-" is less: faster, fewer bytes, a lower rate) except a zero
// change, which carries none ("0ms", "0.0%", "0B"); recent_optimization_entries relies on it.

/// after.mean - before.mean in whole ms (half away from zero): "-12ms", "+3ms", "0ms". With
/// fewer than `min_samples` on either side the value is nullopt and the note says
/// "insufficient traffic: N samples before, M after, K needed".
improvement compare_latency(std::string metric, window_stats before, window_stats after,
                            uint64_t min_samples = min_latency_samples);

/// The change of a 0..1 ratio in percentage points with one decimal: 0.70 -> 0.752 is "+5.2%".
/// With too few lookups the note says "insufficient traffic: N lookups before, M after, K
/// needed".
improvement compare_ratio(std::string metric, window_stats before, window_stats after,
                          uint64_t min_samples = min_ratio_lookups);

/// What the supervisor keeps of each api/cache sample, to measure windows before and after a
/// run: the requests finished in the sample's interval with the sum of their durations, and
/// the cache lookups of the interval with their hits.
struct measurement_point {
  int64_t at_ms = 0;             ///< unix ms of the sample
  uint64_t requests = 0;
  uint64_t latency_sum_us = 0;
  uint64_t cache_lookups = 0;
  double cache_hits = 0;
};

/// A window's request latency (samples: requests, mean: ms) and cache hit ratio (samples:
/// lookups, mean: 0..1).
struct window_measure {
  window_stats latency;
  window_stats hit_ratio;
};

/// Sums the points with from_ms < at_ms <= to_ms.
template <class Points>
window_measure measure_window(const Points& points, int64_t from_ms, int64_t to_ms) {
  uint64_t requests = 0, sum_us = 0, lookups = 0;
  double hits = 0;
  for (const measurement_point& p : points) {
    if (p.at_ms <= from_ms || p.at_ms > to_ms)
      continue;
    requests += p.requests;
    sum_us += p.latency_sum_us;
    lookups += p.cache_lookups;
    hits += p.cache_hits;
  }
  window_measure out;
  out.latency = {requests, requests ? static_cast<double>(sum_us) / 1000.0
                                        / static_cast<double>(requests)
                                    : 0.0};
  out.hit_ratio = {lookups, lookups ? hits / static_cast<double>(lookups) : 0.0};
  return out;
}

/// The change of a byte count in human_bytes units: "-48MB", "+1.2MB", "0B".
improvement compare_bytes(std::string metric, uint64_t before_bytes, uint64_t after_bytes);

// ---- Wire forms -----------------------------------------------------------------------------

/// The `data` of the POST /optimize answer: `{"optimizationId", "status": "started",
/// "estimatedDuration", "optimizations": [{"type", "status", "description"}]}`. The top status
/// is always "started" (the answer says the run was accepted); each type shows its own.
boost::json::object started_json(const optimization_run& run, int64_t estimated_duration);

/// The `data` of GET /optimize/{id}: `{"optimizationId", "status", "trigger", "triggeredBy"
/// (automatic runs only), "aggressive", "startedAt", "completedAt" (null until done),
/// "duration" (seconds, ms precision; null until done), "results": [{"type", "status",
/// "improvements": {metric: value or null}, "notes": {metric: note} (only when a note exists),
/// "actions", "duration" (seconds of the type's own work; null until done), "error": {"code",
/// "message"} (failed types only)}]}`.
boost::json::object run_json(const optimization_run& run);

/// The run a run_json document describes (as stored in SQL); nullopt when it is not one.
std::optional<optimization_run> run_from_json(std::string_view document);

/// `{"optimizations": [run_json...]}` in the order given.
boost::json::object runs_list_json(const std::vector<optimization_run>& runs);

/// The `recentOptimizations` of GET /summary: one entry per completed or failed type of the
/// finished runs (those with completed_at; their completedAt is the only time a type result
/// has), newest run first, types in run order: `{"timestamp", "action": type name,
/// "description": first action or else the type description, "impact"}`.
///
/// impact: a failed type gives "Failed: <error message>". A completed type picks its headline
/// improvement: responseTime when it has a non-zero value, else the first improvement with a
/// non-zero value. A faster responseTime reads "Improved response time by 12ms"; any other
/// reads "<metric in words> <value>": "Cache hit rate +5.2%", "Response time +3ms", "Memory
/// usage -48MB". Without one: "Not measured: too little data" when there are improvements but
/// none has a value, else "No measurable change" (all measured values zero, or none listed).
boost::json::array recent_optimization_entries(const std::vector<optimization_run>& runs);

} // namespace medianest
