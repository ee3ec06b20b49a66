#include <catch2/catch.hpp>

#include <chrono>

#include "actors/aligned_tick.hpp"

using medianest::delay_to_boundary;
using medianest::hub_tick_offset;
using namespace std::chrono_literals;

namespace {

std::chrono::steady_clock::time_point at(std::chrono::nanoseconds since_epoch) {
  return std::chrono::steady_clock::time_point{
    std::chrono::duration_cast<std::chrono::steady_clock::duration>(since_epoch)};
}

} // namespace

TEST_CASE("a tick just after its boundary is scheduled for the next boundary") {
  // 3 ms late on boundary 1000 s: the next is 997 ms away, not 1997.
  CHECK(delay_to_boundary(1s, 1s, 0ns, at(1000s + 3ms)) == 997ms);
  // Early by 2 ms: still the next whole boundary.
  CHECK(delay_to_boundary(1s, 1s, 0ns, at(1000s - 2ms)) == 1002ms);
}

TEST_CASE("collectors starting at any phase meet on the same boundary") {
  for (auto phase : {1ms, 137ms, 499ms, 501ms, 999ms}) {
    INFO("phase " << phase.count() << " ms");
    auto now = 5000s + phase;
    auto next = now + delay_to_boundary(1s, 1s, 0ns, at(now));
    CHECK(next % 1s == 0ns);
    // Never sooner than half an interval: a collector is not sampled twice in a row.
    CHECK(next - now >= 500ms);
    CHECK(next - now <= 1500ms);
  }
}

TEST_CASE("a back-off lands on a boundary that many intervals away") {
  CHECK(delay_to_boundary(8s, 1s, 0ns, at(100s + 4ms)) == 8s - 4ms);
  CHECK(delay_to_boundary(250ms, 250ms, 0ns, at(100s + 10ms)) == 240ms);
}

TEST_CASE("the hub ticks its offset after the collectors' boundary") {
  auto offset = hub_tick_offset(1s);
  CHECK(offset == 50ms);
  CHECK(hub_tick_offset(100ms) == 10ms);
  // The hub ran 2 ms after its own tick time (boundary + 50 ms): next one a period later.
  CHECK(delay_to_boundary(1s, 1s, offset, at(42s + 52ms)) == 998ms);
  // Between beats: the beat nearest to a whole interval from now (44.05 s, not 43.05 s).
  CHECK(delay_to_boundary(1s, 1s, offset, at(42s + 700ms)) == 1350ms);
}

TEST_CASE("the delay is never zero or negative and a zero period leaves it alone") {
  CHECK(delay_to_boundary(1s, 1s, 0ns, at(7s)) == 1s);
  CHECK(delay_to_boundary(10ms, 1s, 0ns, at(7s + 999ms)) == 1ms);
  CHECK(delay_to_boundary(300ms, 0ns, 0ns, at(7s + 123ms)) == 300ms);
}
