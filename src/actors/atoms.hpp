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

CAF_BEGIN_TYPE_ID_BLOCK(medianest, caf::first_custom_type_id)

  /// A collector's source failed; carries the section and the reason.
  CAF_ADD_ATOM(medianest, medianest, unavailable_atom, "unavail")
  /// Ask for or deliver the latest snapshot.
  CAF_ADD_ATOM(medianest, medianest, snapshot_atom, "snapshot")
  /// A SQL-using actor reports its query counts and busy time.
  CAF_ADD_ATOM(medianest, medianest, sql_usage_atom, "sql_usage")
  /// Ask a component for its own status (health data).
  CAF_ADD_ATOM(medianest, medianest, status_atom, "status")

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

} // namespace medianest

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::system_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::api_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::database_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::cache_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::resources_sample)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::snapshot_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::section_kind)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::sql_usage)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::cached_response_ptr)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(medianest::cache_counters)
