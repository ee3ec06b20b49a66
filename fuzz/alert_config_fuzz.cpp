// PUT /api/v1/performance/alerts: merge_alert_config, the validator the alert evaluator runs on
// the request body, and alert_config_from_storage, which reads the stored document back at
// start. Invariants: the body is either applied or refused with VALIDATION_ERROR; an applied
// configuration survives the trip through storage unchanged; what GET /alerts shows is JSON,
// without the Discord URL, with the webhook masked.

#include <string>
#include <variant>

#include "fuzz_check.hpp"
#include "model/alert_config_json.hpp"
#include "model/json.hpp"

using namespace medianest;

namespace {

void check_mask(std::string_view url) {
  auto masked = mask_webhook_url(url);
  FUZZ_CHECK(masked.empty() == url.empty());
  // Query and fragment may hold the secret: they never show.
  FUZZ_CHECK(masked.find_first_of("?#") == std::string::npos);
  FUZZ_CHECK(masked.size() <= url.size() + 4);
}

/// An accepted configuration is stored as text and read back at the next start: it must read
/// back, to the same configuration (numbers to within a few ulps: see same_json).
void check_storage_round_trip(const alert_config& c) {
  auto stored = alert_config_to_storage(c);
  FUZZ_CHECK(fuzz::is_json(stored));
  auto back = alert_config_from_storage(stored);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(fuzz::same_json_text(alert_config_to_storage(*back), stored));
}

void check_shown(const alert_config& c) {
  auto shown = alert_config_to_json(c);
  FUZZ_CHECK(fuzz::is_json(to_json(shown)));
  const auto& n = shown.at("notifications").as_object();
  FUZZ_CHECK(!n.contains("discordUrl"));
  FUZZ_CHECK(n.at("discord").is_bool());
  FUZZ_CHECK(n.at("webhook").as_string() == mask_webhook_url(c.notifications.webhook));
  check_mask(c.notifications.webhook);
}

void check_merge(const alert_config& current, std::string_view body) {
  auto merged = merge_alert_config(current, body);
  if (auto* err = std::get_if<api_error>(&merged)) {
    fuzz::check_validation_error(*err);
    return;
  }
  const auto& next = std::get<alert_config>(merged);
  check_storage_round_trip(next);
  check_shown(next);
  // Merging is idempotent: the same body over its own result changes nothing more.
  auto again = merge_alert_config(next, body);
  FUZZ_CHECK(std::holds_alternative<alert_config>(again));
  FUZZ_CHECK(alert_config_to_storage(std::get<alert_config>(again))
             == alert_config_to_storage(next));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto body = fuzz::as_text(data, size);
  static const alert_config defaults;
  check_merge(defaults, body);
  // As the evaluator calls it when the daemon has a --discord-webhook: "discord": true is valid.
  static const alert_config with_discord = [] {
    alert_config c;
    c.notifications.discord_url = "https://discord.com/api/webhooks/1/secret";
    return c;
  }();
  check_merge(with_discord, body);
  if (auto stored = alert_config_from_storage(body))
    check_storage_round_trip(*stored);
  check_mask(body);
  return 0;
}
