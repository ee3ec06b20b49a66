#pragma once

#include <filesystem>
#include <string>

namespace medianest::test {

/// A Redis server of the test's own on a free loopback port, so that a test may stop and
/// restart it without disturbing the shared one of scripts/test.sh.
class private_redis {
public:
  private_redis();
  ~private_redis();

  std::string url() const;
  uint16_t port() const noexcept {
    return port_;
  }
  /// Runs redis-cli against it with the given arguments (shell words); returns its output.
  std::string cli(const std::string& args) const;
  /// One field of INFO.
  std::string info_field(const std::string& field) const;

  void stop();
  void start();
  /// SIGKILL, a crash: returns once the server is gone and its port refuses connections.
  /// start() brings it back on the same port and directory (empty: no persistence).
  void kill();

private:
  std::filesystem::path dir_;
  uint16_t port_;
};

/// A PostgreSQL server of the test's own (initdb into a temporary directory, a free loopback
/// port, run as the postgres user when the test runs as root), so that a test may crash and
/// restart it without disturbing the shared one of scripts/test.sh. Stopped and deleted with
/// the object.
class private_postgres {
public:
  private_postgres();
  ~private_postgres();
  private_postgres(const private_postgres&) = delete;
  private_postgres& operator=(const private_postgres&) = delete;

  /// postgresql://postgres@127.0.0.1:PORT/postgres
  std::string url() const;
  uint16_t port() const noexcept {
    return port_;
  }
  /// Runs one SQL text with psql; returns its unaligned, tuples-only output and sets `status`.
  std::string psql(const std::string& sql, int* status = nullptr) const;

  /// Starts it (again) on the same port and data directory, waiting until it accepts
  /// connections; after kill() this is a crash recovery.
  void start();
  /// SIGKILL to the postmaster and every server process (a crash of the whole server):
  /// returns once they are gone and the port refuses connections.
  void kill();
  /// A fast shutdown.
  void stop();

private:
  std::string pg_ctl(const std::string& args, int* status) const;

  std::filesystem::path dir_;
  std::filesystem::path bin_;
  uint16_t port_ = 0;
};

} // namespace medianest::test
