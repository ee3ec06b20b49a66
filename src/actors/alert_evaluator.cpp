#include "actors/alert_evaluator.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/alert_config_json.hpp"
#include "model/json.hpp"

namespace medianest {

namespace {

using self_ptr = alert_evaluator_actor::stateful_pointer<alert_evaluator_state>;

void publish(self_ptr self, const alert_event& e) {
  auto& st = self->state;
  spdlog::info("alert {} {} {} {} (value {}, threshold {})", e.id, e.metric, e.severity, e.state,
               e.value, e.threshold);
  self->send(st.db, e);
  self->send(st.dispatcher, e);
  for (const auto& listener : st.listeners)
    caf::anon_send(listener, e);
}

/// Installs a configuration: thresholds into the rules (publishing what that changes) and
/// notification settings into the dispatcher.
void apply(self_ptr self, alert_config cfg) {
  auto& st = self->state;
  st.config = cfg;
  for (const auto& e : st.rules.configure(cfg))
    publish(self, e);
  // The configured Discord URL stays out of the stored document: the flag may change.
  auto notifications = cfg.notifications;
  if (notifications.discord_url.empty())
    notifications.discord_url = st.default_discord_url;
  self->send(st.dispatcher, caf::put_atom::value, std::move(notifications));
}

std::string rendered(const alert_config& cfg) {
  return to_json(alert_config_to_json(cfg));
}

/// Runs the GET and PUT /alerts that waited, in their order, until one starts storing.
void run_waiting(self_ptr self) {
  auto& st = self->state;
  while (st.loaded && !st.storing && !st.waiting.empty()) {
    auto next = std::move(st.waiting.front());
    st.waiting.pop_front();
    next();
  }
}

/// PUT /alerts: merges `body` into the current configuration, validates, stores, applies,
/// and delivers the rendered result (or the refusal) to `rp`.
void store_and_apply(self_ptr self, const std::string& body,
                     caf::typed_response_promise<std::string> rp) {
  auto& st = self->state;
  // `"discord": true` may rely on the daemon's --discord-webhook, which is not stored.
  auto current = st.config;
  bool discord_from_flag = current.notifications.discord_url.empty();
  if (discord_from_flag)
    current.notifications.discord_url = st.default_discord_url;
  auto merged = merge_alert_config(current, body);
  if (auto* err = std::get_if<api_error>(&merged)) {
    rp.deliver(to_caf_error(*err));
    return;
  }
  auto cfg = std::get<alert_config>(std::move(merged));
  if (discord_from_flag && cfg.notifications.discord_url == st.default_discord_url)
    cfg.notifications.discord_url.clear();
  st.storing = true;
  self->request(st.db, std::chrono::seconds(10), caf::put_atom::value, alert_config_atom::value,
                alert_config_to_storage(cfg))
    .then(
      [self, rp, cfg](bool) mutable {
        self->state.stored_document = alert_config_to_storage(cfg);
        apply(self, cfg);
        rp.deliver(rendered(self->state.config));
        self->state.storing = false;
        run_waiting(self);
      },
      [self, rp](caf::error& err) mutable {
        rp.deliver(std::move(err));
        self->state.storing = false;
        run_waiting(self);
      });
}

void poll_later(self_ptr self) {
  if (self->state.config_poll.count() > 0)
    self->delayed_send(self, self->state.config_poll, caf::tick_atom::value);
}

/// Applies a stored document that is not the one this daemon last loaded or wrote: another
/// daemon sharing the database took a PUT /alerts. Replies come in the order the database
/// actor served the requests, so a read that raced this daemon's own write finds the
/// document it had before and changes nothing.
void adopt_stored(self_ptr self, const std::string& doc) {
  auto& st = self->state;
  if (doc.empty() || doc == st.stored_document)
    return;
  st.stored_document = doc;
  auto cfg = alert_config_from_storage(doc);
  if (!cfg) {
    spdlog::error("the alert configuration stored by another daemon cannot be read; "
                  "keeping the current one");
    return;
  }
  spdlog::info("the alert configuration was changed in the database (PUT /alerts on another "
               "daemon); applied");
  apply(self, std::move(*cfg));
}

} // namespace

alert_evaluator_actor::behavior_type
alert_evaluator(alert_evaluator_actor::stateful_pointer<alert_evaluator_state> self,
                metrics_hub_actor hub, alerts_db_actor db,
                notification_dispatcher_actor dispatcher, std::string default_discord_url,
                std::chrono::milliseconds config_poll) {
  auto& st = self->state;
  st.config_poll = config_poll;
  st.hub = std::move(hub);
  st.db = std::move(db);
  st.dispatcher = std::move(dispatcher);
  st.default_discord_url = std::move(default_discord_url);
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const caf::actor& a) { return a.address() == dm.source; }),
             xs.end());
  });
  auto start = [self] {
    auto& st = self->state;
    st.loaded = true;
    run_waiting(self);
    self->send(st.hub, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self));
    poll_later(self);
  };
  self->request(st.db, std::chrono::seconds(30), caf::get_atom::value, alert_config_atom::value)
    .then(
      [self, start](const std::string& doc) {
        auto cfg = doc.empty() ? std::optional<alert_config>{alert_config{}}
                               : alert_config_from_storage(doc);
        if (!cfg) {
          spdlog::error("the stored alert configuration cannot be read; using the defaults");
          cfg = alert_config{};
        }
        self->state.stored_document = doc;
        apply(self, std::move(*cfg));
        start();
      },
      [self, start](const caf::error& err) {
        spdlog::warn("alert configuration not loaded ({}); using the defaults",
                     from_caf_error(err).message);
        apply(self, alert_config{});
        start();
      });
  return {
    [self](snapshot_atom, const snapshot_ptr& snap) {
      auto& st = self->state;
      if (!st.config.enabled)
        return;
      for (const auto& o : observations_of(*snap, st.config))
        for (const auto& e : st.rules.observe(o))
          publish(self, e);
    },
    [self](caf::get_atom, alert_config_atom) -> caf::result<std::string> {
      if (self->state.loaded)
        return rendered(self->state.config);
      auto rp = self->make_response_promise<std::string>();
      self->state.waiting.push_back(
        [self, rp]() mutable { rp.deliver(rendered(self->state.config)); });
      return rp;
    },
    [self](caf::put_atom, alert_config_atom, const std::string& body) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      auto& st = self->state;
      if (st.loaded && !st.storing && st.waiting.empty())
        store_and_apply(self, body, rp);
      else
        st.waiting.push_back([self, body, rp]() mutable { store_and_apply(self, body, rp); });
      return rp;
    },
    [self](caf::get_atom, active_atom) { return self->state.rules.active(); },
    [self](caf::subscribe_atom, caf::actor& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(std::move(listener));
    },
    [self](caf::tick_atom) {
      self->request(self->state.db, std::chrono::seconds(10), caf::get_atom::value,
                    alert_config_atom::value)
        .then(
          [self](const std::string& doc) {
            adopt_stored(self, doc);
            poll_later(self);
          },
          [self](const caf::error&) { poll_later(self); }); // the database actor reports it
    },
  };
}

} // namespace medianest
