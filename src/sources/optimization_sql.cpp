#include "sources/optimization_sql.hpp"

#include <algorithm>
#include <stdexcept>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "model/error.hpp"
#include "model/json.hpp"
#include "model/time.hpp"

namespace medianest::sources {

namespace {

namespace json = boost::json;

long long ms_of(sys_ms t) {
  return t.time_since_epoch().count();
}

/// A stored run the restart interrupted, read before any is changed.
struct interrupted_row {
  std::string id;
  int64_t started_ms = 0;
  std::string document;
};

/// `document` as a failed run completed at `now_ms`; throws when it is not a JSON object.
std::string failed_document(const interrupted_row& row, int64_t now_ms) {
  json::error_code ec;
  json::value doc = json::parse(row.document, ec);
  if (ec || !doc.is_object())
    throw std::runtime_error("optimization run " + row.id
                             + ": the stored document is not a JSON object");
  auto& run = doc.as_object();
  run["status"] = status_name(run_status::failed);
  run["completedAt"] = iso8601(sys_ms{std::chrono::milliseconds(now_ms)});
  // As run_json: seconds with millisecond precision, never negative.
  run["duration"] = static_cast<double>(std::max<int64_t>(0, now_ms - row.started_ms)) / 1000.0;
  if (auto* results = run.if_contains("results"); results && results->is_array()) {
    for (auto& r : results->as_array()) {
      auto* result = r.if_object();
      if (!result)
        continue;
      auto* status = result->if_contains("status");
      auto* name = status ? status->if_string() : nullptr;
      if (name && (*name == status_name(run_status::completed)
                   || *name == status_name(run_status::failed)))
        continue;
      (*result)["status"] = status_name(run_status::failed);
      (*result)["error"] = {{"code", code_name(errc::optimization_failed)},
                            {"message", interrupted_message}};
    }
  }
  return to_json(doc);
}

} // namespace

bool save_run(sql_session& db, const optimization_run& run, std::string& error) {
  static const std::string sql =
    "INSERT INTO optimization_runs (id, trigger, status, started_at, completed_at, document) "
    "VALUES (:i, :t, :s, :sa, :ca, :d) ON CONFLICT (id) DO UPDATE SET "
    "trigger = excluded.trigger, status = excluded.status, started_at = excluded.started_at, "
    "completed_at = excluded.completed_at, document = excluded.document";
  std::string status{status_name(run.status)};
  std::string document = to_json(run_json(run));
  long long started = ms_of(run.started_at);
  long long completed = run.completed_at ? ms_of(*run.completed_at) : 0;
  soci::indicator completed_ind = run.completed_at ? soci::i_ok : soci::i_null;
  return db.run(
    sql,
    [&](soci::session& s) {
      s << sql, soci::use(run.id), soci::use(run.trigger), soci::use(status),
        soci::use(started), soci::use(completed, completed_ind), soci::use(document);
    },
    error);
}

bool load_run_document(sql_session& db, const std::string& id,
                       std::optional<std::string>& document, std::string& error) {
  static const std::string sql = "SELECT document FROM optimization_runs WHERE id = :i";
  std::string text;
  soci::indicator ind = soci::i_null;
  bool ok = db.run(
    sql, [&](soci::session& s) { s << sql, soci::into(text, ind), soci::use(id); }, error);
  if (ok && ind == soci::i_ok)
    document = std::move(text);
  return ok;
}

bool recent_run_documents(sql_session& db, size_t limit, std::vector<std::string>& out,
                          std::string& error) {
  static const std::string sql =
    "SELECT document FROM optimization_runs ORDER BY started_at DESC, id DESC LIMIT :n";
  long long n = static_cast<long long>(limit);
  return db.run(
    sql,
    [&](soci::session& s) {
      soci::rowset<soci::row> rows = (s.prepare << sql, soci::use(n));
      for (const auto& row : rows)
        out.push_back(row.get<std::string>(0));
    },
    error);
}

bool mark_interrupted_runs(sql_session& db, int64_t now_ms, uint64_t& marked,
                           std::string& error) {
  static const std::string select_sql =
    "SELECT id, started_at, document FROM optimization_runs "
    "WHERE status IN ('started', 'running') ORDER BY started_at";
  static const std::string update_sql =
    "UPDATE optimization_runs SET status = :s, completed_at = :c, document = :d "
    "WHERE id = :i AND status IN ('started', 'running')";
  marked = 0;
  uint64_t changed = 0;
  bool ok = db.run(
    select_sql,
    [&](soci::session& s) {
      write_transaction tx(s, db.is_postgresql());
      std::vector<interrupted_row> rows;
      {
        // Typed into a long long: a dynamic row (row_int64) would read SQLite's INTEGER
        // column as int, which wraps unix ms.
        interrupted_row row;
        long long started = 0;
        soci::statement found = (s.prepare << select_sql, soci::into(row.id),
                                 soci::into(started), soci::into(row.document));
        found.execute(false);
        while (found.fetch()) {
          row.started_ms = started;
          rows.push_back(row);
        }
      }
      if (rows.empty())
        return; // the transaction rolls back: nothing was written
      std::string status{status_name(run_status::failed)}, id, document;
      long long completed = now_ms;
      soci::statement st = (s.prepare << update_sql, soci::use(status), soci::use(completed),
                            soci::use(document), soci::use(id));
      for (const auto& row : rows) {
        document = failed_document(row, now_ms);
        id = row.id;
        st.execute(true);
        changed += static_cast<uint64_t>(st.get_affected_rows());
      }
      tx.commit();
    },
    error);
  if (ok) {
    marked = changed;
    db.note(statement_kind::update, changed);
  }
  return ok;
}

} // namespace medianest::sources
