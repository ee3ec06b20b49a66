#pragma once

#include <deque>
#include <unordered_map>
#include <unordered_set>

#include "actors/interfaces.hpp"

namespace medianest {

struct notification_dispatcher_state {
  static inline const char* name = "notification_dispatcher";

  alert_notifications settings;
  notification_channel_actor webhook;
  notification_channel_actor discord;
  notification_channel_actor email;
  /// State changes already notified (alert id, state, severity), bounded, oldest forgotten.
  std::unordered_set<std::string> notified;
  std::deque<std::string> notified_order;
  /// Firing alerts and when they were last notified, for the repeat interval.
  std::unordered_map<std::string, std::pair<alert_event, std::chrono::steady_clock::time_point>>
    firing;
};

inline constexpr size_t max_remembered_notifications = 10'000;

/// The notification dispatcher: de-duplicates state changes and fans them out to the
/// configured destinations of each channel.
notification_dispatcher_actor::behavior_type notification_dispatcher(
  notification_dispatcher_actor::stateful_pointer<notification_dispatcher_state> self,
  notification_channel_actor webhook, notification_channel_actor discord,
  notification_channel_actor email);

} // namespace medianest
