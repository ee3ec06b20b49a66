#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <thread>

#include <soci/soci.h>
#include <soci/sqlite3/soci-sqlite3.h>

#include "sources/sql_session.hpp"

using medianest::database_target;
using medianest::sources::classify_statement;
using medianest::sources::one_line;
using medianest::sources::sql_session;
using medianest::sources::statement_kind;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

/// A fresh directory under the system temp dir, removed with everything in it.
class temp_dir {
public:
  temp_dir() {
    std::random_device rd;
    path_ = fs::temp_directory_path() /
            ("medianest-sql-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
    fs::create_directories(path_);
  }
  ~temp_dir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const {
    return path_;
  }

private:
  fs::path path_;
};

database_target sqlite_at(const fs::path& file) {
  return database_target{database_target::kind::sqlite, file.string()};
}

/// Runs the DDL and the 3 inserts, 2 selects, 1 update, 1 delete of the usage tests.
void run_workload(sql_session& db) {
  std::string error;
  REQUIRE(db.execute("CREATE TABLE items (id INTEGER PRIMARY KEY, name TEXT NOT NULL)", error));
  REQUIRE(db.execute("INSERT INTO items (name) VALUES ('a')", error));
  REQUIRE(db.execute("  insert into items (name) values ('b')", error));
  REQUIRE(db.run(
    "INSERT INTO items (name) VALUES (:n)",
    [](soci::session& s) {
      std::string name = "c";
      s << "INSERT INTO items (name) VALUES (:n)", soci::use(name);
    },
    error));
  int count = 0;
  REQUIRE(db.run(
    "SELECT COUNT(*) FROM items",
    [&](soci::session& s) { s << "SELECT COUNT(*) FROM items", soci::into(count); }, error));
  CHECK(count == 3);
  std::string name;
  REQUIRE(db.run(
    "(SELECT name FROM items WHERE id = 2)",
    [&](soci::session& s) { s << "SELECT name FROM items WHERE id = 2", soci::into(name); },
    error));
  CHECK(name == "b");
  REQUIRE(db.execute("UPDATE items SET name = 'z' WHERE id = 1", error));
  REQUIRE(db.execute("DELETE FROM items WHERE id = 3", error));
}

} // namespace

// -- classify_statement and one_line ----------------------------------------------------

TEST_CASE("statements are classified by their first keyword") {
  CHECK(classify_statement("SELECT 1") == statement_kind::select);
  CHECK(classify_statement("WITH t AS (SELECT 1) SELECT * FROM t") == statement_kind::select);
  CHECK(classify_statement("SHOW max_connections") == statement_kind::select);
  CHECK(classify_statement("INSERT INTO t VALUES (1)") == statement_kind::insert);
  CHECK(classify_statement("REPLACE INTO t VALUES (1)") == statement_kind::insert);
  CHECK(classify_statement("UPDATE t SET a = 1") == statement_kind::update);
  CHECK(classify_statement("DELETE FROM t") == statement_kind::delete_);
  CHECK(classify_statement("CREATE TABLE t (a INT)") == statement_kind::other);
  CHECK(classify_statement("PRAGMA journal_mode") == statement_kind::other);
  CHECK(classify_statement("BEGIN") == statement_kind::other);
}

TEST_CASE("statement classification ignores case and leading whitespace and parentheses") {
  CHECK(classify_statement("select 1") == statement_kind::select);
  CHECK(classify_statement("SeLeCt 1") == statement_kind::select);
  CHECK(classify_statement("   \n\t SELECT 1") == statement_kind::select);
  CHECK(classify_statement("((SELECT 1) UNION (SELECT 2))") == statement_kind::select);
  CHECK(classify_statement(" ( select 1)") == statement_kind::select);
  CHECK(classify_statement("\twith x as (select 1) select 1") == statement_kind::select);
  CHECK(classify_statement("\n insert into t values (1)") == statement_kind::insert);
  CHECK(classify_statement("replace into t values (1)") == statement_kind::insert);
  CHECK(classify_statement("  update t set a = 1") == statement_kind::update);
  CHECK(classify_statement("\r\ndelete from t") == statement_kind::delete_);
  CHECK(classify_statement("SELECT(1)") == statement_kind::select);
  CHECK(classify_statement("select") == statement_kind::select);
  CHECK(classify_statement("DELETE\nFROM t") == statement_kind::delete_);
}

TEST_CASE("statement classification needs the whole keyword") {
  CHECK(classify_statement("SELECTED") == statement_kind::other);
  CHECK(classify_statement("selected_rows") == statement_kind::other);
  CHECK(classify_statement("WITHOUT") == statement_kind::other);
  CHECK(classify_statement("SHOWS") == statement_kind::other);
  CHECK(classify_statement("INSERTS") == statement_kind::other);
  CHECK(classify_statement("REPLACEMENT") == statement_kind::other);
  CHECK(classify_statement("UPDATED") == statement_kind::other);
  CHECK(classify_statement("DELETE2") == statement_kind::other);
  CHECK(classify_statement("SELEC") == statement_kind::other);
  CHECK(classify_statement("DEL") == statement_kind::other);
  CHECK(classify_statement("") == statement_kind::other);
  CHECK(classify_statement("   ") == statement_kind::other);
  CHECK(classify_statement("((") == statement_kind::other);
  CHECK(classify_statement("-- SELECT") == statement_kind::other);
}

TEST_CASE("one_line joins a multi line message with single spaces") {
  CHECK(one_line("first line\nsecond line") == "first line second line");
  CHECK(one_line("a\r\nb") == "a b");
  CHECK(one_line("ERROR:  relation \"x\" does not exist\nLINE 1: SELECT * FROM x\n"
                 "                      ^\n") ==
        "ERROR:  relation \"x\" does not exist LINE 1: SELECT * FROM x                       ^");
  CHECK(one_line("tab\there") == "tab here");
  CHECK(one_line("trailing\n\n\n") == "trailing");
  CHECK(one_line("\nleading") == "leading");
  CHECK(one_line("already one line") == "already one line");
  CHECK(one_line("") == "");
  CHECK(one_line("\n\r\t") == "");
}

// -- a real SQLite file -------------------------------------------------------------------

TEST_CASE("opening a sqlite session creates the file in wal mode") {
  temp_dir dir;
  auto file = dir.path() / "medianest.db";
  REQUIRE_FALSE(fs::exists(file));
  sql_session db{sqlite_at(file)};
  CHECK_FALSE(db.is_open());
  CHECK_FALSE(db.is_postgresql());
  std::string error;
  REQUIRE(db.open(error));
  CHECK(db.is_open());
  CHECK(fs::exists(file));
  // open() again is a no-op success.
  CHECK(db.open(error));

  std::string mode;
  REQUIRE(db.run(
    "PRAGMA journal_mode",
    [&](soci::session& s) { s << "PRAGMA journal_mode", soci::into(mode); }, error));
  CHECK(mode == "wal");
  int foreign_keys = -1;
  REQUIRE(db.run(
    "PRAGMA foreign_keys",
    [&](soci::session& s) { s << "PRAGMA foreign_keys", soci::into(foreign_keys); }, error));
  CHECK(foreign_keys == 1);

  // WAL is a property of the file: an independent connection sees it too.
  soci::session other{*soci::factory_sqlite3(), "db=" + file.string()};
  std::string other_mode;
  other << "PRAGMA journal_mode", soci::into(other_mode);
  CHECK(other_mode == "wal");
}

TEST_CASE("take_usage counts statements by kind and reports deltas") {
  temp_dir dir;
  sql_session db{sqlite_at(dir.path() / "usage.db")};
  std::string error;
  REQUIRE(db.open(error));
  // Opening itself runs pragmas through the raw session, which are not counted.
  auto before = db.take_usage();
  CHECK(before.queries == 0);

  run_workload(db);
  auto u = db.take_usage();
  CHECK(u.counts.inserts == 3);
  CHECK(u.counts.selects == 2);
  CHECK(u.counts.updates == 1);
  CHECK(u.counts.deletes == 1);
  // The CREATE TABLE is a query of no kind.
  CHECK(u.queries == 8);
  CHECK(u.busy_us > 0);
  CHECK(u.total_time_us > 0);

  auto again = db.take_usage();
  CHECK(again.counts.selects == 0);
  CHECK(again.counts.inserts == 0);
  CHECK(again.counts.updates == 0);
  CHECK(again.counts.deletes == 0);
  CHECK(again.queries == 0);
  CHECK(again.slow_queries == 0);
  CHECK(again.busy_us == 0);
  CHECK(again.total_time_us == 0);

  // Counting resumes after a take.
  REQUIRE(db.execute("SELECT 1", error));
  auto third = db.take_usage();
  CHECK(third.counts.selects == 1);
  CHECK(third.queries == 1);
}

TEST_CASE("a slow threshold of zero counts every query as slow") {
  temp_dir dir;
  sql_session db{sqlite_at(dir.path() / "slow.db"), 0ms};
  std::string error;
  REQUIRE(db.open(error));
  run_workload(db);
  auto u = db.take_usage();
  CHECK(u.queries == 8);
  CHECK(u.slow_queries == 8);
}

TEST_CASE("a slow threshold of ten seconds counts no query as slow") {
  temp_dir dir;
  sql_session db{sqlite_at(dir.path() / "fast.db"), 10s};
  std::string error;
  REQUIRE(db.open(error));
  run_workload(db);
  auto u = db.take_usage();
  CHECK(u.queries == 8);
  CHECK(u.slow_queries == 0);
}

TEST_CASE("a failing statement returns false with a one line error and is still counted") {
  temp_dir dir;
  auto file = dir.path() / "fail.db";
  const std::string bad_sql = "SELECT\nFROM\nWHERE";

  // The driver's own message for this statement spans several lines (it quotes the SQL).
  std::string raw;
  {
    soci::session raw_session{*soci::factory_sqlite3(), "db=" + file.string()};
    try {
      raw_session << bad_sql;
    } catch (const std::exception& e) {
      raw = e.what();
    }
  }
  REQUIRE_FALSE(raw.empty());
  REQUIRE(raw.find('\n') != std::string::npos);

  sql_session db{sqlite_at(file)};
  std::string error;
  REQUIRE(db.open(error));
  CHECK_FALSE(db.execute(bad_sql, error));
  CHECK_FALSE(error.empty());
  CHECK(error.find('\n') == std::string::npos);
  CHECK(error.find('\r') == std::string::npos);
  CHECK(error == one_line(raw));
  auto u = db.take_usage();
  CHECK(u.queries == 1);
  CHECK(u.counts.selects == 1);

  // A statement error does not break the session.
  CHECK(db.is_open());
  std::string error2;
  CHECK(db.execute("CREATE TABLE after_error (a INTEGER)", error2));
  CHECK(error2.empty());
}

TEST_CASE("a body that throws fails the run and is counted by its kind") {
  temp_dir dir;
  sql_session db{sqlite_at(dir.path() / "missing.db")};
  std::string error;
  REQUIRE(db.open(error));
  int n = 0;
  CHECK_FALSE(db.run(
    "UPDATE nowhere SET a = 1",
    [&](soci::session& s) { s << "UPDATE nowhere SET a = 1"; }, error));
  CHECK(error.find("nowhere") != std::string::npos);
  CHECK_FALSE(db.run(
    "SELECT a FROM nowhere",
    [&](soci::session& s) { s << "SELECT a FROM nowhere", soci::into(n); }, error));
  auto u = db.take_usage();
  CHECK(u.counts.updates == 1);
  CHECK(u.counts.selects == 1);
  CHECK(u.queries == 2);
}

TEST_CASE("opening a path in a missing directory fails with an error") {
  temp_dir dir;
  auto file = dir.path() / "does" / "not" / "exist" / "medianest.db";
  sql_session db{sqlite_at(file)};
  std::string error;
  CHECK_FALSE(db.open(error));
  CHECK_FALSE(error.empty());
  CHECK(error.find('\n') == std::string::npos);
  CHECK_FALSE(db.is_open());
  CHECK_FALSE(fs::exists(file));
}

TEST_CASE("a file that is not a database fails to open and close then open recovers") {
  temp_dir dir;
  auto file = dir.path() / "garbage.db";
  {
    std::ofstream out{file, std::ios::binary};
    out << std::string(4096, 'G');
  }
  sql_session db{sqlite_at(file)};
  std::string error;
  CHECK_FALSE(db.open(error));
  CHECK(error.find("not a database") != std::string::npos);
  CHECK(error.find('\n') == std::string::npos);
  CHECK_FALSE(db.is_open());
  // The database collector closes a session after a failed sample before opening it again.
  fs::remove(file);
  db.close();
  std::string retry_error;
  CHECK(db.open(retry_error));
  CHECK(retry_error.empty());
  CHECK(db.is_open());
  CHECK(db.execute("CREATE TABLE t (a INTEGER)", retry_error));
}

namespace {

/// Reads the counter, lets `interleave` run (another connection writing), then writes it back
/// incremented, all in one transaction of type Transaction. Returns SQLite's error, or "".
template <class Transaction, class... Args>
std::string read_then_write(soci::session& s, const std::function<void()>& interleave,
                            Args&&... args) {
  try {
    Transaction tx(s, std::forward<Args>(args)...);
    int value = 0;
    s << "SELECT value FROM counter", soci::into(value);
    interleave();
    s << "UPDATE counter SET value = :v", soci::use(value + 1);
    tx.commit();
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

} // namespace

TEST_CASE("a write transaction that reads first is not failed by a concurrent writer on sqlite") {
  temp_dir dir;
  auto file = dir.path() / "medianest.db";
  sql_session setup{sqlite_at(file)};
  std::string error;
  REQUIRE(setup.open(error));
  REQUIRE(setup.execute("CREATE TABLE counter (value INTEGER)", error));
  REQUIRE(setup.execute("INSERT INTO counter VALUES (0)", error));
  soci::session reader{*soci::factory_sqlite3(), "db=" + file.string() + " timeout=5"};
  soci::session writer{*soci::factory_sqlite3(), "db=" + file.string() + " timeout=5"};

  // The failure the fix is for: begun deferred, the read pins a snapshot, another connection
  // commits, and the write fails at once instead of waiting.
  auto deferred = read_then_write<soci::transaction>(
    reader, [&] { writer << "UPDATE counter SET value = value + 10"; });
  INFO(deferred);
  CHECK(deferred.find("locked") != std::string::npos);

  // BEGIN IMMEDIATE: the other writer waits for the transaction (on another thread, since it
  // blocks) and then applies its own update; neither fails and neither update is lost.
  std::string other_error;
  std::thread other;
  auto immediate = read_then_write<medianest::sources::write_transaction>(
    reader,
    [&] {
      other = std::thread([&] {
        try {
          writer << "UPDATE counter SET value = value + 100";
        } catch (const std::exception& e) {
          other_error = e.what();
        }
      });
      std::this_thread::sleep_for(50ms); // the writer is now waiting for the lock
    },
    false);
  other.join();
  CHECK(immediate.empty());
  CHECK(other_error.empty());
  int value = 0;
  writer << "SELECT value FROM counter", soci::into(value);
  CHECK(value == 10 + 1 + 100);
}
