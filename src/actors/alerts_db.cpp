#include "actors/alerts_db.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/alert_log_json.hpp"
#include "sources/alerts_sql.hpp"
#include "sources/timeseries_sql.hpp"

namespace medianest {

namespace {

using self_ptr = alerts_db_actor::stateful_pointer<alerts_db_state>;
constexpr auto tick_interval = std::chrono::seconds(5);

caf::error unavailable(const std::string& what) {
  return to_caf_error({errc::resource_exhausted, "alert database unavailable: " + what, {}, 5u});
}

bool ready(alerts_db_state& st, std::string& error) {
  return sources::ensure_schema(*st.session, st.migrated, error);
}

/// Writes buffered log entries in order; stops at the first failure.
void drain(alerts_db_state& st) {
  std::string error;
  if (st.unwritten.empty() || !ready(st, error))
    return;
  while (!st.unwritten.empty()) {
    auto& entry = st.unwritten.front();
    bool ok = std::visit(
      [&](auto& x) {
        if constexpr (std::is_same_v<std::decay_t<decltype(x)>, alert_event>)
          return sources::insert_alert_event(*st.session, x, error);
        else
          return sources::insert_delivery(*st.session, x, error);
      },
      entry);
    if (!ok) {
      st.health.failed("cannot write the alert log (" + std::to_string(st.unwritten.size())
                       + " entries buffered): " + error);
      return;
    }
    st.unwritten.pop_front();
  }
  st.health.succeeded();
}

template <class T>
void append(self_ptr self, T entry) {
  auto& st = self->state;
  if (st.unwritten.size() >= max_unwritten_log_entries) {
    st.unwritten.pop_front();
    spdlog::warn("alert log buffer full: dropped the oldest entry");
  }
  st.unwritten.emplace_back(std::move(entry));
  drain(st);
}

} // namespace

alerts_db_actor::behavior_type alerts_db(alerts_db_actor::stateful_pointer<alerts_db_state> self,
                                         database_target target,
                                         database_collector_actor usage_sink) {
  self->state.session.emplace(std::move(target));
  self->state.usage_sink = std::move(usage_sink);
  self->delayed_send(self, tick_interval, caf::tick_atom::value);
  return {
    [self](caf::get_atom, alert_config_atom) -> caf::result<std::string> {
      auto& st = self->state;
      std::string error;
      std::optional<std::string> doc;
      if (!ready(st, error) || !sources::load_alert_config(*st.session, doc, error))
        return unavailable(error);
      return doc.value_or("");
    },
    [self](caf::put_atom, alert_config_atom, const std::string& doc) -> caf::result<bool> {
      auto& st = self->state;
      std::string error;
      if (!ready(st, error) || !sources::save_alert_config(*st.session, doc, error))
        return unavailable(error);
      return true;
    },
    [self](alert_event& e) { append(self, std::move(e)); },
    [self](delivery_record& d) { append(self, std::move(d)); },
    [self](caf::get_atom, alert_log_atom, int64_t since, uint64_t limit)
      -> caf::result<std::string> {
      auto& st = self->state;
      drain(st); // what was buffered is part of the answer
      std::string error;
      std::vector<alert_event> events;
      if (!ready(st, error) || !sources::list_alert_events(*st.session, since, limit, events, error))
        return unavailable(error);
      return alert_log_json(events);
    },
    [self](caf::get_atom, delivery_atom, uint64_t limit) -> caf::result<std::string> {
      auto& st = self->state;
      drain(st);
      std::string error;
      std::vector<delivery_record> records;
      if (!ready(st, error) || !sources::list_deliveries(*st.session, limit, records, error))
        return unavailable(error);
      return delivery_log_json(records);
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
