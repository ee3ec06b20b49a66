#pragma once

#include <filesystem>

#include "actors/interfaces.hpp"
#include "actors/source_health.hpp"
#include "sources/proc_readers.hpp"

namespace medianest {

struct system_collector_state {
  static inline const char* name = "system_collector";

  sources::cpu_usage_reader cpu;
  std::filesystem::path disk_path;
  metrics_hub_actor hub;
  source_health health{"system collector", std::chrono::seconds(1)};
};

/// Samples CPU (/proc/stat deltas), load, memory, the daemon's heap and the data directory's
/// filesystem. Reads files: spawn it detached.
collector_actor::behavior_type
system_collector(collector_actor::stateful_pointer<system_collector_state> self,
                 metrics_hub_actor hub, std::filesystem::path disk_path,
                 std::chrono::milliseconds interval);

/// One system sample, or nullopt with `error` (exposed for tests).
std::optional<system_sample> sample_system(sources::cpu_usage_reader& cpu,
                                           const std::filesystem::path& disk_path,
                                           std::string& error);

} // namespace medianest
