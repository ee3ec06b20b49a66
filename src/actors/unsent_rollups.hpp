#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "model/series.hpp"

namespace medianest {

/// The time-series store's roll-up rows that are taken from the series buffer but not yet
/// confirmed written, one per bucket (a newer version of a bucket replaces the older): what a
/// crash or a database outage could lose. At most `capacity` rows are kept; beyond, the
/// buckets with the oldest start are dropped first, and counted, so that memory stays bounded
/// however long the database is away.
class unsent_rollups {
public:
  explicit unsent_rollups(size_t capacity);

  /// Adds rows (replacing older versions of the same buckets) and drops the oldest buckets
  /// beyond the capacity; returns how many were dropped by this call.
  size_t add(std::vector<rollup_row> rows);

  /// Every row held, as one batch to write (ordered by metric, resolution, start).
  std::vector<rollup_row> batch() const;

  /// Forgets the rows of a batch that was written, except buckets that received a newer
  /// version since the batch was taken (they stay, to be written next time).
  void written(const std::vector<rollup_row>& batch);

  /// The rows held for one series and resolution, ascending by start.
  std::vector<rollup_row> rows_of(const std::string& metric, int64_t resolution) const;

  size_t size() const noexcept {
    return rows_.size();
  }
  bool empty() const noexcept {
    return rows_.empty();
  }
  size_t capacity() const noexcept {
    return capacity_;
  }
  /// Rows dropped beyond the capacity since start.
  uint64_t dropped() const noexcept {
    return dropped_;
  }

private:
  using key = std::tuple<std::string, int64_t, int64_t>; // metric, resolution, start
  using age_key = std::tuple<int64_t, std::string, int64_t>; // start, metric, resolution

  size_t capacity_;
  uint64_t dropped_ = 0;
  std::map<key, rollup_row> rows_;
  /// The same buckets ordered by start: the oldest is found without a scan.
  std::set<age_key> by_age_;
};

} // namespace medianest
