#include "actors/resources_collector.hpp"

#include <unistd.h>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace medianest {

namespace {

/// Scanning /proc for names costs more than sampling known pids: do it every 10th sample.
constexpr unsigned rescan_every = 10;

void rescan(resources_collector_state& st) {
  for (const auto& [pid, name] : st.watched_pids)
    st.processes.forget(pid);
  st.watched_pids.clear();
  auto self_pid = static_cast<int>(::getpid());
  for (const auto& name : st.watched_names)
    for (int pid : sources::find_pids_by_name("/proc", name))
      if (pid != self_pid)
        st.watched_pids.emplace_back(pid, name);
  st.samples_since_rescan = 0;
}

std::optional<resources_sample> sample_resources(resources_collector_state& st,
                                                 std::string& error) {
  resources_sample s;
  auto self_stats = st.processes.sample(static_cast<int>(::getpid()), "medianest-perf", error);
  if (!self_stats)
    return std::nullopt;
  s.processes.push_back(std::move(*self_stats));
  std::string own_error; // optional figures: the section stands without them
  s.own = st.own.read(own_error);
  if (st.samples_since_rescan++ % rescan_every == 0)
    rescan(st);
  for (const auto& [pid, name] : st.watched_pids) {
    std::string ignored; // a watched process may exit between scans
    if (auto p = st.processes.sample(pid, name, ignored))
      s.processes.push_back(std::move(*p));
  }
  auto net = st.network.read(error);
  if (!net)
    return std::nullopt;
  s.network = *net;
  auto disks = st.disks.sample(error);
  if (!disks)
    return std::nullopt;
  s.storage = *disks;
  if (st.gauges.http)
    s.connections.http = st.gauges.http();
  if (st.gauges.websocket)
    s.connections.websocket = st.gauges.websocket();
  return s;
}

} // namespace

collector_actor::behavior_type
resources_collector(collector_actor::stateful_pointer<resources_collector_state> self,
                    metrics_hub_actor hub, std::vector<std::string> watched_names,
                    connection_gauges gauges, std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.watched_names = std::move(watched_names);
  st.gauges = std::move(gauges);
  st.health = source_health{"resources collector", interval};
  self->send(self, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      auto& st = self->state;
      std::string error;
      auto sample = sample_resources(st, error);
      report_sample(self, st.hub, st.health, section_kind::resources, std::move(sample), error);
    },
  };
}

} // namespace medianest
