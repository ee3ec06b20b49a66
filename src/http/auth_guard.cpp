#include "http/auth_guard.hpp"

#include <algorithm>
#include <string>

namespace medianest::http {

namespace {

rate_limit_config with_lockout(rate_limit_config cfg) {
  if (cfg.lockout.count() <= 0)
    cfg.lockout = std::max(cfg.window, std::chrono::seconds{1});
  cfg.burst = 0;
  return cfg;
}

} // namespace

auth_guard::auth_guard(rate_limit_config cfg) : cfg_(with_lockout(cfg)), limiter_(cfg_) {
  // nop
}

std::optional<api_error> auth_guard::refusal(std::string_view address,
                                             clock::time_point now) const {
  if (!enabled() || address.empty())
    return std::nullopt;
  auto seconds = limiter_.locked_for(address, now);
  if (seconds <= 0)
    return std::nullopt;
  boost::json::object details;
  details["retryAfter"] = seconds;
  details["limit"] = cfg_.limit;
  details["window"] = cfg_.window.count();
  return api_error{errc::rate_limited,
                   "too many failed authentications from this address; retry in "
                     + std::to_string(seconds) + " s",
                   std::move(details), static_cast<unsigned>(seconds)};
}

bool auth_guard::record_failure(std::string_view address, clock::time_point now) {
  if (!enabled() || address.empty())
    return false;
  return limiter_.check(address, now).locked_out;
}

} // namespace medianest::http
