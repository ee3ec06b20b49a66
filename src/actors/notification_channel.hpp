#pragma once

#include <random>
#include <unordered_map>

#include "actors/interfaces.hpp"
#include "sources/notifier.hpp"

namespace medianest {

enum class channel_kind : uint8_t { webhook, discord, email };

/// The name a channel kind is logged under ("webhook", "discord", "email").
std::string_view channel_name(channel_kind kind) noexcept;

/// How a channel delivers and retries.
struct channel_settings {
  std::string instance;          ///< names this daemon in messages
  std::string smtp_url;          ///< e-mail only
  std::string smtp_from;         ///< e-mail only
  std::chrono::milliseconds retry_base{500};
  std::chrono::milliseconds retry_cap{60'000};
  unsigned max_attempts = 8;
  unsigned breaker_threshold = 5;
  std::chrono::milliseconds breaker_cool_down{30'000};
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds timeout{5'000};
};

struct notification_channel_state {
  static inline const char* name = "notification_channel";

  channel_kind kind = channel_kind::webhook;
  channel_settings settings;
  sources::retry_policy retry;
  std::unordered_map<std::string, sources::circuit_breaker> breakers;
  std::mt19937_64 rng{std::random_device{}()};
  alerts_db_actor log;
  /// Counts deliveries for /prometheus (optional).
  activity_counter_actor counter;
  /// Whether libcurl is loaded (after the first prepare_atom that found it).
  bool transport_ready = false;
};

/// One channel kind's delivery actor (detached: libcurl blocks).
notification_channel_actor::behavior_type
notification_channel(notification_channel_actor::stateful_pointer<notification_channel_state> self,
                     channel_kind kind, channel_settings settings, alerts_db_actor log,
                     activity_counter_actor counter = {});

} // namespace medianest
