#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include <soci/soci.h>

#include "actors/atoms.hpp"
#include "app/config.hpp"

namespace medianest::sources {

/// Which kind of statement a SQL text is, by its first keyword (WITH counts as a select).
enum class statement_kind : uint8_t { select, insert, update, delete_, other };
statement_kind classify_statement(std::string_view sql) noexcept;

/// A driver message on one line (SOCI's and libpq's span several).
std::string one_line(std::string_view message);

/// A numeric column of a dynamic row as int64, whatever type the backend chose for it
/// (SQLite reports INTEGER columns as int, PostgreSQL BIGINT as long long). Beware: SOCI reads
/// a SQLite column declared INTEGER into a 32-bit int before this sees it, so a 64-bit value
/// (unix ms) must be selected as CAST(column AS BIGINT), which arrives as text and is parsed.
int64_t row_int64(const soci::row& row, std::size_t column);

/// A numeric column of a dynamic row as double.
double row_double(const soci::row& row, std::size_t column);

/// The one instrumented place every query of the daemon goes through: a SOCI session on
/// SQLite or PostgreSQL that counts statements by kind, times them, counts the slow ones and
/// the time spent busy, and reports it all as deltas (take_usage) to the database collector.
/// Not thread-safe: each owning actor has its own. SOCI exceptions never escape it.
class sql_session {
public:
  explicit sql_session(database_target target,
                       std::chrono::milliseconds slow_threshold = std::chrono::milliseconds(100));

  /// Connects. SQLite: creates the file, WAL journal, 5 s busy timeout, foreign keys on.
  bool open(std::string& error);
  bool is_open() const noexcept;
  void close() noexcept;

  /// A PostgreSQL connection idle for `idle_check_after` or longer is pinged before it is used
  /// again; one the server no longer answers (it restarted, or ended the session) is closed,
  /// so that the caller's next open() reconnects instead of failing its first statement after
  /// an outage. Costs one round trip per use after idleness; SQLite: nothing.
  void close_if_stale() noexcept;
  static constexpr std::chrono::seconds idle_check_after{1};

  const database_target& target() const noexcept {
    return target_;
  }
  bool is_postgresql() const noexcept {
    return target_.backend == database_target::kind::postgresql;
  }

  /// Runs `body(soci::session&)` as one instrumented statement named by `sql` (its text, used
  /// for the statement kind). Returns false with `error` set when SOCI threw; a broken
  /// connection is closed so that the next open() reconnects.
  template <class F>
  bool run(std::string_view sql, F&& body, std::string& error) {
    auto started = std::chrono::steady_clock::now();
    bool ok = true;
    try {
      body(session_);
    } catch (const std::exception& e) {
      ok = false;
      error = one_line(e.what());
      if (!session_.is_connected())
        close();
    }
    account(sql, std::chrono::steady_clock::now() - started);
    return ok;
  }

  /// Executes one statement without results.
  bool execute(std::string_view sql, std::string& error);

  /// Counts `n` more statements of a kind executed inside one run() (a batch of inserts).
  void note(statement_kind kind, uint64_t n) noexcept;

  /// What this session did since the previous call.
  sql_usage take_usage() noexcept;

private:
  void account(std::string_view sql, std::chrono::steady_clock::duration took) noexcept;

  database_target target_;
  std::chrono::microseconds slow_threshold_;
  soci::session session_;
  bool open_ = false;
  /// When the connection last did something (opened, or ran a statement).
  std::chrono::steady_clock::time_point last_used_{};
  sql_usage usage_;
};

/// A transaction that reads before it writes. On SQLite it takes the write lock as it begins
/// (BEGIN IMMEDIATE, which waits up to the busy timeout): begun deferred, its first write would
/// fail at once with SQLITE_BUSY whenever another connection wrote since its first read, and
/// SQLite does not wait in that case. Rolls back unless committed.
class write_transaction {
public:
  write_transaction(soci::session& session, bool postgresql) : session_(session) {
    session_ << (postgresql ? "BEGIN" : "BEGIN IMMEDIATE");
  }

  write_transaction(const write_transaction&) = delete;
  write_transaction& operator=(const write_transaction&) = delete;

  ~write_transaction() {
    if (committed_)
      return;
    try {
      session_ << "ROLLBACK";
    } catch (...) {
      // the connection is broken; the server rolls back without us
    }
  }

  void commit() {
    session_ << "COMMIT";
    committed_ = true;
  }

private:
  soci::session& session_;
  bool committed_ = false;
};

} // namespace medianest::sources
