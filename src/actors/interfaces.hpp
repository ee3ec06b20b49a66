#pragma once

// Every typed actor interface of the daemon, one comment per handler.

#include <string>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"
#include "model/response_cache.hpp"

namespace medianest {

/// Keeps the latest sample of every collector, builds the snapshot and publishes it.
using metrics_hub_actor = caf::typed_actor<
  /// A collector's new sample replaces the section and clears its error.
  caf::reacts_to<system_sample>, caf::reacts_to<api_sample>, caf::reacts_to<database_sample>,
  caf::reacts_to<cache_sample>, caf::reacts_to<resources_sample>, caf::reacts_to<gateway_sample>,
  /// A collector's source failed: the section is marked unavailable with the reason.
  caf::reacts_to<unavailable_atom, section_kind, std::string>,
  /// The time-series store cannot write history (the reason), or can again (empty): while it
  /// cannot, the database section is shown unavailable with that reason even when the
  /// database collector still reads (a full disk refuses writes, not reads).
  caf::reacts_to<history_writes_atom, std::string>,
  /// The latest snapshot, as /metrics shows it.
  caf::replies_to<snapshot_atom>::with<snapshot_ptr>,
  /// Adds a subscriber that receives `(snapshot_atom, snapshot_ptr)` on every publication;
  /// it is dropped when it terminates.
  caf::reacts_to<caf::subscribe_atom, caf::actor>,
  /// Refreshes the HTTP view shortly after new samples arrived (coalesced).
  caf::reacts_to<caf::publish_atom>,
  /// Periodic publication to the subscribers.
  caf::reacts_to<caf::tick_atom>>;

/// A periodic collector: samples on its own timer and sends to the hub.
using collector_actor = caf::typed_actor<
  /// Take a sample now (the timer sends it; tests may too).
  caf::reacts_to<caf::tick_atom>>;

/// The database collector additionally accepts usage reports from every SQL session.
using database_collector_actor = caf::typed_actor<
  /// Take a sample now.
  caf::reacts_to<caf::tick_atom>,
  /// Another actor's SQL session reports what it did since its last report.
  caf::reacts_to<sql_usage_atom, sql_usage>>;

/// The built-in response cache (see model/response_cache.hpp): serves the daemon's own
/// expensive reads and, in gateway mode, upstream responses; the cache collector's source
/// when no Redis is configured.
using response_cache_actor = caf::typed_actor<
  /// The fresh entry for a key, or nullptr (counts a hit or a miss).
  caf::replies_to<caf::get_atom, std::string>::with<cached_response_ptr>,
  /// Stores an entry for a TTL in milliseconds.
  caf::reacts_to<caf::put_atom, std::string, cached_response_ptr, int64_t>,
  /// Removes an entry; replies whether it was there.
  caf::replies_to<caf::delete_atom, std::string>::with<bool>,
  /// Drops every entry; replies the bytes freed.
  caf::replies_to<caf::reset_atom>::with<uint64_t>,
  /// The cache's counters.
  caf::replies_to<status_atom>::with<cache_counters>,
  /// Drops the expired entries now; replies how many.
  caf::replies_to<compact_atom>::with<uint64_t>,
  /// Periodic purge of expired entries.
  caf::reacts_to<caf::tick_atom>>;

/// Owns the time-series database: schema migrations, batched roll-up writes, history reads,
/// retention. Blocking SQL: spawned detached.
using timeseries_db_actor = caf::typed_actor<
  /// The roll-ups still open now, to continue them after a restart.
  caf::replies_to<load_atom>::with<rollup_rows>,
  /// Writes a batch of roll-ups in one transaction; replies the number written.
  caf::replies_to<caf::put_atom, rollup_rows>::with<uint64_t>,
  /// Answers a history query (rows from SQL merged with the pending ones): the rendered
  /// `data` object of GET /history.
  caf::replies_to<history_atom, history_request>::with<std::string>,
  /// The SQL part of GET /summary for `now` (unix seconds).
  caf::replies_to<summary_atom, int64_t>::with<summary_sql_data>,
  /// Periodic retention and usage report.
  caf::reacts_to<caf::tick_atom>>;

/// The time-series store: turns the hub's snapshots into roll-ups, writes them in batches,
/// answers history and summary queries.
using timeseries_store_actor = caf::typed_actor<
  /// A snapshot from the hub (the store subscribes itself).
  caf::reacts_to<snapshot_atom, snapshot_ptr>,
  /// GET /history: the rendered `data` object.
  caf::replies_to<history_atom, history_query>::with<std::string>,
  /// GET /summary: the rendered `data` object.
  caf::replies_to<summary_atom>::with<std::string>,
  /// The raw samples of the last hour of one series.
  caf::replies_to<raw_atom, std::string>::with<raw_samples>,
  /// Writes everything pending now; replies true once it is in SQL (false if SQL failed).
  caf::replies_to<caf::flush_atom>::with<bool>,
  /// Releases the spare capacity of the in-memory series; replies the bytes released.
  caf::replies_to<compact_atom>::with<uint64_t>,
  /// The recentOptimizations of GET /summary, from the optimization supervisor.
  caf::reacts_to<caf::put_atom, optimize_atom, boost::json::array>,
  /// Periodic flush.
  caf::reacts_to<caf::tick_atom>>;

/// Owns the SQL state of alerting: the configuration document, the alert log and the
/// delivery log. Writes are buffered while the database is down. Detached (SOCI blocks).
using alerts_db_actor = caf::typed_actor<
  /// The stored configuration document ("" when none was ever saved).
  caf::replies_to<caf::get_atom, alert_config_atom>::with<std::string>,
  /// Stores the configuration document; replies once it is in SQL.
  caf::replies_to<caf::put_atom, alert_config_atom, std::string>::with<bool>,
  /// Appends an event to the alert log.
  caf::reacts_to<alert_event>,
  /// Appends an attempt to the delivery log.
  caf::reacts_to<delivery_record>,
  /// The alert log since a time (unix ms), newest first, at most `limit`: rendered JSON.
  caf::replies_to<caf::get_atom, alert_log_atom, int64_t, uint64_t>::with<std::string>,
  /// The delivery log, newest first, at most `limit`: rendered JSON.
  caf::replies_to<caf::get_atom, delivery_atom, uint64_t>::with<std::string>,
  /// Retries buffered writes and reports SQL usage.
  caf::reacts_to<caf::tick_atom>>;

/// Delivers notifications of one channel kind (webhook, Discord or e-mail): retries with
/// back-off and jitter, a circuit breaker per destination, every attempt logged. Detached
/// (libcurl blocks).
using notification_channel_actor = caf::typed_actor<
  /// Deliver (or retry) one notification.
  caf::reacts_to<notify_atom, notification_job>,
  /// A destination was configured: load libcurl now rather than at the first notification,
  /// so that a missing library shows in the log when configured, and the first alert (and
  /// the RSS samples of a soak after its warm-up) do not pay for the load.
  caf::reacts_to<prepare_atom>>;

/// Turns alert events into notifications: one per state change per destination (plus the
/// optional repeat interval for alerts that keep firing).
using notification_dispatcher_actor = caf::typed_actor<
  /// An alert changed state.
  caf::reacts_to<alert_event>,
  /// The notification settings changed.
  caf::reacts_to<caf::put_atom, alert_notifications>,
  /// Periodic repeat of still-firing alerts.
  caf::reacts_to<caf::tick_atom>>;

/// Evaluates every snapshot against the alert configuration; owns the configuration.
using alert_evaluator_actor = caf::typed_actor<
  /// A snapshot from the hub.
  caf::reacts_to<snapshot_atom, snapshot_ptr>,
  /// GET /alerts: the rendered configuration (secrets masked).
  caf::replies_to<caf::get_atom, alert_config_atom>::with<std::string>,
  /// PUT /alerts: merges, validates, stores, applies; replies the rendered new configuration.
  caf::replies_to<caf::put_atom, alert_config_atom, std::string>::with<std::string>,
  /// The alerts firing now.
  caf::replies_to<caf::get_atom, active_atom>::with<alert_events>,
  /// Adds a listener that receives every alert_event from now on; it is dropped when it
  /// terminates.
  caf::reacts_to<caf::subscribe_atom, caf::actor>,
  /// Its own timer, when daemons may share the database: re-reads the stored configuration.
  caf::reacts_to<caf::tick_atom>>;

/// Owns optimization runs in SQL (table optimization_runs). Saves that fail are kept and
/// retried (bounded). Detached (SOCI blocks).
using optimization_db_actor = caf::typed_actor<
  /// At start: fails the runs a restart interrupted, then replies the newest `limit` runs.
  caf::replies_to<load_atom, uint64_t>::with<optimization_runs>,
  /// Inserts or replaces a run.
  caf::reacts_to<caf::put_atom, optimization_run>,
  /// The stored document of one run, "" when there is none.
  caf::replies_to<caf::get_atom, optimize_atom, std::string>::with<std::string>,
  /// Retries saves that failed and reports SQL usage.
  caf::reacts_to<caf::tick_atom>>;

/// Owns optimization runs: starts one worker per type, monitors it, measures before and after,
/// keeps the recent runs, starts runs by itself on alerts (docs/optimization.md).
using optimization_supervisor_actor = caf::typed_actor<
  /// POST /optimize with its body: validates, refuses a type already running (CONFLICT),
  /// starts; replies the rendered `data` of the answer.
  caf::replies_to<optimize_atom, std::string>::with<std::string>,
  /// GET /optimize/{id}: the rendered run (NOT_FOUND when unknown).
  caf::replies_to<caf::get_atom, optimize_atom, std::string>::with<std::string>,
  /// GET /optimize?limit=N: the newest runs, rendered.
  caf::replies_to<caf::get_atom, optimize_atom, uint64_t>::with<std::string>,
  /// An alert changed state: a firing one may start an automatic run.
  caf::reacts_to<alert_event>,
  /// A snapshot from the hub: the traffic the improvements are measured on.
  caf::reacts_to<snapshot_atom, snapshot_ptr>,
  /// A worker's work is over.
  caf::reacts_to<optimize_atom, std::string, optimization_type, worker_outcome>,
  /// The measurement window after a type's work is over.
  caf::reacts_to<measure_atom, std::string, optimization_type>,
  /// A type's work ran out of time.
  caf::reacts_to<timeout_atom, std::string, optimization_type>,
  /// Adds a listener that receives `(optimize_atom, optimization_run)` whenever a run starts
  /// or changes; it is dropped when it terminates.
  caf::reacts_to<caf::subscribe_atom, caf::actor>>;

/// Counts alert events, optimization runs and notification deliveries for /prometheus.
using activity_counter_actor = caf::typed_actor<
  caf::reacts_to<alert_event>,
  caf::reacts_to<optimize_atom, optimization_run>,
  caf::reacts_to<delivery_record>>;

/// Renders the live feed's frames (docs/live.md) from snapshots, alert events and
/// optimization runs, once each, for every WebSocket client.
using live_publisher_actor = caf::typed_actor<
  caf::reacts_to<snapshot_atom, snapshot_ptr>,
  caf::reacts_to<alert_event>,
  caf::reacts_to<optimize_atom, optimization_run>>;

} // namespace medianest
