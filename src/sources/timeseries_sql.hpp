#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "model/series.hpp"
#include "sources/sql_session.hpp"

namespace medianest::sources {

/// The schema version this build expects; migrations bring any older database up to it.
inline constexpr int schema_version = 4;

/// Creates or upgrades the schema (versioned migrations recorded in schema_migrations).
bool migrate(sql_session& db, std::string& error);

/// Opens the session if needed (again when an idle PostgreSQL connection no longer answers)
/// and migrates once per connection (`migrated` tracks it): what every SQL-owning actor does
/// before each use, so that it reconnects after an outage.
bool ensure_schema(sql_session& db, bool& migrated, std::string& error);

// Roll-ups belong to the daemon that wrote them (its --instance name, or "" when none was
// given): daemons that share a database each read and continue their own series instead of
// overwriting each other's buckets.

/// Gives `instance` the rows without an owner: written before schema version 4, or while the
/// daemon ran without --instance. The first named daemon to start continues that history.
/// Returns the rows claimed.
bool claim_unowned_rollups(sql_session& db, const std::string& instance, uint64_t& claimed,
                           std::string& error);

/// Writes roll-ups in one transaction: an insert, or an update of the same bucket.
bool upsert_rollups(sql_session& db, const std::string& instance,
                    const std::vector<rollup_row>& rows, std::string& error);

/// Rows of buckets still open at `now_unix` (to continue them after a restart), with sketches.
bool load_open_rollups(sql_session& db, const std::string& instance, int64_t now_unix,
                       std::vector<rollup_row>& out, std::string& error);

/// Rows of one series and resolution with start in [from, to), ascending. Sketches only when
/// `with_sketch` (reading a long period at fine resolution needs none: p95/p99 are columns).
bool read_rollups(sql_session& db, const std::string& instance, const std::string& metric,
                  int64_t resolution, int64_t from, int64_t to, bool with_sketch,
                  std::vector<rollup_row>& out, std::string& error);

/// Deletes buckets older than each resolution's retention, whichever daemon wrote them (a
/// retired daemon's rows expire too); returns the rows deleted.
bool apply_retention(sql_session& db, const retention_policy& keep, int64_t now_unix, uint64_t& deleted,
                     std::string& error);

/// Sum and count of a series over [from, to) from its 1h roll-ups (for trends).
bool sum_and_count(sql_session& db, const std::string& instance, const std::string& metric,
                   int64_t from, int64_t to, double& sum, uint64_t& count, std::string& error);

} // namespace medianest::sources
