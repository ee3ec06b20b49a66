#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/metrics.hpp"
#include "model/series.hpp"

namespace medianest {

/// The time-series store's in-memory part: turns snapshots into samples per metric, keeps
/// the open 1m/5m/1h bucket of every series, the closed buckets not yet written, and the
/// last hour of raw samples. Everything older lives in SQL only, so memory stays bounded by
/// the number of series, not by the length of history.
class series_buffer {
public:
  /// At most this many per-route series are kept: the first ones seen among the slowest
  /// routes (a bound on memory and on SQL rows, not a ranking).
  static constexpr size_t max_route_series = 50;

  explicit series_buffer(int64_t raw_retention_seconds = 3600);

  /// Takes the sections of a snapshot that are new since the previous call (a section is
  /// ingested once, whatever the publication rate) and closes buckets whose time is over.
  void ingest(const snapshot& s);

  /// Rows of every bucket that changed since the previous call: the closed ones (then
  /// forgotten) and the open ones (kept, to be written again when they change).
  std::vector<rollup_row> take_dirty(int64_t now_unix);

  /// Re-installs an open bucket read back from SQL at start, so that it keeps accumulating.
  void restore(const rollup_row& row, int64_t now_unix);

  /// The buckets of one series and resolution held in memory (open and not yet written).
  std::vector<rollup_row> pending(const std::string& metric, int64_t resolution) const;

  /// Raw samples (unix ms, value) of the last hour for one metric, ascending.
  std::vector<std::pair<int64_t, double>> raw(const std::string& metric) const;

  /// Names of every series seen so far.
  std::vector<std::string> series_names() const;

  /// Approximate heap bytes held (for the memory-per-series figure).
  size_t memory_bytes() const;

  /// Gives back the spare capacity of the buffers (the memory_cleanup optimization); returns
  /// the bytes of vector capacity released (the raw deques shrink too, uncounted).
  size_t compact();

private:
  struct series {
    metric_info info;
    std::array<std::optional<rollup>, 3> open;
    std::array<std::vector<rollup>, 3> closed;
    std::array<bool, 3> dirty{};
    std::deque<std::pair<int64_t, float>> raw;
  };

  series& series_for(const std::string& name);
  void add_value(const std::string& name, int64_t at_ms, double value);
  void add_histogram(const std::string& name, int64_t at_ms, const latency_histogram& h);
  /// Moves open buckets that do not hold `unix_s` (or are over at `unix_s`) to closed.
  void roll(series& s, int64_t unix_s);
  void trim_raw(series& s, int64_t now_ms);

  std::map<std::string, series> series_;
  int64_t raw_retention_ms_;
  size_t route_series_ = 0;
  // When each section was last ingested (its `updated` stamp).
  sys_ms api_seen_{}, system_seen_{}, cache_seen_{};
};

} // namespace medianest
