#include "actors/system_collector.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace medianest {

std::optional<system_sample> sample_system(sources::cpu_usage_reader& cpu,
                                           const std::filesystem::path& disk_path,
                                           std::string& error) {
  system_sample s;
  auto usage = cpu.sample(error);
  if (!usage)
    return std::nullopt;
  auto load = sources::read_loadavg(error);
  if (!load)
    return std::nullopt;
  auto memory = sources::read_meminfo(error);
  if (!memory)
    return std::nullopt;
  auto disk = sources::read_disk(disk_path, error);
  if (!disk)
    return std::nullopt;
  s.cpu.usage = *usage;
  s.cpu.cores = sources::online_cpus();
  s.cpu.load_average = *load;
  s.memory = *memory;
  sources::fill_heap_usage(s.memory);
  s.disk = std::move(*disk);
  return s;
}

collector_actor::behavior_type
system_collector(collector_actor::stateful_pointer<system_collector_state> self,
                 metrics_hub_actor hub, std::filesystem::path disk_path,
                 std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.disk_path = std::move(disk_path);
  st.health = source_health{"system collector", interval};
  self->send(self, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      auto& st = self->state;
      std::string error;
      auto sample = sample_system(st.cpu, st.disk_path, error);
      report_sample(self, st.hub, st.health, section_kind::system, std::move(sample), error);
    },
  };
}

} // namespace medianest
