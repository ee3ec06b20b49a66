#include <catch2/catch.hpp>

#include <string>

#include <boost/beast/http/fields.hpp>

#include "http/field_arena.hpp"

using medianest::http::arena_allocator;
using medianest::http::field_arena;
namespace bhttp = boost::beast::http;

namespace {

bool inside(const void* p, const void* block_start) {
  auto* b = static_cast<const std::byte*>(p);
  auto* start = static_cast<const std::byte*>(block_start);
  return b >= start && b < start + field_arena::block_bytes;
}

} // namespace

TEST_CASE("the arena's block is reused once nothing allocated from it is in use") {
  field_arena arena;
  void* first = arena.allocate(100);
  void* second = arena.allocate(100);
  CHECK(second != first);
  CHECK(inside(second, first));
  arena.deallocate(first);
  // `second` is still in use (a request in flight): new memory must not overlap it
  void* third = arena.allocate(100);
  CHECK(third != first);
  CHECK(third > second);
  arena.deallocate(second);
  arena.deallocate(third);
  // all of it free again: the next request starts at the beginning of the block
  CHECK(arena.allocate(40) == first);
}

TEST_CASE("what does not fit in the arena's block comes from the heap") {
  field_arena arena;
  void* start = arena.allocate(16);
  void* big = arena.allocate(field_arena::block_bytes);
  CHECK_FALSE(inside(big, start));
  arena.deallocate(big);
  arena.deallocate(start);
  CHECK(arena.allocate(16) == start);
}

TEST_CASE("Beast's fields work over the arena, past the block and across requests") {
  field_arena arena;
  for (int request = 0; request < 3; ++request) {
    bhttp::basic_fields<arena_allocator<char>> fields{arena_allocator<char>{arena}};
    // 60 fields of ~70 bytes: far more than the block holds
    for (int i = 0; i < 60; ++i)
      fields.insert("X-Field-" + std::to_string(i), std::string(40, static_cast<char>('a' + i % 26)));
    fields.set(bhttp::field::host, "example.org");
    fields.erase("X-Field-7");
    CHECK(fields["X-Field-59"] == std::string(40, 'a' + 59 % 26));
    CHECK(fields[bhttp::field::host] == "example.org");
    CHECK(fields.count("X-Field-7") == 0);
    std::size_t n = 0;
    for (auto it = fields.begin(); it != fields.end(); ++it)
      ++n;
    CHECK(n == 60);
  }
}
