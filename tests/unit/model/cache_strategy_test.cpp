#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "model/cache_strategy.hpp"

using medianest::cache_counters;
using medianest::cache_plan;
using medianest::cache_plan_input;
using medianest::cache_rule;
using medianest::cache_tuning;
using medianest::plan_cache_strategy;
using medianest::route_usage;
using medianest::usage_since;
using namespace std::chrono_literals;

namespace {

constexpr uint64_t MB = 1ull << 20;
constexpr uint64_t GB = 1ull << 30;

/// `requests` upstream GETs of `route` averaging `mean_ms`, `cacheable` of their 200 answers
/// cacheable and `uncacheable` not.
route_usage route(std::string name, uint64_t requests, double mean_ms, uint64_t cacheable,
                  uint64_t uncacheable = 0) {
  return {std::move(name), requests,
          static_cast<uint64_t>(mean_ms * 1000.0 * static_cast<double>(requests) + 0.5),
          cacheable, uncacheable};
}

/// A busy, slow, fully cacheable route: qualifies under both tunings.
route_usage busy(std::string name, uint64_t requests = 100, double mean_ms = 200) {
  return route(std::move(name), requests, mean_ms, requests);
}

/// A plan over `routes` with an idle cache (so that only the routes decide the actions).
cache_plan plan(std::vector<route_usage> routes, std::vector<cache_rule> rules = {},
                const cache_tuning& tuning = cache_tuning::normal()) {
  cache_plan_input in;
  in.routes = std::move(routes);
  in.rules = std::move(rules);
  in.cache_capacity = 64 * MB;
  return plan_cache_strategy(in, tuning);
}

std::vector<std::string> changed_routes(const cache_plan& p) {
  std::vector<std::string> out;
  for (const auto& c : p.ttl_changes)
    out.push_back(c.route);
  return out;
}

bool has_action(const cache_plan& p, const std::string& text) {
  return std::any_of(p.actions.begin(), p.actions.end(), [&](const std::string& a) {
    return a.find(text) != std::string::npos;
  });
}

/// A plan of the cache size alone (no route traffic).
cache_plan size_plan(cache_counters since, uint64_t capacity, uint64_t available_memory = 0,
                     const cache_tuning& tuning = cache_tuning::normal()) {
  cache_plan_input in;
  in.cache_since = since;
  in.cache_capacity = capacity;
  in.available_memory = available_memory;
  return plan_cache_strategy(in, tuning);
}

cache_counters lookups(uint64_t hits, uint64_t misses, uint64_t evictions) {
  cache_counters c;
  c.hits = hits;
  c.misses = misses;
  c.evictions = evictions;
  return c;
}

} // namespace

// -- qualification ----------------------------------------------------------------------------

TEST_CASE("cache_strategy a route qualifies at exactly the minimum requests and mean",
          "[cache_strategy]") {
  auto p = plan({route("/edge", 20, 50.0, 20)});
  REQUIRE(p.ttl_changes.size() == 1);
  CHECK(p.ttl_changes[0].route == "/edge");
  CHECK(p.ttl_changes[0].before == 0s);
  CHECK(p.ttl_changes[0].after == 60s);
  CHECK_FALSE(has_action(p, "No route qualified"));
}

TEST_CASE("cache_strategy a route with too few requests does not qualify", "[cache_strategy]") {
  auto p = plan({route("/few", 19, 500.0, 19)});
  CHECK(p.ttl_changes.empty());
  CHECK(has_action(p, "No route qualified"));
}

TEST_CASE("cache_strategy a route faster than slow_ms does not qualify", "[cache_strategy]") {
  // 20 requests totalling 999.98 ms: a mean just under 50 ms.
  auto p = plan({route_usage{"/fast", 20, 999'980, 20, 0}});
  CHECK(p.ttl_changes.empty());
  CHECK(has_action(p, "No route qualified"));
}

TEST_CASE("cache_strategy a route needs the cacheable share of its answers", "[cache_strategy]") {
  // 19 of 20 is exactly 95 %: qualifies.
  auto at_share = plan({route("/share", 40, 100.0, 19, 1)});
  CHECK(changed_routes(at_share) == std::vector<std::string>{"/share"});
  // 18 of 20 is 90 %: does not.
  auto below = plan({route("/share", 40, 100.0, 18, 2)});
  CHECK(below.ttl_changes.empty());
  CHECK(has_action(below, "No route qualified"));
  // Requests that were not 200 answers do not count against the share.
  auto other_statuses = plan({route("/share", 40, 100.0, 10, 0)});
  CHECK(changed_routes(other_statuses) == std::vector<std::string>{"/share"});
}

TEST_CASE("cache_strategy a route without a cacheable answer never qualifies",
          "[cache_strategy]") {
  // No 200 answers at all: 0 >= 95 % of 0, yet there is nothing to cache.
  CHECK(plan({route("/errors-only", 500, 900.0, 0, 0)}).ttl_changes.empty());
  CHECK(plan({route("/private", 500, 900.0, 0, 30)}).ttl_changes.empty());
  CHECK(plan({route("/errors-only", 500, 900.0, 0, 0)}, {}, cache_tuning::aggressive())
          .ttl_changes.empty());
}

TEST_CASE("cache_strategy says why when no route qualified", "[cache_strategy]") {
  auto p = plan({});
  CHECK(p.ttl_changes.empty());
  REQUIRE_FALSE(p.actions.empty());
  CHECK(p.actions.front()
        == "No route qualified: none had 20 or more upstream GET requests since the last run "
           "averaging 50ms or more with at least 95% of its answers cacheable");
  auto aggressive = plan({}, {}, cache_tuning::aggressive());
  CHECK(aggressive.actions.front()
        == "No route qualified: none had 5 or more upstream GET requests since the last run "
           "averaging 10ms or more with at least 80% of its answers cacheable");
}

// -- ranking and the cap ----------------------------------------------------------------------

TEST_CASE("cache_strategy ranks qualifying routes by the upstream time they cost",
          "[cache_strategy]") {
  // Busiest is not slowest: /many costs 100 x 60 ms = 6 s, /slow 25 x 400 ms = 10 s,
  // /middle 50 x 150 ms = 7.5 s.
  auto p = plan({route("/many", 100, 60.0, 100), route("/slow", 25, 400.0, 25),
                 route("/middle", 50, 150.0, 50)});
  CHECK(changed_routes(p) == std::vector<std::string>{"/slow", "/middle", "/many"});
  // The actions follow the same order, one per change, then the size decision.
  REQUIRE(p.actions.size() == 4);
  CHECK(p.actions[0].find("/slow") != std::string::npos);
  CHECK(p.actions[1].find("/middle") != std::string::npos);
  CHECK(p.actions[2].find("/many") != std::string::npos);
  CHECK(p.actions[3].find("Response cache size kept at") == 0);
}

TEST_CASE("cache_strategy changes at most max_routes routes per run", "[cache_strategy]") {
  std::vector<route_usage> routes;
  // Route i costs (i + 1) x 100 x 100 ms: the last ones cost the most.
  for (int i = 0; i < 14; ++i)
    routes.push_back(route("/r" + std::to_string(i), 100 * uint64_t(i + 1), 100.0,
                           100 * uint64_t(i + 1)));
  auto p = plan(routes);
  REQUIRE(p.ttl_changes.size() == 10);
  for (size_t k = 0; k < 10; ++k)
    CHECK(p.ttl_changes[k].route == "/r" + std::to_string(13 - k));

  cache_tuning two = cache_tuning::normal();
  two.max_routes = 2;
  CHECK(changed_routes(plan(routes, {}, two)) == std::vector<std::string>{"/r13", "/r12"});
  // Aggressive runs change up to 25: all 14 here.
  CHECK(plan(routes, {}, cache_tuning::aggressive()).ttl_changes.size() == 14);
}

TEST_CASE("cache_strategy a route already at the longest TTL does not use up the cap",
          "[cache_strategy]") {
  cache_tuning two = cache_tuning::normal();
  two.max_routes = 2;
  // The costliest route is already cached for the longest TTL: the next two change.
  auto p = plan({busy("/top", 1000), busy("/second", 500), busy("/third", 300),
                 busy("/fourth", 200)},
                {{"/top", 3600s}}, two);
  CHECK(changed_routes(p) == std::vector<std::string>{"/second", "/third"});
  CHECK(has_action(p, "1 busy cached route(s) already at the longest TTL (3600s)"));
}

// -- the TTLs ---------------------------------------------------------------------------------

TEST_CASE("cache_strategy gives an uncached route new_ttl and doubles a cached one",
          "[cache_strategy]") {
  auto p = plan({busy("/new", 300), busy("/cached", 200), busy("/near-max", 100)},
                {{"/cached", 90s}, {"/near-max", 2000s}, {"/unrelated", 10s}});
  REQUIRE(p.ttl_changes.size() == 3);
  CHECK(p.ttl_changes[0].route == "/new");
  CHECK(p.ttl_changes[0].before == 0s);
  CHECK(p.ttl_changes[0].after == 60s);
  CHECK(p.ttl_changes[1].route == "/cached");
  CHECK(p.ttl_changes[1].before == 90s);
  CHECK(p.ttl_changes[1].after == 180s);
  // Doubling past max_ttl stops at max_ttl.
  CHECK(p.ttl_changes[2].route == "/near-max");
  CHECK(p.ttl_changes[2].before == 2000s);
  CHECK(p.ttl_changes[2].after == 3600s);
  CHECK_FALSE(has_action(p, "already at the longest TTL"));
  CHECK(p.actions[0]
        == "Cached GET /new for 60s (300 upstream requests, mean 200ms, 300 of 300 answers "
           "cacheable)");
  CHECK(p.actions[1]
        == "Extended the TTL of GET /cached from 90s to 180s (200 upstream requests since the "
           "last run, mean 200ms)");
}

TEST_CASE("cache_strategy leaves routes at or above max_ttl alone and says so",
          "[cache_strategy]") {
  auto p = plan({busy("/at-max", 300), busy("/above-max", 200)},
                {{"/at-max", 3600s}, {"/above-max", 7200s}});
  // A TTL above max_ttl (set by hand) is never shortened.
  CHECK(p.ttl_changes.empty());
  CHECK(has_action(p, "2 busy cached route(s) already at the longest TTL (3600s)"));
  // Routes qualified, so the "No route qualified" line is not there.
  CHECK_FALSE(has_action(p, "No route qualified"));
}

// -- the cache size ---------------------------------------------------------------------------

TEST_CASE("cache_strategy grows a cache that evicted while its hit rate was under 90 percent",
          "[cache_strategy]") {
  auto p = size_plan(lookups(50, 50, 10), 64 * MB);
  REQUIRE(p.new_capacity);
  CHECK(*p.new_capacity == 128 * MB);
  CHECK(has_action(
    p, "Grew the response cache from 64MB to 128MB (10 evictions since the last run, hit rate "
       "50.0%)"));
  // 89 % is under 90 %.
  CHECK(size_plan(lookups(89, 11, 1), 64 * MB).new_capacity == 128 * MB);
}

TEST_CASE("cache_strategy keeps the cache size without evictions or at a 90 percent hit rate",
          "[cache_strategy]") {
  auto no_evictions = size_plan(lookups(10, 90, 0), 64 * MB);
  CHECK_FALSE(no_evictions.new_capacity);
  CHECK(has_action(no_evictions, "Response cache size kept at 64MB"));
  auto at_90 = size_plan(lookups(90, 10, 500), 64 * MB);
  CHECK_FALSE(at_90.new_capacity);
  CHECK(has_action(at_90, "Response cache size kept at 64MB"));
  CHECK(has_action(at_90, "500 evictions since the last run"));
}

TEST_CASE("cache_strategy grows the cache up to max_cache_bytes only", "[cache_strategy]") {
  CHECK(size_plan(lookups(1, 9, 5), 600 * MB).new_capacity == GB);
  cache_tuning small = cache_tuning::normal();
  small.max_cache_bytes = 100 * MB;
  CHECK(size_plan(lookups(1, 9, 5), 64 * MB, 0, small).new_capacity == 100 * MB);
  // Already at the ceiling: not grown.
  auto at_ceiling = size_plan(lookups(1, 9, 5), GB);
  CHECK_FALSE(at_ceiling.new_capacity);
  CHECK(has_action(at_ceiling, "Response cache size kept at 1GB"));
}

TEST_CASE("cache_strategy grows the cache to an eighth of the available memory at most",
          "[cache_strategy]") {
  // 1 GB available: the ceiling is 128 MB.
  CHECK(size_plan(lookups(1, 9, 5), 100 * MB, GB).new_capacity == 128 * MB);
  CHECK(size_plan(lookups(1, 9, 5), 32 * MB, GB).new_capacity == 64 * MB);
  // At or above the ceiling the cache is not grown (nor shrunk).
  CHECK_FALSE(size_plan(lookups(1, 9, 5), 128 * MB, GB).new_capacity);
  CHECK_FALSE(size_plan(lookups(1, 9, 5), 512 * MB, GB).new_capacity);
  // Much memory available: max_cache_bytes is the smaller bound.
  CHECK(size_plan(lookups(1, 9, 5), 768 * MB, 64 * GB).new_capacity == GB);
}

// -- usage_since ------------------------------------------------------------------------------

TEST_CASE("usage_since subtracts the baseline route by route", "[cache_strategy]") {
  std::vector<route_usage> before{{"/a", 10, 1'000'000, 8, 1}, {"/b", 5, 500, 5, 0}};
  std::vector<route_usage> now{{"/b", 25, 10'500, 20, 3}, {"/a", 40, 4'000'000, 30, 2}};
  auto since = usage_since(now, before);
  REQUIRE(since.size() == 2);
  // In the order of `now`.
  CHECK(since[0].route == "/b");
  CHECK(since[0].get_requests == 20);
  CHECK(since[0].latency_sum_us == 10'000);
  CHECK(since[0].cacheable == 15);
  CHECK(since[0].uncacheable == 3);
  CHECK(since[1].route == "/a");
  CHECK(since[1].get_requests == 30);
  CHECK(since[1].latency_sum_us == 3'000'000);
  CHECK(since[1].cacheable == 22);
  CHECK(since[1].uncacheable == 1);
}

TEST_CASE("usage_since counts a route new since the baseline whole", "[cache_strategy]") {
  std::vector<route_usage> before{{"/old", 10, 1000, 10, 0}, {"/gone", 3, 300, 3, 0}};
  std::vector<route_usage> now{{"/old", 10, 1000, 10, 0}, {"/new", 7, 700, 6, 1}};
  auto since = usage_since(now, before);
  REQUIRE(since.size() == 2);
  CHECK(since[0].route == "/old");
  CHECK(since[0].get_requests == 0);
  CHECK(since[0].latency_sum_us == 0);
  CHECK(since[1].route == "/new");
  CHECK(since[1].get_requests == 7);
  CHECK(since[1].latency_sum_us == 700);
  CHECK(since[1].cacheable == 6);
  CHECK(since[1].uncacheable == 1);
  // Without a baseline everything counts.
  auto first = usage_since(now, {});
  REQUIRE(first.size() == 2);
  CHECK(first[0].get_requests == 10);
}

TEST_CASE("usage_since gives 0 for counters that went backwards", "[cache_strategy]") {
  // The gateway restarted: its counters began again below the baseline.
  std::vector<route_usage> before{{"/r", 100, 9'000'000, 90, 10}};
  std::vector<route_usage> now{{"/r", 40, 10'000'000, 30, 10}};
  auto since = usage_since(now, before);
  REQUIRE(since.size() == 1);
  CHECK(since[0].get_requests == 0);
  CHECK(since[0].latency_sum_us == 1'000'000);
  CHECK(since[0].cacheable == 0);
  CHECK(since[0].uncacheable == 0);
}

TEST_CASE("cache_strategy plans on the traffic since the previous run only",
          "[cache_strategy]") {
  // Busy since start, but quiet since the previous run: nothing to change.
  std::vector<route_usage> before{busy("/busy", 1000)};
  std::vector<route_usage> now{busy("/busy", 1010)};
  auto p = plan(usage_since(now, before));
  CHECK(p.ttl_changes.empty());
  CHECK(has_action(p, "No route qualified"));
}

// -- tunings ----------------------------------------------------------------------------------

TEST_CASE("cache_strategy aggressive tuning is looser in every threshold", "[cache_strategy]") {
  auto normal = cache_tuning::normal();
  auto aggressive = cache_tuning::aggressive();
  CHECK(aggressive.min_requests < normal.min_requests);
  CHECK(aggressive.slow_ms < normal.slow_ms);
  CHECK(aggressive.min_cacheable_share < normal.min_cacheable_share);
  CHECK(aggressive.new_ttl > normal.new_ttl);
  CHECK(aggressive.max_ttl > normal.max_ttl);
  CHECK(aggressive.max_routes > normal.max_routes);
  CHECK(aggressive.max_cache_bytes >= normal.max_cache_bytes);

  // 5 requests of 10 ms, 80 % cacheable: only an aggressive run caches it, for 300 s.
  auto quiet = route("/quiet", 5, 10.0, 4, 1);
  CHECK(plan({quiet}).ttl_changes.empty());
  auto p = plan({quiet}, {}, aggressive);
  REQUIRE(p.ttl_changes.size() == 1);
  CHECK(p.ttl_changes[0].after == 300s);
  // A cached route doubles up to a day.
  auto doubled = plan({busy("/day")}, {{"/day", 50'000s}}, aggressive);
  REQUIRE(doubled.ttl_changes.size() == 1);
  CHECK(doubled.ttl_changes[0].after == 86'400s);
  // What is at the normal longest TTL can still grow in an aggressive run.
  auto beyond = plan({busy("/hour")}, {{"/hour", 3600s}}, aggressive);
  REQUIRE(beyond.ttl_changes.size() == 1);
  CHECK(beyond.ttl_changes[0].after == 7200s);
}
