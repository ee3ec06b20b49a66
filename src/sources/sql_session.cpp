#include "sources/sql_session.hpp"

#include <algorithm>
#include <cctype>
#include <thread>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/sqlite3/soci-sqlite3.h>
#include <spdlog/spdlog.h>

namespace medianest::sources {

statement_kind classify_statement(std::string_view sql) noexcept {
  while (!sql.empty() && (std::isspace(static_cast<unsigned char>(sql.front())) || sql.front() == '('))
    sql.remove_prefix(1);
  auto starts_with = [&](std::string_view word) {
    if (sql.size() < word.size())
      return false;
    for (size_t i = 0; i < word.size(); ++i)
      if (std::toupper(static_cast<unsigned char>(sql[i])) != word[i])
        return false;
    return sql.size() == word.size() || !std::isalnum(static_cast<unsigned char>(sql[word.size()]));
  };
  if (starts_with("SELECT") || starts_with("WITH") || starts_with("SHOW"))
    return statement_kind::select;
  if (starts_with("INSERT") || starts_with("REPLACE"))
    return statement_kind::insert;
  if (starts_with("UPDATE"))
    return statement_kind::update;
  if (starts_with("DELETE"))
    return statement_kind::delete_;
  return statement_kind::other;
}

std::string one_line(std::string_view message) {
  std::string out;
  for (char c : message) {
    if (c == '\n' || c == '\r' || c == '\t') {
      if (!out.empty() && out.back() != ' ')
        out += ' ';
    } else {
      out += c;
    }
  }
  while (!out.empty() && out.back() == ' ')
    out.pop_back();
  return out;
}

int64_t row_int64(const soci::row& row, std::size_t column) {
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_integer: return row.get<int>(column);
    case soci::dt_long_long: return row.get<long long>(column);
    case soci::dt_unsigned_long_long:
      return static_cast<int64_t>(row.get<unsigned long long>(column));
    case soci::dt_double: return static_cast<int64_t>(row.get<double>(column));
    default: return std::stoll(row.get<std::string>(column));
  }
}

double row_double(const soci::row& row, std::size_t column) {
  switch (row.get_properties(column).get_data_type()) {
    case soci::dt_double: return row.get<double>(column);
    case soci::dt_integer: return row.get<int>(column);
    case soci::dt_long_long: return static_cast<double>(row.get<long long>(column));
    case soci::dt_unsigned_long_long:
      return static_cast<double>(row.get<unsigned long long>(column));
    default: return std::stod(row.get<std::string>(column));
  }
}

namespace {

/// Switching a new SQLite file to WAL needs its exclusive lock, and SQLite answers "database
/// is locked" at once, past its busy handler, when another connection opening at the same
/// moment holds a shared lock (the daemon's writer, reader and alert connections all open at
/// start-up). Those connections only hold it for a moment, so retry up to the busy timeout.
void enable_wal(soci::session& session, std::chrono::milliseconds busy_timeout) {
  using namespace std::chrono_literals;
  auto deadline = std::chrono::steady_clock::now() + busy_timeout;
  for (auto pause = 1ms;; pause = std::min<std::chrono::milliseconds>(pause * 2, 100ms)) {
    try {
      session << "PRAGMA journal_mode=WAL";
      return;
    } catch (const soci::sqlite3_soci_error& e) {
      bool busy = e.result() == SQLITE_BUSY || e.result() == SQLITE_LOCKED;
      if (!busy || std::chrono::steady_clock::now() + pause > deadline)
        throw;
    }
    std::this_thread::sleep_for(pause);
  }
}

/// The server's WARNINGs into the daemon's log (one line, JSON-safe in --log-format json),
/// instead of raw text on stderr.
void log_server_notice(void*, const char* message) {
  spdlog::warn("PostgreSQL: {}", one_line(message));
}

} // namespace

sql_session::sql_session(database_target target, std::chrono::milliseconds slow_threshold)
  : target_(std::move(target)), slow_threshold_(slow_threshold) {
  // nop
}

bool sql_session::open(std::string& error) {
  if (open_)
    return true;
  try {
    if (target_.backend == database_target::kind::sqlite) {
      session_.open(*soci::factory_sqlite3(), "db=" + target_.connect + " timeout=5");
      enable_wal(session_, std::chrono::seconds{5});
      session_ << "PRAGMA synchronous=NORMAL";
      session_ << "PRAGMA foreign_keys=ON";
      // Long history reads go through the OS page cache without a read() per page.
      session_ << "PRAGMA mmap_size=268435456";
    } else {
      // SOCI's backend, linked statically over our own libpq functions (src/pq/client.cpp).
      session_.open(*soci::factory_postgresql(), target_.connect);
      auto* backend = static_cast<soci::postgresql_session_backend*>(session_.get_backend());
      PQsetNoticeProcessor(backend->conn_, log_server_notice, nullptr);
      // NOTICEs ("relation ... already exists, skipping" from every CREATE TABLE IF NOT
      // EXISTS) are not worth a log line.
      session_ << "SET client_min_messages TO WARNING";
    }
    open_ = true;
    last_used_ = std::chrono::steady_clock::now();
    return true;
  } catch (const std::exception& e) {
    error = one_line(e.what());
    close(); // a session that connected but failed its PRAGMAs must not stay half open
    return false;
  }
}

bool sql_session::is_open() const noexcept {
  return open_;
}

void sql_session::close() noexcept {
  try {
    session_.close();
  } catch (...) {
    // closing a broken connection may throw; it is closed either way
  }
  open_ = false;
}

void sql_session::close_if_stale() noexcept {
  if (!open_ || !is_postgresql())
    return;
  auto now = std::chrono::steady_clock::now();
  if (now - last_used_ < idle_check_after)
    return;
  // SOCI pings PostgreSQL with an empty statement (and never throws from is_connected): a
  // connection whose server went away while it sat idle fails here, not in the caller's query.
  if (!session_.is_connected())
    close();
  last_used_ = now;
}

bool sql_session::execute(std::string_view sql, std::string& error) {
  return run(sql, [&](soci::session& s) { s << std::string{sql}; }, error);
}

void sql_session::account(std::string_view sql, std::chrono::steady_clock::duration took) noexcept {
  last_used_ = std::chrono::steady_clock::now();
  auto us = static_cast<uint64_t>(
    std::chrono::duration_cast<std::chrono::microseconds>(took).count());
  switch (classify_statement(sql)) {
    case statement_kind::select: ++usage_.counts.selects; break;
    case statement_kind::insert: ++usage_.counts.inserts; break;
    case statement_kind::update: ++usage_.counts.updates; break;
    case statement_kind::delete_: ++usage_.counts.deletes; break;
    case statement_kind::other: break;
  }
  ++usage_.queries;
  usage_.total_time_us += us;
  usage_.busy_us += us;
  if (us >= static_cast<uint64_t>(slow_threshold_.count()))
    ++usage_.slow_queries;
}

void sql_session::note(statement_kind kind, uint64_t n) noexcept {
  switch (kind) {
    case statement_kind::select: usage_.counts.selects += n; break;
    case statement_kind::insert: usage_.counts.inserts += n; break;
    case statement_kind::update: usage_.counts.updates += n; break;
    case statement_kind::delete_: usage_.counts.deletes += n; break;
    case statement_kind::other: break;
  }
  usage_.queries += n;
}

sql_usage sql_session::take_usage() noexcept {
  auto out = usage_;
  usage_ = {};
  return out;
}

} // namespace medianest::sources
