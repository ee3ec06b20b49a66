#include "actors/notification_channel.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "sources/curl_library.hpp"

namespace medianest {

namespace {

using self_ptr = notification_channel_actor::stateful_pointer<notification_channel_state>;

sources::delivery_result deliver(const notification_channel_state& st,
                                 const notification_job& job) {
  const auto& s = st.settings;
  switch (st.kind) {
    case channel_kind::webhook:
      return sources::post_json(job.destination, sources::slack_payload(job.event, s.instance),
                                s.connect_timeout, s.timeout);
    case channel_kind::discord:
      return sources::post_json(job.destination, sources::discord_payload(job.event, s.instance),
                                s.connect_timeout, s.timeout);
    case channel_kind::email: {
      if (s.smtp_url.empty())
        return {false, false, 0, "no --smtp-url configured", 0};
      std::vector<std::string> to{job.destination};
      return sources::send_email(s.smtp_url, s.smtp_from, to,
                                 sources::email_message(job.event, s.instance, s.smtp_from, to),
                                 s.timeout);
    }
  }
  return {};
}

void log_attempt(self_ptr self, const notification_job& job,
                 const sources::delivery_result& result) {
  auto& st = self->state;
  delivery_record rec{job.event.id,
                      job.event.state,
                      job.event.severity,
                      std::string{channel_name(st.kind)},
                      job.shown_as,
                      static_cast<int>(job.attempt),
                      result.ok,
                      result.status,
                      result.error,
                      now_ms()};
  if (st.counter)
    self->send(st.counter, rec);
  if (st.log)
    self->send(st.log, std::move(rec));
}

} // namespace

std::string_view channel_name(channel_kind kind) noexcept {
  switch (kind) {
    case channel_kind::webhook: return "webhook";
    case channel_kind::discord: return "discord";
    case channel_kind::email: return "email";
  }
  return "unknown";
}

notification_channel_actor::behavior_type
notification_channel(notification_channel_actor::stateful_pointer<notification_channel_state> self,
                     channel_kind kind, channel_settings settings, alerts_db_actor log,
                     activity_counter_actor counter) {
  auto& st = self->state;
  st.kind = kind;
  st.retry = sources::retry_policy{settings.retry_base, settings.retry_cap, settings.max_attempts};
  st.settings = std::move(settings);
  st.log = std::move(log);
  st.counter = std::move(counter);
  return {
    [self](notify_atom, notification_job& job) {
      auto& st = self->state;
      auto [it, fresh] = st.breakers.try_emplace(
        job.destination, st.settings.breaker_threshold, st.settings.breaker_cool_down);
      auto& breaker = it->second;
      auto now = std::chrono::steady_clock::now();
      if (!breaker.allow(now)) {
        // The destination keeps failing: wait for the breaker to let a probe through,
        // without spending an attempt.
        self->delayed_send(self, st.settings.breaker_cool_down / 4, notify_atom::value,
                           std::move(job));
        return;
      }
      auto result = deliver(st, job);
      breaker.record(result.ok, std::chrono::steady_clock::now());
      log_attempt(self, job, result);
      if (result.ok) {
        spdlog::info("notified {} {} of alert {} ({} {}) on attempt {}", channel_name(st.kind),
                     job.shown_as, job.event.id, job.event.state, job.event.severity,
                     job.attempt);
        return;
      }
      if (result.retryable && !st.retry.exhausted(job.attempt)) {
        ++job.attempt;
        auto delay = st.retry.delay_before(job.attempt, st.rng);
        spdlog::warn("{} {} failed for alert {}: {}; attempt {} in {} ms", channel_name(st.kind),
                     job.shown_as, job.event.id, result.error, job.attempt, delay.count());
        self->delayed_send(self, delay, notify_atom::value, std::move(job));
        return;
      }
      spdlog::error("{} {} gave up on alert {} after {} attempt(s): {}", channel_name(st.kind),
                    job.shown_as, job.event.id, job.attempt, result.error);
    },
    [self](prepare_atom) {
      auto& st = self->state;
      if (st.transport_ready)
        return;
      std::string error;
      st.transport_ready = sources::load_curl(error) != nullptr;
      if (!st.transport_ready)
        spdlog::error("{} notifications cannot be sent: {}", channel_name(st.kind), error);
    },
  };
}

} // namespace medianest
