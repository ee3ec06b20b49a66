#pragma once

#include <cstddef>
#include <memory>
#include <new>

namespace medianest::http {

/// Memory for the parsed header fields of one connection's requests. Beast's basic_fields
/// allocates a node per field; with the default allocator that is a malloc and a free per
/// field and request, the larger part of the parsing cost. Here the nodes of a request are
/// carved one after the other from a block the connection keeps, and the block is reused as
/// soon as no node of it is in use any more: counting them (rather than resetting at the next
/// request) keeps a request that is still in flight (a proxied exchange, when the next one is
/// pipelined behind it) safe. What does not fit goes to the heap, as before.
///
/// Not thread-safe: used by one connection, on its thread. The block is taken at the first
/// request, so idle connections cost nothing.
class field_arena {
public:
  static constexpr std::size_t block_bytes = 2048;

  void* allocate(std::size_t n) {
    n = (n + alignment - 1) & ~(alignment - 1);
    if (!block_)
      block_ = std::make_unique<std::byte[]>(block_bytes);
    if (n > block_bytes - used_)
      return ::operator new(n);
    void* p = block_.get() + used_;
    used_ += n;
    ++live_;
    return p;
  }

  void deallocate(void* p) noexcept {
    auto* b = static_cast<std::byte*>(p);
    if (block_ && b >= block_.get() && b < block_.get() + block_bytes) {
      if (--live_ == 0)
        used_ = 0;
      return;
    }
    ::operator delete(p);
  }

private:
  static constexpr std::size_t alignment = alignof(std::max_align_t);
  std::unique_ptr<std::byte[]> block_;
  std::size_t used_ = 0;
  std::size_t live_ = 0;
};

/// A standard allocator over a field_arena, for boost::beast::http::basic_fields.
template <class T>
class arena_allocator {
public:
  using value_type = T;

  explicit arena_allocator(field_arena& arena) noexcept : arena_(&arena) {}
  template <class U>
  arena_allocator(const arena_allocator<U>& other) noexcept : arena_(other.arena()) {}

  T* allocate(std::size_t n) {
    return static_cast<T*>(arena_->allocate(n * sizeof(T)));
  }
  void deallocate(T* p, std::size_t) noexcept {
    arena_->deallocate(p);
  }

  field_arena* arena() const noexcept {
    return arena_;
  }
  template <class U>
  bool operator==(const arena_allocator<U>& other) const noexcept {
    return arena_ == other.arena();
  }
  template <class U>
  bool operator!=(const arena_allocator<U>& other) const noexcept {
    return arena_ != other.arena();
  }

private:
  field_arena* arena_;
};

} // namespace medianest::http
