#include "actors/optimization_worker.hpp"

#include <stdexcept>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "model/human_bytes.hpp"
#include "sources/optimizers.hpp"
#include "sources/proc_readers.hpp"
#include "sources/redis_client.hpp"

namespace medianest {

namespace {

using std::chrono::seconds;
constexpr auto ask_timeout = std::chrono::seconds(10);

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Asks an actor from the blocking worker; the reply, or nullopt with the reason in `error`.
template <class Reply, class Handle, class... Ts>
std::optional<Reply> ask(caf::blocking_actor* self, const Handle& target, std::string& error,
                         Ts&&... xs) {
  std::optional<Reply> out;
  self->request(target, ask_timeout, std::forward<Ts>(xs)...)
    .receive([&](Reply& reply) { out = std::move(reply); },
             [&](caf::error& err) { error = from_caf_error(err).message; });
  return out;
}

cache_counters counters_since(cache_counters now, const cache_counters& before) {
  auto minus = [](uint64_t a, uint64_t b) { return a > b ? a - b : 0; };
  now.hits = minus(now.hits, before.hits);
  now.misses = minus(now.misses, before.misses);
  now.sets = minus(now.sets, before.sets);
  now.evictions = minus(now.evictions, before.evictions);
  now.expired = minus(now.expired, before.expired);
  return now; // keys, bytes and capacity are gauges: as they are now
}

/// Reports Redis's eviction policy; aggressive runs move `noeviction` to `allkeys-lru`, so a
/// full Redis evicts old entries instead of refusing new ones.
void tune_redis(const redis_target& target, bool aggressive, std::vector<std::string>& actions) {
  sources::redis_client redis{target};
  std::string error;
  if (!redis.connect(error))
    throw std::runtime_error("Redis: " + error);
  auto policy = redis.command_strings({"CONFIG", "GET", "maxmemory-policy"}, error);
  auto limit = redis.command_strings({"CONFIG", "GET", "maxmemory"}, error);
  if (!policy || policy->size() < 2 || !limit || limit->size() < 2) {
    actions.push_back("Redis eviction policy not readable (CONFIG GET refused: " + error + ")");
    return;
  }
  const auto& name = (*policy)[1];
  const auto& bytes = (*limit)[1];
  if (aggressive && name == "noeviction") {
    if (!redis.command_ok({"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}, error))
      throw std::runtime_error("Redis: CONFIG SET maxmemory-policy: " + error);
    actions.push_back("Changed Redis eviction policy from noeviction to allkeys-lru");
    return;
  }
  actions.push_back(fmt::format("Redis eviction policy is {} (maxmemory {}){}", name,
                                bytes == "0" ? std::string{"unlimited"} : bytes,
                                name == "noeviction" ? "; an aggressive run would change it to "
                                                       "allkeys-lru"
                                                     : ""));
}

worker_outcome failed(optimization_type type, std::string message) {
  worker_outcome out;
  out.result.type = type;
  out.result.status = run_status::failed;
  out.result.error_code = std::string{code_name(errc::optimization_failed)};
  out.result.error_message = std::move(message);
  return out;
}

} // namespace

worker_outcome run_cache_strategy(caf::blocking_actor*, const optimization_job& job) {
  const auto& ctx = *job.context;
  worker_outcome out;
  auto& actions = out.result.actions;
  if (ctx.gateway) {
    out.usage = ctx.gateway.usage();
    out.cache = ctx.gateway.counters();
    cache_plan_input in;
    in.routes = usage_since(out.usage, job.usage_baseline);
    in.rules = ctx.gateway.rules();
    in.cache_since = counters_since(out.cache, job.cache_baseline);
    in.cache_capacity = out.cache.capacity_bytes;
    std::string error;
    if (auto mem = sources::read_meminfo(error))
      in.available_memory = mem->free;
    auto plan = plan_cache_strategy(in, job.aggressive ? cache_tuning::aggressive()
                                                       : cache_tuning::normal());
    for (const auto& change : plan.ttl_changes)
      ctx.gateway.set_ttl(change.route, change.after);
    if (plan.new_capacity)
      ctx.gateway.resize(*plan.new_capacity);
    actions = std::move(plan.actions);
  } else {
    actions.push_back("Gateway mode is off (no --upstream): there are no upstream routes to "
                      "cache");
  }
  if (ctx.redis)
    tune_redis(*ctx.redis, job.aggressive, actions);
  return out;
}

worker_outcome run_database_queries(const optimization_job& job) {
  const auto& ctx = *job.context;
  worker_outcome out;
  sources::sql_session db{ctx.database};
  std::string error;
  sources::database_pass pass;
  auto now = std::chrono::duration_cast<seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  if (!db.open(error) || !sources::optimize_database(db, job.aggressive, ctx.retention, now,
                                                     pass, error))
    throw std::runtime_error(error);
  auto& actions = out.result.actions;
  actions = std::move(pass.actions);
  if (pass.size_before)
    out.result.improvements.push_back(
      compare_bytes("databaseSize", pass.size_before, pass.size_after));
  if (job.database) {
    const auto& d = *job.database;
    for (size_t i = 0; i < d.top_statements.size() && i < 3; ++i) {
      const auto& st = d.top_statements[i];
      actions.push_back(fmt::format("Slowest statement #{}: {:.1f}ms mean over {} calls: {}", i + 1,
                                    st.mean_time, st.calls, st.query.substr(0, 200)));
    }
    if (d.top_statements.empty())
      actions.push_back(fmt::format(
        "The daemon's own queries average {:.2f}ms; {} were slower than the slow-query "
        "threshold{}",
        d.average_query_time, d.slow_queries,
        d.backend == "postgresql" ? " (install pg_stat_statements to see the slowest statements)"
                                  : ""));
  }
  return out;
}

worker_outcome run_memory_cleanup(caf::blocking_actor* self, const optimization_job& job) {
  const auto& ctx = *job.context;
  worker_outcome out;
  auto& actions = out.result.actions;
  const auto rss_before = sources::resident_bytes();
  std::string error;
  if (job.aggressive) {
    if (auto freed = ask<uint64_t>(self, ctx.cache, error, caf::reset_atom::value))
      actions.push_back("Cleared the built-in response cache (" + human_bytes(*freed) + ")");
    else
      throw std::runtime_error("clearing the response cache: " + error);
    if (ctx.gateway)
      actions.push_back("Cleared the gateway's response cache ("
                        + human_bytes(ctx.gateway.clear()) + ")");
  } else {
    if (auto dropped = ask<uint64_t>(self, ctx.cache, error, compact_atom::value))
      actions.push_back(fmt::format("Dropped {} expired entries of the built-in response cache",
                                    *dropped));
    else
      throw std::runtime_error("purging the response cache: " + error);
    if (ctx.gateway)
      actions.push_back(fmt::format("Dropped {} expired entries of the gateway's response cache",
                                    ctx.gateway.purge_expired()));
  }
  if (auto released = ask<uint64_t>(self, ctx.store, error, compact_atom::value))
    actions.push_back("Compacted the in-memory series (" + human_bytes(*released)
                      + " of spare capacity released)");
  else
    throw std::runtime_error("compacting the in-memory series: " + error);
  auto trim = sources::trim_heap();
  actions.push_back(fmt::format("Returned free heap pages to the OS (malloc_trim): RSS {} -> {}",
                                human_bytes(trim.rss_before), human_bytes(trim.rss_after)));
  out.result.improvements.push_back(
    compare_bytes("memoryUsage", rss_before, sources::resident_bytes()));
  return out;
}

void optimization_worker(caf::blocking_actor* self, optimization_job job) {
  const auto started = std::chrono::steady_clock::now();
  worker_outcome out;
  try {
    switch (job.type) {
      case optimization_type::cache_strategy: out = run_cache_strategy(self, job); break;
      case optimization_type::database_queries: out = run_database_queries(job); break;
      case optimization_type::memory_cleanup: out = run_memory_cleanup(self, job); break;
    }
    out.result.type = job.type;
    out.result.status = run_status::completed;
  } catch (const std::exception& e) {
    spdlog::warn("optimization {} {} failed: {}", job.run_id, type_name(job.type), e.what());
    out = failed(job.type, e.what());
  }
  out.result.seconds = seconds_since(started);
  self->send(job.supervisor, optimize_atom::value, job.run_id, job.type, std::move(out));
}

} // namespace medianest
