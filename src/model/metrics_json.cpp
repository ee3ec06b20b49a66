#include "model/metrics_json.hpp"

#include <cmath>

namespace medianest {

double round2(double x) noexcept {
  return std::isfinite(x) ? std::round(x * 100.0) / 100.0 : 0.0;
}

namespace {

double round4(double x) noexcept {
  return std::isfinite(x) ? std::round(x * 10000.0) / 10000.0 : 0.0;
}

template <class T>
boost::json::object section_json(const section<T>& s) {
  if (s.available()) {
    auto obj = to_json_object(*s.value);
    obj["status"] = "ok";
    return obj;
  }
  auto obj = to_json_object(T{});
  for (auto& kv : obj)
    kv.value() = nullptr;
  obj["status"] = "unavailable";
  obj["error"] = s.error.empty() ? "no sample yet" : s.error;
  if (s.updated.time_since_epoch().count() > 0)
    obj["since"] = iso8601(s.updated);
  return obj;
}

} // namespace

boost::json::object to_json_object(const api_sample& x) {
  boost::json::array slowest;
  for (const auto& e : x.slowest_endpoints)
    slowest.push_back({{"path", e.path},
                       {"method", e.method},
                       {"averageTime", round2(e.average_time)},
                       {"count", e.count}});
  return {{"requestsPerMinute", round2(x.requests_per_minute)},
          {"averageResponseTime", round2(x.average_response_time)},
          {"p95ResponseTime", round2(x.p95_response_time)},
          {"p99ResponseTime", round2(x.p99_response_time)},
          {"errorRate", round4(x.error_rate)},
          {"activeConnections", x.active_connections},
          {"slowestEndpoints", std::move(slowest)}};
}

boost::json::object to_json_object(const database_sample& x) {
  boost::json::object out{{"averageQueryTime", round2(x.average_query_time)},
                          {"slowQueries", x.slow_queries},
                          {"connectionPoolUsage", round2(x.connection_pool_usage)},
                          {"activeConnections", x.active_connections},
                          {"queryStats",
                           {{"selects", x.query_stats.selects},
                            {"inserts", x.query_stats.inserts},
                            {"updates", x.query_stats.updates},
                            {"deletes", x.query_stats.deletes}}},
                          {"backend", x.backend},
                          {"maxConnections", x.max_connections}};
  boost::json::array top;
  for (const auto& st : x.top_statements)
    top.push_back({{"query", st.query}, {"calls", st.calls}, {"meanTime", round2(st.mean_time)}});
  out["topStatements"] = std::move(top);
  return out;
}

boost::json::object to_json_object(const system_sample& x) {
  return {{"cpu",
           {{"usage", round2(x.cpu.usage)},
            {"cores", x.cpu.cores},
            {"loadAverage",
             {round2(x.cpu.load_average[0]), round2(x.cpu.load_average[1]),
              round2(x.cpu.load_average[2])}}}},
          {"memory",
           {{"total", x.memory.total},
            {"used", x.memory.used},
            {"free", x.memory.free},
            {"percentage", round2(x.memory.percentage)},
            {"heapUsed", x.memory.heap_used},
            {"heapTotal", x.memory.heap_total}}},
          {"disk",
           {{"total", x.disk.total},
            {"used", x.disk.used},
            {"free", x.disk.free},
            {"percentage", round2(x.disk.percentage)},
            {"path", x.disk.path}}}};
}

boost::json::object to_json_object(const cache_sample& x) {
  return {{"hitRate", round4(x.hit_rate)},
          {"totalKeys", x.total_keys},
          {"memoryUsage", x.memory_usage},
          {"memoryBytes", x.memory_bytes},
          {"evictions", x.evictions},
          {"operations", {{"gets", x.gets}, {"sets", x.sets}, {"deletes", x.deletes}}},
          {"source", x.source}};
}

boost::json::object to_json_object(const resources_sample& x) {
  boost::json::array processes;
  for (const auto& p : x.processes)
    processes.push_back({{"name", p.name},
                         {"pid", p.pid},
                         {"cpu", round2(p.cpu)},
                         {"memory", p.memory},
                         {"uptime", p.uptime}});
  return {{"processes", std::move(processes)},
          {"network",
           {{"bytesReceived", x.network.bytes_received},
            {"bytesSent", x.network.bytes_sent},
            {"packetsReceived", x.network.packets_received},
            {"packetsSent", x.network.packets_sent},
            {"errors", x.network.errors}}},
          {"storage",
           {{"reads", x.storage.reads},
            {"writes", x.storage.writes},
            {"readBytes", x.storage.read_bytes},
            {"writeBytes", x.storage.write_bytes},
            {"iops", round2(x.storage.iops)}}},
          {"connections",
           {{"database", x.connections.database},
            {"redis", x.connections.redis},
            {"websocket", x.connections.websocket},
            {"http", x.connections.http}}}};
}

boost::json::object to_json_object(const gateway_sample& x) {
  return {{"upstream", x.upstream},
          {"requests", x.requests},
          {"inFlight", x.in_flight},
          {"queued", x.queued},
          {"upstreamConnections",
           {{"open", x.connections_open}, {"idle", x.connections_idle}, {"max", x.connections_max}}},
          {"upstreamErrors", x.upstream_errors},
          {"upstreamTimeouts", x.upstream_timeouts},
          {"cache", {{"hits", x.cache_hits}, {"misses", x.cache_misses}, {"stores", x.cache_stores}}},
          {"shed",
           {{"performanceDegraded", x.shed_degraded},
            {"circuitBreakerOpen", x.shed_circuit_open},
            {"resourceExhausted", x.shed_exhausted},
            {"rateLimited", x.rate_limited}}},
          {"circuitBreaker", x.circuit_state}};
}

boost::json::object metrics_data(const snapshot& s) {
  boost::json::object out{{"timestamp", iso8601(s.timestamp)},
                          {"api", section_json(s.api)},
                          {"database", section_json(s.database)},
                          {"system", section_json(s.system)},
                          {"cache", section_json(s.cache)}};
  if (s.gateway.value)
    out["gateway"] = section_json(s.gateway);
  return out;
}

boost::json::object resources_data(const snapshot& s) {
  boost::json::object out{{"timestamp", iso8601(s.timestamp)}};
  for (auto& kv : section_json(s.resources))
    out[kv.key()] = std::move(kv.value());
  return out;
}

} // namespace medianest
