#include "http/gateway_impl.hpp"

#include <spdlog/spdlog.h>

namespace medianest::http {

namespace {

bool starts_with_segment(std::string_view path, std::string_view prefix) {
  return path.rfind(prefix, 0) == 0
         && (path.size() == prefix.size() || path[prefix.size()] == '/'
             || path[prefix.size()] == '?');
}

} // namespace

gateway::impl::impl(const std::vector<boost::asio::io_context*>& contexts, gateway_config cfg,
                     uint64_t cache_bytes, std::optional<redis_target> shared_cache)
  : config(std::move(cfg)),
    cache(cache_bytes),
    limiter(config.rate),
    breaker_(config.breaker_threshold, config.breaker_cool_down) {
  const auto& up = config.upstream;
  upstream_host = up.port == 80 ? up.host : up.host + ":" + std::to_string(up.port);
  if (up.host.find(':') != std::string::npos) // IPv6 literal
    upstream_host = "[" + up.host + "]" + (up.port == 80 ? "" : ":" + std::to_string(up.port));
  auto share = [n = contexts.size()](size_t total) { return std::max<size_t>(1, (total + n - 1) / n); };
  for (auto* ioc : contexts)
    pools.push_back(std::make_shared<upstream_pool>(*ioc, up, share(config.max_connections),
                                                    share(config.max_queue),
                                                    config.connect_timeout));
  shed_queue_per_pool = share(config.shed_queue);
  counters = std::make_unique<counters_block[]>(contexts.size());
  buffers_ = std::make_unique<buffer_pool[]>(contexts.size());
  latency = std::make_unique<route_latency[]>(contexts.size());
  if (shared_cache)
    shared_store = std::make_unique<sources::redis_response_store>(std::move(*shared_cache));
  auto rules = std::make_shared<ttl_map>();
  for (const auto& rule : config.cache_rules)
    (*rules)[rule.route] = rule.ttl;
  has_cache_rules_.store(!rules->empty());
  ttls.store(std::move(rules));
}

gateway::impl::~impl() {
  shutdown();
}

void gateway::impl::shutdown() {
  close_pools();
  shared_store.reset();
}

std::unique_ptr<char[]> gateway::impl::take_buffer(size_t worker) {
  auto& pool = buffers_[worker];
  {
    std::lock_guard guard{pool.mutex};
    if (!pool.free.empty()) {
      auto buffer = std::move(pool.free.back());
      pool.free.pop_back();
      return buffer;
    }
  }
  return std::make_unique_for_overwrite<char[]>(piece_bytes);
}

void gateway::impl::give_buffer(size_t worker, std::unique_ptr<char[]> buffer) {
  constexpr size_t keep_at_most = 256; // 8 MiB per thread
  auto& pool = buffers_[worker];
  std::lock_guard guard{pool.mutex};
  if (pool.free.size() < keep_at_most)
    pool.free.push_back(std::move(buffer));
}

void gateway::impl::close_pools() {
  for (auto& pool : pools)
    pool->close();
}

bool gateway::impl::proxies(std::string_view path) noexcept {
  return !starts_with_segment(path, "/api/v1/performance") && !starts_with_segment(path, "/health")
         && !starts_with_segment(path, "/dashboard");
}

std::chrono::seconds gateway::impl::ttl_for(std::string_view route) const {
  if (!has_cache_rules_.load(std::memory_order_relaxed))
    return std::chrono::seconds{0};
  auto rules = ttls.load();
  if (rules->empty())
    return std::chrono::seconds{0};
  auto it = rules->find(route);
  return it == rules->end() ? std::chrono::seconds{0} : it->second;
}

bool gateway::impl::breaker_allows(std::chrono::milliseconds& retry_after) {
  if (breaker_quiet_.load(std::memory_order_acquire))
    return true;
  auto now = clock::now();
  std::lock_guard guard{breaker_mutex_};
  if (breaker_.allow(now))
    return true;
  retry_after = breaker_.retry_after(now);
  return false;
}

void gateway::impl::breaker_record(bool ok) {
  if (ok && breaker_quiet_.load(std::memory_order_acquire))
    return;
  std::lock_guard guard{breaker_mutex_};
  auto before = breaker_.state();
  breaker_.record(ok, clock::now());
  auto after = breaker_.state();
  breaker_quiet_.store(after == "closed" && breaker_.consecutive_failures() == 0,
                       std::memory_order_release);
  if (before != after)
    spdlog::warn("gateway: upstream circuit breaker {} -> {} ({})", before, after,
                 config.upstream.url);
}

void gateway::impl::breaker_abandon() {
  std::lock_guard guard{breaker_mutex_};
  breaker_.abandon();
}

// -- gateway -------------------------------------------------------------------------------

gateway::gateway(std::unique_ptr<impl> internals) : impl_(std::move(internals)) {}

gateway::~gateway() = default;

gateway_sample gateway::stats() const {
  const auto& g = *impl_;
  gateway_sample s;
  s.upstream = g.config.upstream.url;
  for (size_t i = 0; i < g.pools.size(); ++i) {
    const auto& c = g.counters[i];
    auto load = [](const std::atomic<uint64_t>& n) { return n.load(std::memory_order_relaxed); };
    s.requests += load(c.requests);
    s.in_flight += load(c.in_flight);
    s.upstream_errors += load(c.upstream_errors);
    s.upstream_timeouts += load(c.upstream_timeouts);
    s.cache_hits += load(c.cache_hits);
    s.cache_misses += load(c.cache_misses);
    s.cache_stores += load(c.cache_stores);
    s.shed_degraded += load(c.shed_degraded);
    s.shed_circuit_open += load(c.shed_circuit_open);
    s.shed_exhausted += load(c.shed_exhausted);
    s.rate_limited += load(c.rate_limited);
  }
  for (const auto& pool : g.pools) {
    s.queued += pool->queued();
    s.connections_open += pool->open();
    s.connections_idle += pool->idle();
    s.connections_max += pool->max_connections();
  }
  {
    std::lock_guard guard{g.breaker_mutex_};
    s.circuit_state = g.breaker_.state();
  }
  return s;
}

cache_counters gateway::cache_stats() const {
  return impl_->cache.counters();
}

void gateway::set_cache_ttl(const std::string& route, std::chrono::seconds ttl) {
  std::lock_guard guard{impl_->ttl_write_mutex_};
  auto next = std::make_shared<impl::ttl_map>(*impl_->ttls.load());
  if (ttl.count() > 0)
    (*next)[route] = ttl;
  else
    next->erase(route);
  impl_->has_cache_rules_.store(!next->empty());
  impl_->ttls.store(std::move(next));
}

std::vector<cache_rule> gateway::cache_rules() const {
  std::vector<cache_rule> out;
  for (const auto& [route, ttl] : *impl_->ttls.load())
    out.push_back({route, ttl});
  return out;
}

std::vector<route_usage> gateway::usage_by_route() const {
  std::map<std::string, medianest::route_usage> sum;
  for (size_t i = 0; i < impl_->pools.size(); ++i)
    for (auto& r : impl_->latency[i].usage()) {
      auto& s = sum[r.route];
      s.route = r.route;
      s.get_requests += r.get_requests;
      s.latency_sum_us += r.latency_sum_us;
      s.cacheable += r.cacheable;
      s.uncacheable += r.uncacheable;
    }
  std::vector<medianest::route_usage> out;
  for (auto& [route, usage] : sum)
    out.push_back(std::move(usage));
  return out;
}

size_t gateway::purge_expired_cache() {
  return impl_->cache.purge_expired();
}

uint64_t gateway::clear_cache() {
  return impl_->cache.clear();
}

void gateway::resize_cache(uint64_t capacity_bytes) {
  impl_->cache.resize(capacity_bytes);
}

} // namespace medianest::http
