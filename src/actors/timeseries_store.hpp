#pragma once

#include <unordered_map>

#include "actors/interfaces.hpp"
#include "actors/series_buffer.hpp"
#include "actors/source_health.hpp"
#include "actors/unsent_rollups.hpp"

namespace medianest {

/// Rows kept for a database that is down: about a day of 1m/5m/1h buckets for 20 series.
inline constexpr size_t max_unsent = 100'000;

struct timeseries_store_state {
  static inline const char* name = "timeseries_store";

  series_buffer buffer;
  /// Rows taken from the buffer and not yet confirmed written, by bucket: what a crash or
  /// a database outage could lose. Bounded by `max_unsent`; the oldest are dropped first.
  unsent_rollups unsent{max_unsent};
  bool write_in_flight = false;
  /// Whether the open buckets of the previous run are back in the buffer; the snapshots that
  /// arrive before wait in `early` (the store subscribes at once: a request served in the
  /// daemon's first moments is history too).
  bool restored = false;
  std::vector<snapshot_ptr> early;
  /// Whether the last write failed (the hub shows the database section unavailable then).
  bool writes_failing = false;
  /// Whether dropping buffered rows was logged during the current outage.
  bool drops_logged = false;
  snapshot_ptr latest;
  /// History queries being answered, by cache key, with everyone waiting for the answer:
  /// identical concurrent queries cost one database read.
  std::unordered_map<std::string, std::vector<caf::typed_response_promise<std::string>>> inflight;
  /// Writes roll-ups, loads open buckets, applies retention.
  timeseries_db_actor db;
  /// Answers history and summary reads on its own connection, so that a long read never
  /// waits behind a write (SQLite in WAL mode and PostgreSQL both read beside a writer).
  timeseries_db_actor reader;
  response_cache_actor cache;
  metrics_hub_actor hub;
  /// Knows the active alerts for /summary (set once the evaluator exists).
  alert_evaluator_actor alerts;
  std::chrono::milliseconds flush_interval{10'000};
  std::chrono::milliseconds cache_ttl{1'000};
  source_health health{"time-series store", std::chrono::seconds(10)};
  /// The recentOptimizations of /summary, as the optimization supervisor last sent them.
  boost::json::array recent_optimizations;
};

/// The time-series store actor.
timeseries_store_actor::behavior_type
timeseries_store(timeseries_store_actor::stateful_pointer<timeseries_store_state> self,
                 metrics_hub_actor hub, timeseries_db_actor db, timeseries_db_actor reader,
                 response_cache_actor cache, alert_evaluator_actor alerts, std::chrono::milliseconds flush_interval,
                 std::chrono::milliseconds cache_ttl);

} // namespace medianest
