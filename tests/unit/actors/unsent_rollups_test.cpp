#include <catch2/catch.hpp>

#include <string>
#include <vector>

#include "actors/unsent_rollups.hpp"

using medianest::rollup_row;
using medianest::unsent_rollups;

namespace {

rollup_row row(const std::string& metric, int64_t resolution, int64_t start, uint64_t count) {
  rollup_row r;
  r.metric = metric;
  r.resolution = resolution;
  r.start = start;
  r.count = count;
  r.sum = static_cast<double>(count) * 2;
  return r;
}

std::vector<int64_t> starts(const std::vector<rollup_row>& rows) {
  std::vector<int64_t> out;
  for (const auto& r : rows)
    out.push_back(r.start);
  return out;
}

} // namespace

TEST_CASE("unsent roll-ups keep one row per bucket and the newest version of it") {
  unsent_rollups u{10};
  CHECK(u.add({row("cpu", 60, 120, 1), row("cpu", 60, 180, 1)}) == 0);
  CHECK(u.add({row("cpu", 60, 180, 5)}) == 0);
  REQUIRE(u.size() == 2);
  auto cpu = u.rows_of("cpu", 60);
  REQUIRE(cpu.size() == 2);
  CHECK(cpu[1].count == 5);
  CHECK(u.rows_of("cpu", 300).empty());
  CHECK(u.rows_of("memory", 60).empty());
}

TEST_CASE("unsent roll-ups never hold more than their capacity and drop the oldest buckets") {
  unsent_rollups u{4};
  CHECK(u.add({row("cpu", 60, 300, 1), row("memory", 60, 60, 1), row("cpu", 3600, 0, 1)}) == 0);
  // Over the capacity: the oldest start (0) goes, whatever its series and resolution.
  CHECK(u.add({row("cpu", 60, 360, 1), row("memory", 60, 420, 1)}) == 1);
  CHECK(u.size() == 4);
  CHECK(u.add({row("disk", 60, 480, 1)}) == 1);
  CHECK(u.size() == 4);
  CHECK(u.dropped() == 2);
  CHECK(starts(u.batch()) == std::vector<int64_t>{300, 360, 480, 420});
  CHECK(u.rows_of("cpu", 3600).empty());
  CHECK(starts(u.rows_of("memory", 60)) == std::vector<int64_t>{420});
  // A long outage: thousands of buckets later the size is still the capacity.
  for (int64_t start = 600; start < 600 + 60 * 5000; start += 60)
    u.add({row("cpu", 60, start, 1)});
  CHECK(u.size() == 4);
  CHECK(u.dropped() == 2 + 5000);
  CHECK(starts(u.batch()).front() == 600 + 60 * 4996);
}

TEST_CASE("a written batch is forgotten except buckets that changed meanwhile") {
  unsent_rollups u{100};
  u.add({row("cpu", 60, 60, 1), row("cpu", 60, 120, 1), row("cpu", 300, 0, 2)});
  auto batch = u.batch();
  // While the batch is being written, the open bucket receives another sample.
  u.add({row("cpu", 60, 120, 2), row("cpu", 300, 0, 3)});
  u.written(batch);
  REQUIRE(u.size() == 2);
  CHECK(u.rows_of("cpu", 60).at(0).count == 2);
  CHECK(u.rows_of("cpu", 300).at(0).count == 3);
  u.written(u.batch());
  CHECK(u.empty());
  // Forgotten buckets no longer count toward the capacity or the age order.
  unsent_rollups small{2};
  small.add({row("cpu", 60, 0, 1), row("cpu", 60, 60, 1)});
  small.written(small.batch());
  CHECK(small.add({row("cpu", 60, 120, 1), row("cpu", 60, 180, 1)}) == 0);
  CHECK(small.dropped() == 0);
}
