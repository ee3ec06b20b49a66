#pragma once

// The wire and storage forms of alert_config (GET/PUT /api/v1/performance/alerts).

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include <boost/json/object.hpp>

#include "model/alerts.hpp"
#include "model/error.hpp"

namespace medianest {

/// The `data` object of GET /alerts:
/// `{"enabled", "thresholds": {responseTime, errorRate, memoryUsage, cpuUsage, cacheHitRate,
/// queryTime: {warning, critical, unit, forSeconds}}, "endpointCategories": [{name, target,
/// warning, critical, routes}], "notifications": {email, webhook, discord, repeatSeconds}}`.
/// Secrets are never echoed: the webhook URL is masked (mask_webhook_url), the Discord URL is
/// left out and `discord` is shown as true/false only.
boost::json::object alert_config_to_json(const alert_config& c);

/// Applies a PUT /alerts body (JSON text) to `current` and returns the new configuration, or a
/// VALIDATION_ERROR whose details.field names the offending value ("body",
/// "thresholds.responseTime.warning", "notifications.email[1]", "endpointCategories[2].routes[0]").
///
/// Merge rules: objects (the document, `thresholds`, each threshold, `notifications`) are merged
/// key by key, so whatever the body leaves out is kept. Lists are values: `endpointCategories`
/// replaces the whole list (each item needs name, target, warning, critical and routes), and
/// `notifications.email` replaces the address list. `notifications.webhook` takes a URL, or ""
/// or null to remove it; `notifications.discord` takes true/false (using the configured Discord
/// URL; true needs one) or a URL (which enables Discord and sets its URL). A threshold's `unit`
/// may be given but must equal its fixed unit. The whole body is validated before anything
/// applies: on error `current` is all there is.
std::variant<alert_config, api_error> merge_alert_config(const alert_config& current,
                                                         std::string_view body);

/// The same document for storage: the webhook URL in clear and the Discord URL as
/// `notifications.discordUrl`. It goes to SQL, never to clients.
std::string alert_config_to_storage(const alert_config& c);

/// Reads alert_config_to_storage's text back over the defaults, with the validation of
/// merge_alert_config; nullopt if the text is not a valid document. A threshold the text
/// leaves out (e.g. `queryTime` in a document stored before it existed) keeps its default.
std::optional<alert_config> alert_config_from_storage(std::string_view text);

/// Masks a webhook URL for display: scheme and host, then the first path segment when more
/// path follows it (a lone segment may be the secret itself), then "/..." — e.g.
/// "https://hooks.slack.com/services/T0/B0/X" -> "https://hooks.slack.com/services/...".
/// Userinfo, query and fragment never show. "" stays ""; an unparsable URL becomes "...".
std::string mask_webhook_url(std::string_view url);

} // namespace medianest
