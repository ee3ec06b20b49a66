#pragma once

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
};

/// The alert evaluator: loads the stored configuration, evaluates every snapshot, stores and
/// dispatches every state change.
alert_evaluator_actor::behavior_type
alert_evaluator(alert_evaluator_actor::stateful_pointer<alert_evaluator_state> self,
                metrics_hub_actor hub, alerts_db_actor db,
                notification_dispatcher_actor dispatcher, std::string default_discord_url);

} // namespace medianest
