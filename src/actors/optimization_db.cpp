#include "actors/optimization_db.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <spdlog/spdlog.h>

#include "sources/optimization_sql.hpp"
#include "sources/timeseries_sql.hpp"

namespace medianest {

namespace {

using self_ptr = optimization_db_actor::stateful_pointer<optimization_db_state>;
constexpr auto tick_interval = std::chrono::seconds(5);

caf::error unavailable(const std::string& what) {
  return to_caf_error(
    {errc::resource_exhausted, "optimization database unavailable: " + what, {}, 5u});
}

bool ready(optimization_db_state& st, std::string& error) {
  return sources::ensure_schema(*st.session, st.migrated, error);
}

/// Saves the runs waiting for the database, oldest id first; stops at the first failure.
void drain(optimization_db_state& st) {
  std::string error;
  if (st.unsaved.empty())
    return;
  if (!ready(st, error)) {
    st.health.failed("cannot save optimization runs (" + std::to_string(st.unsaved.size())
                     + " waiting): " + error);
    return;
  }
  while (!st.unsaved.empty()) {
    auto it = st.unsaved.begin();
    if (!sources::save_run(*st.session, it->second, error)) {
      st.health.failed("cannot save optimization runs (" + std::to_string(st.unsaved.size())
                       + " waiting): " + error);
      return;
    }
    st.unsaved.erase(it);
  }
  st.health.succeeded();
}

} // namespace

optimization_db_actor::behavior_type
optimization_db(optimization_db_actor::stateful_pointer<optimization_db_state> self,
                database_target target, database_collector_actor usage_sink) {
  self->state.session.emplace(std::move(target));
  self->state.usage_sink = std::move(usage_sink);
  self->delayed_send(self, tick_interval, caf::tick_atom::value);
  return {
    [self](load_atom, uint64_t limit) -> caf::result<optimization_runs> {
      auto& st = self->state;
      std::string error;
      uint64_t marked = 0;
      std::vector<std::string> documents;
      if (!ready(st, error)
          || !sources::mark_interrupted_runs(*st.session, now_ms().time_since_epoch().count(),
                                             marked, error)
          || !sources::recent_run_documents(*st.session, limit, documents, error))
        return unavailable(error);
      if (marked)
        spdlog::warn("{} optimization run(s) interrupted by the last shutdown marked failed",
                     marked);
      optimization_runs runs;
      for (const auto& doc : documents) {
        if (auto run = run_from_json(doc))
          runs.push_back(std::move(*run));
        else
          spdlog::warn("a stored optimization run cannot be read; it is left out");
      }
      return runs;
    },
    [self](caf::put_atom, optimization_run& run) {
      auto& st = self->state;
      if (st.unsaved.size() >= max_unsaved_runs && !st.unsaved.count(run.id)) {
        st.unsaved.erase(st.unsaved.begin());
        spdlog::warn("optimization runs waiting for the database: dropped the oldest");
      }
      auto id = run.id;
      st.unsaved.insert_or_assign(std::move(id), std::move(run));
      drain(st);
    },
    [self](caf::get_atom, optimize_atom, const std::string& id) -> caf::result<std::string> {
      auto& st = self->state;
      drain(st);
      std::string error;
      std::optional<std::string> document;
      if (!ready(st, error) || !sources::load_run_document(*st.session, id, document, error))
        return unavailable(error);
      return document.value_or("");
    },
    [self](caf::tick_atom) {
      auto& st = self->state;
      drain(st);
      if (st.usage_sink && st.session->is_open())
        self->send(st.usage_sink, sql_usage_atom::value, st.session->take_usage());
      self->delayed_send(self, tick_interval, caf::tick_atom::value);
    },
  };
}

} // namespace medianest
