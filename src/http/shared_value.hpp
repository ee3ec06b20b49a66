#pragma once

#include <memory>
#include <mutex>

namespace medianest::http {

/// An immutable value one thread replaces and any thread reads: readers get a reference to
/// the current one and keep it as long as they need it.
///
/// Not std::atomic<std::shared_ptr>: libstdc++ 12's load() releases its internal lock with
/// memory_order_relaxed after reading the pointer, so by the memory model that read races
/// with the next store (ThreadSanitizer reports it; on a weakly ordered CPU a reader could
/// pair the new pointer with the old reference count). A mutex held for one reference-count
/// increment costs about as much as that lock did.
template <class T>
class shared_value {
public:
  std::shared_ptr<const T> load() const {
    std::lock_guard guard{mutex_};
    return value_;
  }

  /// Replaces the value; the old one is released after the lock, by its last reader.
  void store(std::shared_ptr<const T> next) {
    {
      std::lock_guard guard{mutex_};
      value_.swap(next);
    }
  }

private:
  mutable std::mutex mutex_;
  std::shared_ptr<const T> value_;
};

} // namespace medianest::http
