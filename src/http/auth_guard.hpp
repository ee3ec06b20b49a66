#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

#include "model/error.hpp"
#include "model/rate_limiter.hpp"

namespace medianest::http {

/// Limits failed authentications per client address (--auth-fail-limit, docs/api-conventions.md).
///
/// Each failure spends one token of the address' bucket (`limit` per `window`); the failure that
/// spends the last one locks the address out for `lockout`. While locked out, every request from
/// the address that carries a credential is refused with 429 RATE_LIMITED before its token is
/// looked at, a valid token included, so that guessing cannot go on. Requests without a
/// credential and open routes are never counted nor refused. Built on the gateway's sharded token
/// buckets: thread-safe, memory bounded by `max_clients`, refilled buckets expire.
class auth_guard {
public:
  using clock = std::chrono::steady_clock;

  /// `cfg.limit` 0 turns the guard off. A `cfg.lockout` of 0 locks out for one window.
  explicit auth_guard(rate_limit_config cfg);

  /// Whether failures are counted at all.
  bool enabled() const noexcept {
    return cfg_.limit > 0;
  }

  const rate_limit_config& config() const noexcept {
    return cfg_;
  }

  /// Before a credential is verified: the 429 (with Retry-After) to answer when `address` is
  /// locked out, nullopt otherwise.
  std::optional<api_error> refusal(std::string_view address, clock::time_point now) const;

  /// After a credential failed verification: counts the failure; true when this failure locked
  /// the address out (the moment to log it, once).
  bool record_failure(std::string_view address, clock::time_point now);

  /// Addresses tracked right now (locked out or with recent failures).
  size_t tracked() const {
    return limiter_.clients();
  }

private:
  rate_limit_config cfg_;
  sharded_rate_limiter limiter_;
};

} // namespace medianest::http
