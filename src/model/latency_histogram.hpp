#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace medianest {

/// A mergeable log-linear histogram of durations in microseconds (the HDR / DDSketch idea):
/// exact below 64 µs, then 64 equal sub-buckets per power of two, so any quantile it reports
/// is within 0.8 % of a true sample value. Merging two histograms is adding their buckets,
/// which is what makes p95/p99 over any period exact to that bound instead of an average of
/// percentiles. Recording is a few instructions and never allocates once the range is warm.
class latency_histogram {
public:
  /// Sub-buckets per power of two; relative bucket width 1/64, half of it as error.
  static constexpr unsigned sub_bits = 6;
  static constexpr uint64_t sub_count = uint64_t{1} << sub_bits;

  /// Adds one duration.
  void record(uint64_t micros) noexcept;
  /// Adds `n` durations of the same value.
  void record_n(uint64_t micros, uint64_t n);
  /// Adds every sample of `other`.
  void merge(const latency_histogram& other);
  void clear() noexcept;

  uint64_t count() const noexcept {
    return count_;
  }
  /// Sum of all recorded durations, in µs (exact).
  uint64_t sum() const noexcept {
    return sum_;
  }
  uint64_t min() const noexcept {
    return count_ ? min_ : 0;
  }
  uint64_t max() const noexcept {
    return max_;
  }
  /// Mean in µs, 0 when empty.
  double mean() const noexcept;
  /// The q-quantile (0 < q <= 1) in µs: the representative of the bucket holding the
  /// ceil(q·count)-th smallest sample, clamped to [min, max]; 0 when empty.
  double quantile(double q) const noexcept;
  bool empty() const noexcept {
    return count_ == 0;
  }
  /// Heap bytes held by the bucket array.
  size_t memory_bytes() const noexcept {
    return buckets_.capacity() * sizeof(uint64_t);
  }

  /// Non-empty buckets as (index, count), ascending: the compact form for messages and SQL.
  std::vector<std::pair<uint32_t, uint64_t>> sparse() const;
  /// Rebuilds from sparse buckets plus the exact sum, min and max.
  static latency_histogram from_sparse(const std::vector<std::pair<uint32_t, uint64_t>>& buckets,
                                       uint64_t sum, uint64_t min, uint64_t max);

  /// A compact text encoding ("sum,min,max;index:count,...") for storage; decode returns false
  /// on malformed input.
  std::string encode() const;
  static bool decode(std::string_view text, latency_histogram& out);

  /// Bucket index of a value and the value range a bucket stands for (exposed for tests).
  static uint32_t index_of(uint64_t micros) noexcept;
  static uint64_t lower_bound_of(uint32_t index) noexcept;
  static uint64_t width_of(uint32_t index) noexcept;

private:
  std::vector<uint64_t> buckets_;
  uint64_t count_ = 0;
  uint64_t sum_ = 0;
  uint64_t min_ = UINT64_MAX;
  uint64_t max_ = 0;
};

} // namespace medianest
