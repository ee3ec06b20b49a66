#pragma once

// The one type-id block of the project: every atom, and the list of every message type that
// travels between actors.
//
// CAF 0.17 uses the block for atoms; message types need type ids only to be serialized, and
// ours never leave the process. They are allowed as local-only ("unsafe") message types below
// rather than given serialization code nothing would call.

#include <memory>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/atom.hpp>
#include <caf/type_id.hpp>

#include "model/metrics.hpp"
#include "model/response_cache.hpp"
#include "model/alerts.hpp"
#include "model/history.hpp"
#include "model/series.hpp"
#include "model/cache_strategy.hpp"
#include "model/optimization.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(medianest, caf::first_custom_type_id)

  /// A collector's source failed; carries the section and the reason.
  CAF_ADD_ATOM(medianest, medianest, unavailable_atom, "unavail")
  /// Ask for or deliver the latest snapshot.
  CAF_ADD_ATOM(medianest, medianest, snapshot_atom, "snapshot")
  /// A SQL-using actor reports its query counts and busy time.
  CAF_ADD_ATOM(medianest, medianest, sql_usage_atom, "sql_usage")
  /// Ask a component for its own status (health data).
  CAF_ADD_ATOM(medianest, medianest, status_atom, "status")
  /// A GET /history query.
  CAF_ADD_ATOM(medianest, medianest, history_atom, "history")
  /// Build the GET /summary answer, or the data it needs from SQL.
  CAF_ADD_ATOM(medianest, medianest, summary_atom, "summary")
  /// Load the roll-ups still open at start.
  CAF_ADD_ATOM(medianest, medianest, load_atom, "load")
  /// The raw samples of the last hour of one series.
  CAF_ADD_ATOM(medianest, medianest, raw_atom, "raw")
  /// The alert configuration.
  CAF_ADD_ATOM(medianest, medianest, alert_config_atom, "alertcfg")
  /// The alert log.
  CAF_ADD_ATOM(medianest, medianest, alert_log_atom, "alertlog")
  /// The delivery log of notifications.
  CAF_ADD_ATOM(medianest, medianest, delivery_atom, "delivery")
  /// The alerts firing now.
  CAF_ADD_ATOM(medianest, medianest, active_atom, "active")
  /// Deliver a notification (to a channel) or retry one.
  CAF_ADD_ATOM(medianest, medianest, notify_atom, "notify")
  /// Optimization runs: start one, read one, a worker's outcome, the recent entries.
  CAF_ADD_ATOM(medianest, medianest, optimize_atom, "optimize")
  /// Release spare capacity of in-memory structures.
  CAF_ADD_ATOM(medianest, medianest, compact_atom, "compact")
  /// A run's measurement window after its work is over.
  CAF_ADD_ATOM(medianest, medianest, measure_atom, "measure")
  /// A type's work took longer than allowed.
  CAF_ADD_ATOM(medianest, medianest, timeout_atom, "timeout")
  /// Whether the time-series store's writes reach the database (the failure's reason, or
  /// empty once they do again).
  CAF_ADD_ATOM(medianest, medianest, history_writes_atom, "hwrites")
  /// A notification channel got a destination: load what delivering needs now.
  CAF_ADD_ATOM(medianest, medianest, prepare_atom, "prepare")

CAF_END_TYPE_ID_BLOCK(medianest)

namespace medianest {

/// Which part of the snapshot a message is about.
enum class section_kind : uint8_t { api, database, system, cache, resources };

/// The hub's published view: immutable once built, shared by every reader.
using snapshot_ptr = std::shared_ptr<const snapshot>;

/// What one SQL session did since its previous report.
struct sql_usage {
  query_counts counts;
  uint64_t total_time_us = 0;
  uint64_t queries = 0;
  uint64_t slow_queries = 0;
  /// Time spent executing, for the pool-usage figure.
  uint64_t busy_us = 0;
};

using rollup_rows = std::vector<rollup_row>;

/// A history query with the buckets the store still holds in memory.
struct history_request {
  history_query query;
  int64_t now_unix = 0;
  /// In-memory buckets at the query's resolution and at 1h (for the summary's quantiles).
  rollup_rows pending;
  rollup_rows pending_hours;
};

/// What GET /summary needs from SQL: averages of the last 24 h and the 24 h before for the
/// trend metrics, and a day of hourly memory buckets for its forecast.
struct summary_sql_data {
  struct window_average {
    std::optional<double> last;
    std::optional<double> previous;
  };
  window_average response_time;
  window_average memory;
  window_average cache_hit_rate;
  rollup_rows memory_hours;
};

/// The raw samples (unix ms, value) of one series.
using raw_samples = std::vector<std::pair<int64_t, double>>;

using alert_events = std::vector<alert_event>;

/// One notification to one destination, as a channel works through it.
struct notification_job {
  alert_event event;
  std::string destination;   ///< URL or e-mail address (in clear: never logged or shown)
  std::string shown_as;      ///< the masked destination for logs and the delivery log
  unsigned attempt = 1;
};

using optimization_runs = std::vector<optimization_run>;

/// What an optimization worker reports when its work is over.
struct worker_outcome {
  type_result result;
  /// cache_strategy: the traffic and cache counters it planned from, the baseline of the
  /// next run's "since the previous run".
  std::vector<route_usage> usage;
  cache_counters cache;
};

} // namespace medianest

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::system_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::api_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::database_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::cache_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::resources_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::gateway_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::snapshot_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::section_kind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::sql_usage)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::cached_response_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::cache_counters)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::rollup_rows)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::history_query)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::history_request)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::summary_sql_data)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::raw_samples)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::alert_event)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::alert_events)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::delivery_record)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::alert_notifications)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::notification_job)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::optimization_run)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::optimization_runs)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::optimization_type)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::worker_outcome)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(boost::json::array)
