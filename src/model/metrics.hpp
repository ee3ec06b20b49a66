#pragma once

// The samples each collector produces and the snapshot the metrics hub assembles from them.
// Plain data: units follow docs/api-conventions.md (times in ms, bytes as integers,
// percentages 0-100, rates as fractions 0-1).

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "model/latency_histogram.hpp"
#include "model/request_totals.hpp"
#include "model/time.hpp"

namespace medianest {

// -- system --------------------------------------------------------------------

struct cpu_stats {
  double usage = 0;                      ///< % of all online CPUs busy over the last interval
  unsigned cores = 0;                    ///< online CPUs
  std::array<double, 3> load_average{};  ///< 1, 5 and 15 minutes
};

struct memory_stats {
  uint64_t total = 0;       ///< MemTotal
  uint64_t used = 0;        ///< MemTotal - MemAvailable
  uint64_t free = 0;        ///< MemAvailable
  double percentage = 0;    ///< used / total * 100
  uint64_t heap_used = 0;   ///< bytes the daemon's allocator has handed out
  uint64_t heap_total = 0;  ///< bytes the daemon's allocator holds from the OS
};

struct disk_stats {
  std::string path;       ///< the directory whose filesystem is measured (the data dir)
  uint64_t total = 0;
  uint64_t used = 0;
  uint64_t free = 0;      ///< available to unprivileged users (as df shows)
  double percentage = 0;  ///< used / (used + free) * 100, as df computes Use%
};

struct system_sample {
  cpu_stats cpu;
  memory_stats memory;
  disk_stats disk;
};

// -- api -----------------------------------------------------------------------

struct endpoint_stats {
  std::string path;   ///< route template
  std::string method;
  double average_time = 0;  ///< ms, over the window
  uint64_t count = 0;       ///< requests in the window
};

struct api_sample {
  double requests_per_minute = 0;   ///< requests finished in the last 60 s
  double average_response_time = 0; ///< ms over the last 60 s
  double p95_response_time = 0;     ///< ms
  double p99_response_time = 0;     ///< ms
  double error_rate = 0;            ///< share of 5xx among requests of the last 60 s (0-1)
  uint64_t active_connections = 0;  ///< open HTTP + WebSocket connections
  std::vector<endpoint_stats> slowest_endpoints; ///< top 5 by average over the window
  /// Durations of the requests finished since the previous sample, for the time-series store.
  latency_histogram interval_latency;
  uint64_t interval_requests = 0;
  uint64_t interval_errors = 0;
  /// Every request since start by route, method and status (the Prometheus counters).
  std::shared_ptr<const request_totals> totals;
};

// -- database ------------------------------------------------------------------

struct query_counts {
  uint64_t selects = 0;
  uint64_t inserts = 0;
  uint64_t updates = 0;
  uint64_t deletes = 0;
};

struct statement_stats {
  std::string query;
  uint64_t calls = 0;
  double mean_time = 0; ///< ms
};

struct database_sample {
  std::string backend;               ///< "sqlite" or "postgresql"
  double average_query_time = 0;     ///< ms, over the daemon's own queries so far
  uint64_t slow_queries = 0;         ///< the daemon's own queries over the slow threshold
  double connection_pool_usage = 0;  ///< busy time of the pool over the interval, % of capacity
  uint64_t active_connections = 0;   ///< PostgreSQL: non-idle backends; SQLite: open sessions
  uint64_t max_connections = 0;      ///< PostgreSQL max_connections; SQLite: pool size
  query_counts query_stats;          ///< the daemon's own queries so far
  std::vector<statement_stats> top_statements; ///< pg_stat_statements, when installed
};

// -- cache ---------------------------------------------------------------------

struct cache_sample {
  std::string source;          ///< "redis" or "builtin"
  double hit_rate = 0;         ///< hits / (hits + misses) over the last interval (0-1)
  uint64_t total_keys = 0;
  std::string memory_usage;    ///< human, like "128MB"
  uint64_t memory_bytes = 0;
  uint64_t evictions = 0;
  uint64_t gets = 0;
  uint64_t sets = 0;
  uint64_t deletes = 0;
  uint64_t connected_clients = 0; ///< Redis clients (all of them, not only ours); builtin: 0
};

// -- gateway -------------------------------------------------------------------

/// Gateway mode's counters since start, and its pool and breaker right now.
struct gateway_sample {
  std::string upstream;
  uint64_t requests = 0;          ///< proxied requests answered (cache hits included)
  uint64_t in_flight = 0;         ///< proxied requests being answered now
  uint64_t queued = 0;            ///< waiting for an upstream connection now
  uint64_t connections_open = 0;  ///< upstream connections open now
  uint64_t connections_idle = 0;
  uint64_t connections_max = 0;
  uint64_t upstream_errors = 0;   ///< 502 BAD_GATEWAY answers: refused, reset, malformed
  uint64_t upstream_timeouts = 0; ///< 504 GATEWAY_TIMEOUT answers
  uint64_t cache_hits = 0;
  uint64_t cache_misses = 0;      ///< lookups on cached routes that went upstream
  uint64_t cache_stores = 0;
  uint64_t shed_degraded = 0;     ///< 503 PERFORMANCE_DEGRADED
  uint64_t shed_circuit_open = 0; ///< 503 CIRCUIT_BREAKER_OPEN
  uint64_t shed_exhausted = 0;    ///< 503 RESOURCE_EXHAUSTED at the queue cap
  uint64_t rate_limited = 0;      ///< 429 RATE_LIMITED
  std::string circuit_state = "closed"; ///< closed, open or half-open
};

// -- resources -----------------------------------------------------------------

struct process_stats {
  std::string name;
  int pid = 0;
  double cpu = 0;      ///< % of one core over the last interval
  uint64_t memory = 0; ///< RSS bytes
  uint64_t uptime = 0; ///< seconds since the process started
};

struct network_stats {
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  uint64_t packets_received = 0;
  uint64_t packets_sent = 0;
  uint64_t errors = 0; ///< receive + transmit errors
};

struct storage_stats {
  uint64_t reads = 0;       ///< completed reads in the last interval
  uint64_t writes = 0;      ///< completed writes in the last interval
  uint64_t read_bytes = 0;  ///< in the last interval
  uint64_t write_bytes = 0; ///< in the last interval
  double iops = 0;          ///< (reads + writes) per second over the last interval
};

/// The daemon's own process as Prometheus' standard process_* metrics describe it.
struct own_process_stats {
  double cpu_seconds = 0;       ///< user + system CPU time since the process started
  uint64_t resident_bytes = 0;  ///< RSS
  uint64_t virtual_bytes = 0;   ///< virtual memory size
  double start_time = 0;        ///< when the process started, seconds since the Unix epoch
  uint64_t open_fds = 0;
  uint64_t max_fds = 0;         ///< the soft limit on open files
};

struct connection_counts {
  uint64_t database = 0;
  uint64_t redis = 0;
  uint64_t websocket = 0;
  uint64_t http = 0;
};

struct resources_sample {
  std::vector<process_stats> processes;
  network_stats network;
  storage_stats storage;
  connection_counts connections;
  /// This daemon's process (absent when it could not be read).
  std::optional<own_process_stats> own;
};

// -- snapshot ------------------------------------------------------------------

/// One section of the snapshot: its latest value, or why there is none.
template <class T>
struct section {
  std::optional<T> value;
  /// Empty while the source answers; otherwise what went wrong.
  std::string error;
  /// When the value was sampled, or since when the source has been unavailable.
  sys_ms updated{};

  bool available() const noexcept {
    return value.has_value() && error.empty();
  }
};

/// The latest view of everything, as /metrics and /resources show it.
struct snapshot {
  sys_ms timestamp{};
  section<api_sample> api;
  section<database_sample> database;
  section<system_sample> system;
  section<cache_sample> cache;
  section<resources_sample> resources;
  /// Present only in gateway mode.
  section<gateway_sample> gateway;
};

} // namespace medianest
