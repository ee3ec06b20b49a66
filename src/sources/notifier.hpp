#pragma once

// The blocking delivery layer of alert notifications: the payload of each channel (Slack
// incoming webhook, Discord webhook, e-mail), one delivery attempt over libcurl (HTTP POST of
// JSON, SMTP), and the two policies around attempts (retry back-off, circuit breaker).
//
// Everything here is plain and blocking: the dispatcher calls it from a thread of its own, never
// from an actor's or the HTTP server's thread. Nothing throws on a failed delivery; the outcome
// comes back as a delivery_result. The policy classes are not thread-safe: one owner each.

#include "model/circuit_breaker.hpp"
#include <chrono>
#include <cstdint>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "model/alerts.hpp"

namespace medianest::sources {

/// One line that sums up an alert event, as used for the e-mail subject (after the
/// "[MediaNest Perf] " prefix) and at the head of chat messages:
/// "FIRING critical: responseTime 1234 ms > 1000", "FIRING warning: cacheHitRate 62% < 70%",
/// "RESOLVED critical: errorRate 2% (threshold 10%)". Rates (errorRate, cacheHitRate, 0-1) are
/// shown as percentages; memoryUsage and cpuUsage are percentages already; response and query
/// times (responseTime, queryTime) in ms.
/// Control characters (CR, LF...) of the state, severity and metric become spaces: a category
/// name comes from the configuration and must not break a mail header.
std::string alert_summary(const alert_event& e);

/// The Slack incoming-webhook JSON of an alert event:
/// {"text": "[MediaNest Perf] <summary>[ on <instance>]", "attachments": [{"color": "#d00000"
/// (firing critical) | "#f0a000" (firing warning) | "#2eb886" (resolved), "fallback", "title",
/// "fields": [{"title", "value", "short"}...] (Metric, Value, Threshold, Severity, State,
/// Started at, Resolved at when resolved, Instance when given, Alert ID), "footer", "ts"}]}.
/// Text is escaped the way Slack wants (&, <, > as entities).
std::string slack_payload(const alert_event& e, std::string_view instance);

/// The Discord webhook JSON of an alert event: {"content": "[MediaNest Perf] <summary>...",
/// "embeds": [{"title", "description", "color": 0xd00000 | 0xf0a000 | 0x2eb886 as an integer,
/// "fields": [{"name", "value", "inline": true}...] (as for Slack), "timestamp": iso8601(e.at),
/// "footer": {"text"}}], "allowed_mentions": {"parse": []}} (no @everyone from an instance name).
std::string discord_payload(const alert_event& e, std::string_view instance);

/// An RFC 5322 message for an alert event, CRLF line endings throughout: From, To (joined with
/// ", "), Subject "[MediaNest Perf] <summary>" (RFC 2047-encoded if it is not ASCII), Date (now),
/// Message-ID (unique per call), MIME-Version 1.0, Content-Type text/plain; charset=utf-8,
/// Content-Transfer-Encoding 8bit, X-MediaNest-Alert-Id, then a plain-text body with the
/// details. CR and LF inside header values (from, to, instance) are replaced by spaces.
std::string email_message(const alert_event& e, std::string_view instance, std::string_view from,
                          const std::vector<std::string>& to);

/// The outcome of one delivery attempt.
struct delivery_result {
  bool ok = false;
  bool retryable = false;   ///< worth another attempt later (meaningless when ok)
  long status = 0;          ///< the HTTP status or the last SMTP reply code; 0 if none came
  std::string error;        ///< empty when ok
  double duration_ms = 0;   ///< wall time of the attempt
};

/// POSTs `body` as application/json to `url` (http:// or https:// only; no redirects followed,
/// no signal handlers, proxies from the environment honoured as libcurl does). Timeouts below
/// 1 ms count as 1 ms; `timeout` bounds the whole attempt, connect included.
/// 2xx: ok. 429, 5xx and transport errors (refused, timeout, TLS, reset...): retryable.
/// Other statuses (4xx, 3xx) and a malformed URL or another scheme: not retryable.
/// The error of an HTTP failure carries the start of the response body.
delivery_result post_json(const std::string& url, const std::string& body,
                          std::chrono::milliseconds connect_timeout = std::chrono::seconds{2},
                          std::chrono::milliseconds timeout = std::chrono::seconds{5});

/// Sends one message over SMTP: `smtp_url` is smtp://host[:port] or smtps://host[:port], with
/// optional user:password@ (percent-encoded) for AUTH. On smtp:// STARTTLS is used when the
/// server offers it. MAIL FROM `from`, RCPT TO each of `to` (a "Name <addr>" form is reduced to
/// addr), then `message` as DATA. `timeout` bounds the whole attempt (and the connect).
/// Transport errors and 4xx replies are retryable; 5xx replies (and a bad URL, no recipients,
/// rejected credentials) are not. `status` is the last reply code the server sent.
delivery_result send_email(const std::string& smtp_url, const std::string& from,
                           const std::vector<std::string>& to, const std::string& message,
                           std::chrono::milliseconds timeout = std::chrono::seconds{10});

/// Exponential back-off with full jitter and a bounded number of attempts.
class retry_policy {
public:
  /// `max_attempts` counts the first attempt; below 1 counts as 1. A cap below base counts as base.
  explicit retry_policy(std::chrono::milliseconds base = std::chrono::milliseconds{500},
                        std::chrono::milliseconds cap = std::chrono::seconds{60},
                        unsigned max_attempts = 8);

  /// How long to wait before attempt number `attempt` (1-based): 0 for attempt 1 (and 0), then
  /// uniformly random in [0, max_delay_before(attempt)].
  std::chrono::milliseconds delay_before(unsigned attempt, std::mt19937_64& rng) const;

  /// The upper bound of delay_before: 0 for attempt ≤ 1, then min(cap, base * 2^(attempt-2)).
  std::chrono::milliseconds max_delay_before(unsigned attempt) const;

  /// True once `attempts_made` attempts have been made and no more are allowed.
  bool exhausted(unsigned attempts_made) const;

  std::chrono::milliseconds base() const noexcept { return base_; }
  std::chrono::milliseconds cap() const noexcept { return cap_; }
  unsigned max_attempts() const noexcept { return max_attempts_; }

private:
  std::chrono::milliseconds base_;
  std::chrono::milliseconds cap_;
  unsigned max_attempts_;
};

using medianest::circuit_breaker;

} // namespace medianest::sources
