#include "model/cache_strategy.hpp"

#include <algorithm>
#include <map>

#include <fmt/format.h>

#include "model/human_bytes.hpp"

namespace medianest {

namespace {

double mean_ms(const route_usage& r) {
  return r.get_requests ? static_cast<double>(r.latency_sum_us) / 1000.0
                            / static_cast<double>(r.get_requests)
                        : 0.0;
}

bool qualifies(const route_usage& r, const cache_tuning& t) {
  auto answers = r.cacheable + r.uncacheable;
  return r.get_requests >= t.min_requests && mean_ms(r) >= t.slow_ms && r.cacheable > 0
         && static_cast<double>(r.cacheable) >= t.min_cacheable_share
                                                  * static_cast<double>(answers);
}

std::chrono::seconds current_ttl(const std::vector<cache_rule>& rules, const std::string& route) {
  for (const auto& rule : rules)
    if (rule.route == route)
      return rule.ttl;
  return std::chrono::seconds{0};
}

std::string describe(const ttl_change& c, const route_usage& r) {
  if (c.before.count() == 0)
    return fmt::format("Cached GET {} for {}s ({} upstream requests, mean {:.0f}ms, {} of {} "
                       "answers cacheable)",
                       c.route, c.after.count(), r.get_requests, mean_ms(r), r.cacheable,
                       r.cacheable + r.uncacheable);
  return fmt::format("Extended the TTL of GET {} from {}s to {}s ({} upstream requests since the "
                     "last run, mean {:.0f}ms)",
                     c.route, c.before.count(), c.after.count(), r.get_requests, mean_ms(r));
}

void plan_routes(const cache_plan_input& in, const cache_tuning& t, cache_plan& out) {
  std::vector<const route_usage*> candidates;
  for (const auto& r : in.routes)
    if (qualifies(r, t))
      candidates.push_back(&r);
  std::stable_sort(candidates.begin(), candidates.end(), [](const auto* a, const auto* b) {
    return a->latency_sum_us > b->latency_sum_us;
  });
  size_t at_max = 0;
  for (const auto* r : candidates) {
    if (out.ttl_changes.size() >= t.max_routes)
      break;
    auto before = current_ttl(in.rules, r->route);
    auto after = before.count() == 0 ? t.new_ttl : std::min(before * 2, t.max_ttl);
    if (after <= before) {
      ++at_max;
      continue;
    }
    out.ttl_changes.push_back({r->route, before, after});
    out.actions.push_back(describe(out.ttl_changes.back(), *r));
  }
  if (at_max)
    out.actions.push_back(fmt::format("{} busy cached route(s) already at the longest TTL ({}s)",
                                      at_max, t.max_ttl.count()));
  if (candidates.empty())
    out.actions.push_back(fmt::format(
      "No route qualified: none had {} or more upstream GET requests since the last run "
      "averaging {:.0f}ms or more with at least {:.0f}% of its answers cacheable",
      t.min_requests, t.slow_ms, t.min_cacheable_share * 100));
}

void plan_size(const cache_plan_input& in, const cache_tuning& t, cache_plan& out) {
  const auto& c = in.cache_since;
  auto lookups = c.hits + c.misses;
  double hit_rate = lookups ? static_cast<double>(c.hits) / static_cast<double>(lookups) : 0.0;
  uint64_t ceiling = t.max_cache_bytes;
  if (in.available_memory)
    ceiling = std::min(ceiling, in.available_memory / 8);
  if (c.evictions > 0 && hit_rate < 0.9 && in.cache_capacity > 0 && in.cache_capacity < ceiling) {
    auto grown = std::min(in.cache_capacity * 2, ceiling);
    out.new_capacity = grown;
    out.actions.push_back(fmt::format(
      "Grew the response cache from {} to {} ({} evictions since the last run, hit rate {:.1f}%)",
      human_bytes(in.cache_capacity), human_bytes(grown), c.evictions, hit_rate * 100));
    return;
  }
  out.actions.push_back(fmt::format("Response cache size kept at {} ({} used, {} evictions since "
                                    "the last run)",
                                    human_bytes(in.cache_capacity), human_bytes(c.bytes),
                                    c.evictions));
}

} // namespace

std::vector<route_usage> usage_since(const std::vector<route_usage>& now,
                                     const std::vector<route_usage>& before) {
  std::map<std::string_view, const route_usage*> old;
  for (const auto& r : before)
    old[r.route] = &r;
  auto minus = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
  std::vector<route_usage> out;
  for (const auto& r : now) {
    auto it = old.find(r.route);
    if (it == old.end()) {
      out.push_back(r);
      continue;
    }
    const auto& b = *it->second;
    out.push_back({r.route, minus(r.get_requests, b.get_requests),
                   minus(r.latency_sum_us, b.latency_sum_us), minus(r.cacheable, b.cacheable),
                   minus(r.uncacheable, b.uncacheable)});
  }
  return out;
}

cache_plan plan_cache_strategy(const cache_plan_input& in, const cache_tuning& tuning) {
  cache_plan out;
  plan_routes(in, tuning, out);
  plan_size(in, tuning, out);
  return out;
}

} // namespace medianest
