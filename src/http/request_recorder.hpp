#pragma once

#include <array>
#include <atomic>
#include <mutex>

#include "model/request_record.hpp"

namespace medianest::http {

/// Carries finished-request records from the asio threads to the api collector without a
/// message per request: each thread appends to its own stripe under an uncontended lock, and
/// the collector takes everything at once on its tick (a mailbox that batches by design).
/// Bounded: a stripe holding `stripe_capacity` records drops further ones (and counts them)
/// until it is drained.
class request_recorder {
public:
  static constexpr size_t stripe_count = 8;
  static constexpr size_t stripe_capacity = 1 << 16;

  /// Appends one record; callable from any thread, never blocks on the consumer for long.
  void record(const request_record& r) noexcept;

  /// Takes every record appended so far.
  request_batch drain();

  /// Records dropped because a stripe was full.
  uint64_t dropped() const noexcept {
    return dropped_.load(std::memory_order_relaxed);
  }

private:
  struct alignas(64) stripe {
    std::mutex mtx;
    request_batch records;
  };

  std::array<stripe, stripe_count> stripes_;
  std::atomic<uint64_t> dropped_{0};
};

} // namespace medianest::http
