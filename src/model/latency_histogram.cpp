#include "model/latency_histogram.hpp"

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>

namespace medianest {

uint32_t latency_histogram::index_of(uint64_t v) noexcept {
  if (v < sub_count)
    return static_cast<uint32_t>(v);
  auto exponent = 63u - static_cast<unsigned>(std::countl_zero(v)); // >= sub_bits
  auto shift = exponent - sub_bits;
  auto sub = (v >> shift) - sub_count; // 0 .. sub_count-1
  return static_cast<uint32_t>(sub_count + uint64_t{shift} * sub_count + sub);
}

uint64_t latency_histogram::lower_bound_of(uint32_t index) noexcept {
  if (index < sub_count)
    return index;
  auto shift = (index - sub_count) / sub_count;
  auto sub = (index - sub_count) % sub_count;
  return (sub_count + sub) << shift;
}

uint64_t latency_histogram::width_of(uint32_t index) noexcept {
  if (index < sub_count)
    return 1;
  return uint64_t{1} << ((index - sub_count) / sub_count);
}

void latency_histogram::record(uint64_t micros) noexcept {
  auto idx = index_of(micros);
  if (idx >= buckets_.size()) [[unlikely]]
    buckets_.resize(idx + 1 + sub_count, 0); // grow by an octave at a time
  ++buckets_[idx];
  ++count_;
  sum_ += micros;
  min_ = std::min(min_, micros);
  max_ = std::max(max_, micros);
}

void latency_histogram::record_n(uint64_t micros, uint64_t n) {
  if (n == 0)
    return;
  auto idx = index_of(micros);
  if (idx >= buckets_.size())
    buckets_.resize(idx + 1 + sub_count, 0);
  buckets_[idx] += n;
  count_ += n;
  sum_ += micros * n;
  min_ = std::min(min_, micros);
  max_ = std::max(max_, micros);
}

void latency_histogram::merge(const latency_histogram& other) {
  if (other.count_ == 0)
    return;
  if (other.buckets_.size() > buckets_.size())
    buckets_.resize(other.buckets_.size(), 0);
  for (size_t i = 0; i < other.buckets_.size(); ++i)
    buckets_[i] += other.buckets_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  min_ = std::min(min_, other.min_);
  max_ = std::max(max_, other.max_);
}

void latency_histogram::clear() noexcept {
  std::fill(buckets_.begin(), buckets_.end(), 0);
  count_ = 0;
  sum_ = 0;
  min_ = UINT64_MAX;
  max_ = 0;
}

double latency_histogram::mean() const noexcept {
  return count_ ? static_cast<double>(sum_) / static_cast<double>(count_) : 0.0;
}

double latency_histogram::quantile(double q) const noexcept {
  if (count_ == 0)
    return 0;
  q = std::clamp(q, 0.0, 1.0);
  auto rank = static_cast<uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    seen += buckets_[i];
    if (seen >= rank) {
      auto idx = static_cast<uint32_t>(i);
      double mid = static_cast<double>(lower_bound_of(idx))
                   + static_cast<double>(width_of(idx) - 1) / 2.0;
      return std::clamp(mid, static_cast<double>(min_), static_cast<double>(max_));
    }
  }
  return static_cast<double>(max_);
}

std::vector<std::pair<uint32_t, uint64_t>> latency_histogram::sparse() const {
  std::vector<std::pair<uint32_t, uint64_t>> out;
  for (size_t i = 0; i < buckets_.size(); ++i)
    if (buckets_[i] != 0)
      out.emplace_back(static_cast<uint32_t>(i), buckets_[i]);
  return out;
}

latency_histogram
latency_histogram::from_sparse(const std::vector<std::pair<uint32_t, uint64_t>>& buckets,
                               uint64_t sum, uint64_t min, uint64_t max) {
  latency_histogram h;
  for (auto [idx, n] : buckets) {
    if (idx >= h.buckets_.size())
      h.buckets_.resize(idx + 1, 0);
    h.buckets_[idx] += n;
    h.count_ += n;
  }
  h.sum_ = sum;
  h.min_ = h.count_ ? min : UINT64_MAX;
  h.max_ = h.count_ ? max : 0;
  return h;
}

std::string latency_histogram::encode() const {
  std::string out = std::to_string(sum_) + ',' + std::to_string(min()) + ',' + std::to_string(max_)
                    + ';';
  bool first = true;
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (buckets_[i] == 0)
      continue;
    if (!first)
      out += ',';
    first = false;
    out += std::to_string(i);
    out += ':';
    out += std::to_string(buckets_[i]);
  }
  return out;
}

namespace {

bool take_number(std::string_view& text, uint64_t& out, char terminator) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{})
    return false;
  text.remove_prefix(static_cast<size_t>(ptr - text.data()));
  if (terminator == '\0')
    return true;
  if (text.empty() || text.front() != terminator)
    return false;
  text.remove_prefix(1);
  return true;
}

} // namespace

bool latency_histogram::decode(std::string_view text, latency_histogram& out) {
  uint64_t sum = 0, min = 0, max = 0;
  if (!take_number(text, sum, ',') || !take_number(text, min, ',') || !take_number(text, max, ';'))
    return false;
  std::vector<std::pair<uint32_t, uint64_t>> buckets;
  while (!text.empty()) {
    uint64_t idx = 0, n = 0;
    if (!take_number(text, idx, ':') || idx > 64 * 64 + 64)
      return false;
    if (!take_number(text, n, '\0'))
      return false;
    buckets.emplace_back(static_cast<uint32_t>(idx), n);
    if (!text.empty()) {
      if (text.front() != ',')
        return false;
      text.remove_prefix(1);
    }
  }
  out = from_sparse(buckets, sum, min, max);
  return true;
}

} // namespace medianest
