#pragma once

// Optimization runs in the database (table optimization_runs, schema version 3): each run is
// kept as its GET /optimize/{id} document (run_json), with the columns needed to find it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "model/optimization.hpp"
#include "sources/sql_session.hpp"

namespace medianest::sources {

/// The message of a type a restart interrupted (code OPTIMIZATION_FAILED).
inline constexpr const char* interrupted_message =
  "interrupted: the daemon restarted before this optimization finished";

/// Inserts the run, or replaces the stored one with the same id: trigger, status, times (unix
/// ms) and the document `to_json(run_json(run))`.
bool save_run(sql_session& db, const optimization_run& run, std::string& error);

/// The stored document of run `id`; `document` stays empty when there is none.
bool load_run_document(sql_session& db, const std::string& id,
                       std::optional<std::string>& document, std::string& error);

/// The documents of the newest `limit` runs by start time, newest first (appended to `out`).
bool recent_run_documents(sql_session& db, size_t limit, std::vector<std::string>& out,
                          std::string& error);

/// Fails every run still "started" or "running" (a restart interrupted it), in one
/// transaction: status "failed", completedAt `now_ms` and its duration, and each type not yet
/// completed or failed becomes failed with OPTIMIZATION_FAILED / interrupted_message.
/// `marked` is the number of runs changed. A stored document that is not a JSON object is an
/// error (nothing is changed).
bool mark_interrupted_runs(sql_session& db, int64_t now_ms, uint64_t& marked,
                           std::string& error);

} // namespace medianest::sources
