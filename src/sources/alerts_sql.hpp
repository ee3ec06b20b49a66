#pragma once

#include <optional>
#include <string>
#include <vector>

#include "model/alerts.hpp"
#include "sources/sql_session.hpp"

namespace medianest::sources {

/// Stores the alert configuration document (one row).
bool save_alert_config(sql_session& db, const std::string& document, std::string& error);

/// The stored alert configuration document, if any.
bool load_alert_config(sql_session& db, std::optional<std::string>& document, std::string& error);

/// Appends an alert event to the alert log.
bool insert_alert_event(sql_session& db, const alert_event& e, std::string& error);

/// The newest `limit` events at or after `since` (unix ms), newest first.
bool list_alert_events(sql_session& db, int64_t since_ms, size_t limit,
                       std::vector<alert_event>& out, std::string& error);

/// Appends a delivery attempt to the delivery log.
bool insert_delivery(sql_session& db, const delivery_record& d, std::string& error);

/// The newest `limit` delivery attempts, newest first.
bool list_deliveries(sql_session& db, size_t limit, std::vector<delivery_record>& out,
                     std::string& error);

} // namespace medianest::sources
