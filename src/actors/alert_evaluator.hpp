#pragma once

#include <deque>
#include <functional>
#include <vector>

#include "actors/alert_rules.hpp"
#include "actors/interfaces.hpp"

namespace medianest {

struct alert_evaluator_state {
  static inline const char* name = "alert_evaluator";

  alert_config config;
  alert_rules rules{alert_config{}};
  /// The Discord webhook URL from the daemon's configuration, used when the stored
  /// configuration names none.
  std::string default_discord_url;
  alerts_db_actor db;
  notification_dispatcher_actor dispatcher;
  metrics_hub_actor hub;
  /// Receive every alert event too (the optimization supervisor, live feeds).
  std::vector<caf::actor> listeners;
  /// Whether the stored configuration is loaded: until then GET and PUT /alerts wait, so that
  /// neither answers the defaults nor merges a change into them over what was stored.
  bool loaded = false;
  /// Whether a PUT is being stored: the next waits for it, so that it merges into its result
  /// instead of the configuration from before both (losing the first one's fields).
  bool storing = false;
  std::deque<std::function<void()>> waiting;
  /// The stored document this daemon last loaded or wrote, to tell another daemon's change.
  std::string stored_document;
  /// How often the stored configuration is read again; zero: never (no other daemon shares it).
  std::chrono::milliseconds config_poll{0};
};

/// The alert evaluator: loads the stored configuration, evaluates every snapshot, stores and
/// dispatches every state change. With a `config_poll` period it also applies a configuration
/// that another daemon sharing the database stored (its PUT /alerts).
alert_evaluator_actor::behavior_type
alert_evaluator(alert_evaluator_actor::stateful_pointer<alert_evaluator_state> self,
                metrics_hub_actor hub, alerts_db_actor db,
                notification_dispatcher_actor dispatcher, std::string default_discord_url,
                std::chrono::milliseconds config_poll);

} // namespace medianest
