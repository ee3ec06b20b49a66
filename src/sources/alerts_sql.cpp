#include "sources/alerts_sql.hpp"

#include <ctime>

namespace medianest::sources {

namespace {

// SOCI's SQLite backend reads a column declared INTEGER into a 32-bit int, which wraps unix
// milliseconds. A cast is an expression without a declared type, which SOCI hands over as
// text and row_int64 parses whole; PostgreSQL returns the BIGINT as it is.
std::string ms_column(std::string_view name) {
  return "CAST(" + std::string{name} + " AS BIGINT)";
}

long long ms_of(sys_ms t) {
  return t.time_since_epoch().count();
}

sys_ms from_ms(long long ms) {
  return sys_ms{std::chrono::milliseconds(ms)};
}

} // namespace

bool save_alert_config(sql_session& db, const std::string& document, std::string& error) {
  static const std::string sql =
    "INSERT INTO alert_config (id, document, updated_at) VALUES (1, :d, :t) "
    "ON CONFLICT (id) DO UPDATE SET document = excluded.document, updated_at = excluded.updated_at";
  long long now = static_cast<long long>(std::time(nullptr));
  return db.run(sql, [&](soci::session& s) { s << sql, soci::use(document), soci::use(now); },
                error);
}

bool load_alert_config(sql_session& db, std::optional<std::string>& document, std::string& error) {
  std::string text;
  soci::indicator ind = soci::i_null;
  bool ok = db.run(
    "SELECT document FROM alert_config",
    [&](soci::session& s) {
      s << "SELECT document FROM alert_config WHERE id = 1", soci::into(text, ind);
    },
    error);
  if (ok && ind == soci::i_ok)
    document = std::move(text);
  return ok;
}

bool insert_alert_event(sql_session& db, const alert_event& e, std::string& error) {
  static const std::string sql =
    "INSERT INTO alert_events (alert_id, metric, severity, state, value, threshold, started_at, "
    "resolved_at, at) VALUES (:i, :m, :s, :st, :v, :t, :sa, :ra, :at)";
  long long started = ms_of(e.started_at), at = ms_of(e.at);
  long long resolved = e.resolved_at ? ms_of(*e.resolved_at) : 0;
  soci::indicator resolved_ind = e.resolved_at ? soci::i_ok : soci::i_null;
  return db.run(
    sql,
    [&](soci::session& s) {
      s << sql, soci::use(e.id), soci::use(e.metric), soci::use(e.severity), soci::use(e.state),
        soci::use(e.value), soci::use(e.threshold), soci::use(started),
        soci::use(resolved, resolved_ind), soci::use(at);
    },
    error);
}

bool list_alert_events(sql_session& db, int64_t since_ms, size_t limit,
                       std::vector<alert_event>& out, std::string& error) {
  static const std::string sql =
    "SELECT alert_id, metric, severity, state, value, threshold, " + ms_column("started_at") + ", "
    + ms_column("resolved_at") + ", " + ms_column("at") + " "
    "FROM alert_events WHERE at >= :since ORDER BY seq DESC LIMIT :n";
  long long since = since_ms, n = static_cast<long long>(limit);
  return db.run(
    sql,
    [&](soci::session& s) {
      soci::rowset<soci::row> rows = (s.prepare << sql, soci::use(since), soci::use(n));
      for (const auto& row : rows) {
        alert_event e;
        e.id = row.get<std::string>(0);
        e.metric = row.get<std::string>(1);
        e.severity = row.get<std::string>(2);
        e.state = row.get<std::string>(3);
        e.value = row_double(row, 4);
        e.threshold = row_double(row, 5);
        e.started_at = from_ms(row_int64(row, 6));
        if (row.get_indicator(7) != soci::i_null)
          e.resolved_at = from_ms(row_int64(row, 7));
        e.at = from_ms(row_int64(row, 8));
        out.push_back(std::move(e));
      }
    },
    error);
}

bool insert_delivery(sql_session& db, const delivery_record& d, std::string& error) {
  static const std::string sql =
    "INSERT INTO deliveries (alert_id, state, severity, channel, destination, attempt, ok, status, "
    "error, at) VALUES (:i, :st, :sv, :c, :d, :a, :ok, :s, :e, :at)";
  int ok = d.ok ? 1 : 0, attempt = d.attempt, status = static_cast<int>(d.status);
  long long at = ms_of(d.at);
  return db.run(
    sql,
    [&](soci::session& s) {
      s << sql, soci::use(d.alert_id), soci::use(d.state), soci::use(d.severity),
        soci::use(d.channel), soci::use(d.destination), soci::use(attempt), soci::use(ok),
        soci::use(status), soci::use(d.error), soci::use(at);
    },
    error);
}

bool list_deliveries(sql_session& db, size_t limit, std::vector<delivery_record>& out,
                     std::string& error) {
  static const std::string sql =
    "SELECT alert_id, state, severity, channel, destination, attempt, ok, status, error, "
    + ms_column("at") + " "
    "FROM deliveries ORDER BY seq DESC LIMIT :n";
  long long n = static_cast<long long>(limit);
  return db.run(
    sql,
    [&](soci::session& s) {
      soci::rowset<soci::row> rows = (s.prepare << sql, soci::use(n));
      for (const auto& row : rows) {
        delivery_record d;
        d.alert_id = row.get<std::string>(0);
        d.state = row.get<std::string>(1);
        d.severity = row.get<std::string>(2);
        d.channel = row.get<std::string>(3);
        d.destination = row.get<std::string>(4);
        d.attempt = static_cast<int>(row_int64(row, 5));
        d.ok = row_int64(row, 6) != 0;
        d.status = static_cast<long>(row_int64(row, 7));
        d.error = row.get<std::string>(8);
        d.at = from_ms(row_int64(row, 9));
        out.push_back(std::move(d));
      }
    },
    error);
}

} // namespace medianest::sources
