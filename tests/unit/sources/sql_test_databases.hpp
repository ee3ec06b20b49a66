#pragma once

// Throw-away databases for the SQL unit tests: a SQLite file of its own, or a PostgreSQL
// database of its own on the test server (MEDIANEST_TEST_PG_URL, started by scripts/test.sh).

#include <catch2/catch.hpp>

#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <filesystem>
#include <random>
#include <string>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "app/config.hpp"
#include "sources/sql_session.hpp"

namespace medianest::test {

namespace fs = std::filesystem;

/// A fresh directory under the system temp dir, removed with everything in it.
class temp_dir {
public:
  temp_dir() {
    std::random_device rd;
    path_ = fs::temp_directory_path()
            / ("medianest-ts-test-" + std::to_string(rd()) + "-" + std::to_string(rd()));
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

/// A SQLite file of its own.
class sqlite_database {
public:
  medianest::database_target target() const {
    return medianest::database_target{medianest::database_target::kind::sqlite, (dir_.path() / "timeseries.db").string()};
  }

private:
  temp_dir dir_;
};

/// `url` with its database name replaced by `name` (query parameters kept).
inline std::string with_database(const std::string& url, const std::string& name) {
  auto scheme = url.find("://");
  REQUIRE(scheme != std::string::npos);
  auto query = url.find('?', scheme + 3);
  auto tail = query == std::string::npos ? std::string{} : url.substr(query);
  auto head = url.substr(0, query);
  auto slash = head.find('/', scheme + 3);
  if (slash != std::string::npos)
    head = head.substr(0, slash);
  return head + "/" + name + tail;
}

/// A PostgreSQL database of its own on the test server (MEDIANEST_TEST_PG_URL), created
/// empty and dropped WITH (FORCE) at the end.
class postgres_database {
public:
  postgres_database() {
    const char* url = std::getenv("MEDIANEST_TEST_PG_URL");
    INFO("MEDIANEST_TEST_PG_URL is not set: tests tagged [postgres] need the test PostgreSQL "
         "(source scripts/test-services.sh && start_postgres) or run with ~[postgres]");
    REQUIRE(url != nullptr);
    REQUIRE(std::string{url}.rfind("postgres", 0) == 0);
    admin_ = medianest::postgres_conninfo(url);
    name_ = "sql_unit_" + std::to_string(::getpid());
    {
      soci::session admin(*soci::factory_postgresql(), admin_);
      admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
      admin << "CREATE DATABASE " + name_;
    }
    conninfo_ = medianest::postgres_conninfo(with_database(url, name_));
  }
  ~postgres_database() {
    try {
      soci::session admin(*soci::factory_postgresql(), admin_);
      admin << "DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)";
    } catch (const std::exception& e) {
      WARN("could not drop " << name_ << ": " << e.what());
    }
  }
  postgres_database(const postgres_database&) = delete;
  postgres_database& operator=(const postgres_database&) = delete;

  medianest::database_target target() const {
    return medianest::database_target{medianest::database_target::kind::postgresql, conninfo_};
  }

private:
  std::string admin_, name_, conninfo_;
};

/// Opens a session on `target` and runs `body` with it.
inline void run_on(const medianest::database_target& target,
                   const std::function<void(medianest::sources::sql_session&)>& body) {
  medianest::sources::sql_session db{target};
  std::string error;
  bool opened = db.open(error);
  INFO(error);
  REQUIRE(opened);
  body(db);
}

/// The single integer a query returns (0 for NULL).
inline long long scalar(medianest::sources::sql_session& db, const std::string& sql) {
  long long value = -1;
  soci::indicator ind = soci::i_ok;
  std::string error;
  bool ok = db.run(sql, [&](soci::session& s) { s << sql, soci::into(value, ind); }, error);
  INFO(sql << ": " << error);
  REQUIRE(ok);
  return ind == soci::i_null ? 0 : value;
}

} // namespace medianest::test

/// One test case per backend for a behaviour `body(sql_session&)`, tagged `tags`; the
/// PostgreSQL one is also tagged [postgres].
#define ON_BOTH_SQL_BACKENDS(title, tags, body)                                                   \
  TEST_CASE(title " on sqlite", tags) {                                                           \
    medianest::test::sqlite_database database;                                                    \
    medianest::test::run_on(database.target(), body);                                             \
  }                                                                                               \
  TEST_CASE(title " on postgresql", tags "[postgres]") {                                          \
    medianest::test::postgres_database database;                                                  \
    medianest::test::run_on(database.target(), body);                                             \
  }
