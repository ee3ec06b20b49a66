#pragma once

#include <functional>
#include <string>
#include <vector>

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "sources/proc_readers.hpp"

namespace medianest {

/// Open HTTP and WebSocket connections of the daemon right now.
struct connection_gauges {
  std::function<uint64_t()> http;
  std::function<uint64_t()> websocket;
};

struct resources_collector_state {
  static inline const char* name = "resources_collector";

  sources::process_reader processes;
  sources::own_process_reader own;
  sources::network_reader network;
  sources::diskstats_reader disks;
  std::vector<std::string> watched_names;
  /// pids of the watched names, refreshed every `rescan_every` samples.
  std::vector<std::pair<int, std::string>> watched_pids;
  unsigned samples_since_rescan = 0;
  connection_gauges gauges;
  metrics_hub_actor hub;
  source_health health{"resources collector", std::chrono::seconds(1)};
};

/// Samples this daemon (also its process_* figures for Prometheus) and the watched processes,
/// network counters (/proc/net/dev, all non-loopback interfaces), disk I/O (/proc/diskstats
/// deltas) and connection counts. Reads files: spawn it detached.
collector_actor::behavior_type
resources_collector(collector_actor::stateful_pointer<resources_collector_state> self,
                    metrics_hub_actor hub, std::vector<std::string> watched_names,
                    connection_gauges gauges, std::chrono::milliseconds interval);

} // namespace medianest
