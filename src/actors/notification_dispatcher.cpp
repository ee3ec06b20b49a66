#include "actors/notification_dispatcher.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/alert_config_json.hpp"

namespace medianest {

namespace {

using self_ptr = notification_dispatcher_actor::stateful_pointer<notification_dispatcher_state>;
constexpr auto tick_interval = std::chrono::seconds(5);

/// The channels the settings give a destination: notifications go to these, and these load
/// their transport when the settings arrive.
struct destinations {
  bool webhook;
  bool discord;
  bool email;
};

destinations configured(const alert_notifications& cfg) {
  return {!cfg.webhook.empty(), cfg.discord && !cfg.discord_url.empty(), !cfg.email.empty()};
}

void fan_out(self_ptr self, const alert_event& e) {
  auto& st = self->state;
  const auto& cfg = st.settings;
  auto to = configured(cfg);
  if (to.webhook)
    self->send(st.webhook, notify_atom::value,
               notification_job{e, cfg.webhook, mask_webhook_url(cfg.webhook), 1});
  if (to.discord)
    self->send(st.discord, notify_atom::value,
               notification_job{e, cfg.discord_url, mask_webhook_url(cfg.discord_url), 1});
  for (const auto& address : cfg.email)
    self->send(st.email, notify_atom::value, notification_job{e, address, address, 1});
}

/// True the first time a state change is seen.
bool first_notification(notification_dispatcher_state& st, const alert_event& e) {
  auto key = e.id + '|' + e.state + '|' + e.severity;
  if (!st.notified.insert(key).second)
    return false;
  st.notified_order.push_back(std::move(key));
  if (st.notified_order.size() > max_remembered_notifications) {
    st.notified.erase(st.notified_order.front());
    st.notified_order.pop_front();
  }
  return true;
}

} // namespace

notification_dispatcher_actor::behavior_type notification_dispatcher(
  notification_dispatcher_actor::stateful_pointer<notification_dispatcher_state> self,
  notification_channel_actor webhook, notification_channel_actor discord,
  notification_channel_actor email) {
  auto& st = self->state;
  st.webhook = std::move(webhook);
  st.discord = std::move(discord);
  st.email = std::move(email);
  self->delayed_send(self, tick_interval, caf::tick_atom::value);
  return {
    [self](alert_event& e) {
      auto& st = self->state;
      if (!first_notification(st, e))
        return;
      if (e.state == "firing")
        st.firing[e.id] = {e, std::chrono::steady_clock::now()};
      else
        st.firing.erase(e.id);
      fan_out(self, e);
    },
    [self](caf::put_atom, alert_notifications& settings) {
      auto& st = self->state;
      st.settings = std::move(settings);
      auto to = configured(st.settings);
      if (to.webhook)
        self->send(st.webhook, prepare_atom::value);
      if (to.discord)
        self->send(st.discord, prepare_atom::value);
      if (to.email)
        self->send(st.email, prepare_atom::value);
    },
    [self](caf::tick_atom) {
      auto& st = self->state;
      auto repeat = std::chrono::seconds(st.settings.repeat_seconds);
      if (repeat.count() > 0) {
        auto now = std::chrono::steady_clock::now();
        for (auto& [id, entry] : st.firing)
          if (now - entry.second >= repeat) {
            entry.second = now;
            fan_out(self, entry.first);
          }
      }
      self->delayed_send(self, tick_interval, caf::tick_atom::value);
    },
  };
}

} // namespace medianest
