// Our PostgreSQL client (src/pq/) against the real server that scripts/test-services.sh
// starts: each password method, the password file, TLS with and without verification, host
// lists, Unix sockets, timeouts, a server that goes away, and errors that keep their SQLSTATE.
// Everything goes through SOCI's PostgreSQL backend, as in the daemon.

#include <catch2/catch.hpp>

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/json.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "app/config.hpp"
#include "sources/sql_session.hpp"
#include "support/captured_log.hpp"
#include "support/daemon_process.hpp"
#include "support/http_client.hpp"

using namespace medianest::test;
namespace json = boost::json;

namespace {

std::string port() {
  auto p = env_or_empty("MEDIANEST_TEST_PG_PORT");
  REQUIRE_FALSE(p.empty());
  return p;
}

/// A keyword string to the test server over TCP, plus `extra`.
std::string tcp(const std::string& extra) {
  return "host=127.0.0.1 port=" + port() + " dbname=postgres " + extra;
}

std::string scalar(soci::session& s, const std::string& sql) {
  std::string value;
  s << sql, soci::into(value);
  return value;
}

/// The message of the exception a connection attempt throws, or "" when it connected.
std::string connect_error(const std::string& conninfo) {
  try {
    soci::session s(*soci::factory_postgresql(), conninfo);
    return "";
  } catch (const std::exception& e) {
    return e.what();
  }
}

std::filesystem::path temp_file(const std::string& name, const std::string& contents,
                                std::filesystem::perms perms) {
  auto path = std::filesystem::temp_directory_path() / (name + std::to_string(::getpid()));
  std::ofstream{path} << contents;
  std::filesystem::permissions(path, perms);
  return path;
}

} // namespace

TEST_CASE("pq client: SCRAM-SHA-256, md5 and cleartext passwords are accepted, wrong ones refused") {
  struct method {
    const char* user;
    const char* password;
  };
  for (auto [user, password] : {method{"medianest_scram", "scram-secret"},
                                method{"medianest_md5", "md5-secret"},
                                method{"medianest_password", "plain-secret"}}) {
    INFO(user);
    soci::session s(*soci::factory_postgresql(),
                    tcp(std::string{"user="} + user + " password=" + password));
    CHECK(scalar(s, "SELECT current_user") == user);
    auto wrong = connect_error(tcp(std::string{"user="} + user + " password=nope"));
    CHECK_THAT(wrong, Catch::Contains("password authentication failed for user \"" + std::string{user} + "\""));
    CHECK_THAT(connect_error(tcp(std::string{"user="} + user + " passfile=/nonexistent")),
               Catch::Contains("no password supplied"));
  }
}

TEST_CASE("pq client: the password comes from the password file only when it is private") {
  auto line = "127.0.0.1:" + port() + ":postgres:medianest_scram:scram-secret\n";
  auto private_file = temp_file("pgpass-private-", "# test\n*:*:*:someone:else\n" + line,
                                std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
  soci::session s(*soci::factory_postgresql(),
                  tcp("user=medianest_scram passfile=" + private_file.string()));
  CHECK(scalar(s, "SELECT current_user") == "medianest_scram");

  auto shared_file = temp_file("pgpass-shared-", line,
                               std::filesystem::perms::owner_read | std::filesystem::perms::owner_write
                                 | std::filesystem::perms::group_read | std::filesystem::perms::others_read);
  CHECK_THAT(connect_error(tcp("user=medianest_scram passfile=" + shared_file.string())),
             Catch::Contains("no password supplied"));
  std::filesystem::remove(private_file);
  std::filesystem::remove(shared_file);
}

TEST_CASE("pq client: TLS is used when asked for, verified against the CA, and refused when it cannot be verified") {
  auto ca = env_or_empty("MEDIANEST_TEST_PG_CA");
  REQUIRE_FALSE(ca.empty());
  const std::string in_tls = "SELECT ssl::text FROM pg_stat_ssl WHERE pid = pg_backend_pid()";

  // medianest_tls may connect only with TLS (hostssl), so a session proves TLS is in use.
  for (const char* mode : {"require", "prefer", "allow"}) {
    INFO(mode);
    soci::session s(*soci::factory_postgresql(), tcp(std::string{"user=medianest_tls sslmode="} + mode));
    CHECK(scalar(s, in_tls) == "true");
  }
  CHECK_THAT(connect_error(tcp("user=medianest_tls sslmode=disable")), Catch::Contains("no encryption"));

  {
    soci::session ip(*soci::factory_postgresql(),
                     tcp("user=medianest_tls sslmode=verify-full sslrootcert=" + ca));
    CHECK(scalar(ip, in_tls) == "true");
    soci::session name(*soci::factory_postgresql(),
                       "host=localhost port=" + port() + " dbname=postgres user=medianest_tls "
                       "sslmode=verify-full sslrootcert=" + ca);
    CHECK(scalar(name, "SELECT current_user") == "medianest_tls");
  }
  // A CA that did not sign the server's certificate: the handshake fails.
  auto server_cert = std::filesystem::path{ca}.parent_path() / "server.crt";
  CHECK_THAT(connect_error(tcp("user=medianest_tls sslmode=verify-ca sslrootcert=" + server_cert.string())),
             Catch::Contains("certificate verify failed"));
  CHECK_THAT(connect_error(tcp("user=medianest_tls sslmode=verify-full sslrootcert=/nonexistent/root.crt")),
             Catch::Contains("does not exist"));
  // SCRAM inside TLS.
  soci::session both(*soci::factory_postgresql(),
                     tcp("user=medianest_scram password=scram-secret sslmode=verify-full sslrootcert=" + ca));
  CHECK(scalar(both, in_tls) == "true");
}

TEST_CASE("pq client: host lists are tried in order, and Unix sockets work") {
  soci::session s(*soci::factory_postgresql(),
                  "host=127.0.0.1,127.0.0.1 port=1," + port() + " dbname=postgres user=postgres");
  CHECK(scalar(s, "SELECT inet_server_port()::text") == port());

  auto none = connect_error("host=127.0.0.1 port=1 dbname=postgres user=postgres");
  CHECK_THAT(none, Catch::Contains("connection to server at \"127.0.0.1\", port 1 failed: Connection refused"));

  auto socket_dir = env_or_empty("MEDIANEST_TEST_PG_DIR");
  soci::session local(*soci::factory_postgresql(),
                      "host=" + socket_dir + " port=" + port() + " dbname=postgres user=postgres");
  CHECK(scalar(local, "SELECT coalesce(inet_server_addr()::text, 'socket')") == "socket");
  CHECK_THAT(connect_error("host=/nonexistent port=5 user=postgres"),
             Catch::Contains("on socket \"/nonexistent/.s.PGSQL.5\" failed"));
}

TEST_CASE("pq client: connect_timeout bounds a server that accepts and never answers") {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  REQUIRE(::listen(listener, 8) == 0);
  socklen_t size = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  auto silent_port = std::to_string(ntohs(address.sin_port));

  auto start = std::chrono::steady_clock::now();
  auto error = connect_error("host=127.0.0.1 port=" + silent_port + " user=postgres connect_timeout=2");
  auto took = std::chrono::steady_clock::now() - start;
  ::close(listener);
  CHECK_THAT(error, Catch::Contains("timeout expired"));
  CHECK(took >= std::chrono::milliseconds{1900});
  CHECK(took < std::chrono::seconds{10});
}

TEST_CASE("pq client: query errors keep their SQLSTATE and the session stays usable") {
  soci::session s(*soci::factory_postgresql(), tcp("user=postgres"));
  try {
    s << "SELECT * FROM no_such_table";
    FAIL("the query should have failed");
  } catch (const soci::postgresql_soci_error& e) {
    CHECK(e.sqlstate() == "42P01");
    CHECK_THAT(e.what(), Catch::Contains("relation \"no_such_table\" does not exist"));
  }
  CHECK(scalar(s, "SELECT 'still here'") == "still here");
  // Values of every width, NULLs and many bound parameters travel intact.
  std::string big(100000, 'x');
  std::string echoed;
  soci::indicator null_indicator = soci::i_ok;
  std::string null_value;
  s << "SELECT :v", soci::use(big), soci::into(echoed);
  CHECK(echoed == big);
  s << "SELECT NULL::text", soci::into(null_value, null_indicator);
  CHECK(null_indicator == soci::i_null);
  int rows = 0;
  s << "SELECT count(*) FROM generate_series(1, 50000)", soci::into(rows);
  CHECK(rows == 50000);
  std::vector<int> many(2000);
  for (size_t i = 0; i < many.size(); ++i)
    many[i] = static_cast<int>(i);
  s << "CREATE TEMP TABLE t (v int)";
  s << "INSERT INTO t VALUES (:v)", soci::use(many);
  s << "SELECT count(*) FROM t", soci::into(rows);
  CHECK(rows == 2000);
}

TEST_CASE("pq client: a server that ends the session is reported, and a new session works") {
  soci::session victim(*soci::factory_postgresql(), tcp("user=postgres"));
  int pid = 0;
  victim << "SELECT pg_backend_pid()", soci::into(pid);
  {
    soci::session admin(*soci::factory_postgresql(), tcp("user=postgres"));
    admin << "SELECT pg_terminate_backend(" + std::to_string(pid) + ")";
  }
  std::string error;
  try {
    victim << "SELECT 1";
  } catch (const std::exception& e) {
    error = e.what();
  }
  CHECK_THAT(error, Catch::Contains("terminating connection") || Catch::Contains("server closed the connection"));
  CHECK_FALSE(victim.is_connected());
  soci::session again(*soci::factory_postgresql(), tcp("user=postgres"));
  CHECK(scalar(again, "SELECT 'back'") == "back");
}

TEST_CASE("pq client: the daemon stores history over SCRAM inside verified TLS, and refuses a misspelt option at start") {
  auto ca = env_or_empty("MEDIANEST_TEST_PG_CA");
  auto url = "postgresql://medianest_scram:scram-secret@localhost:" + port()
             + "/postgres?sslmode=verify-full&sslrootcert=" + ca;
  {
    daemon_process d{{{"--sample-interval", "0.25", "--database", url}, {}, {}}};
    http_client c;
    auto token = d.token("admin");
    std::string status;
    for (int i = 0; i < 100 && status != "ok"; ++i) {
      auto r = c.get(d.base_url() + "/api/v1/performance/metrics", {bearer(token)});
      REQUIRE(r.status == 200);
      auto db = json::parse(r.body).at("data").at("database").as_object();
      status = db.at("status").as_string().c_str();
      if (status != "ok")
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(status == "ok");
  }
  int status = 0;
  auto out = run_command("timeout 20 " + std::string{MEDIANEST_BINARY} + " serve --listen 127.0.0.1:0 --database "
                           + shell_quoted(url + "&sslmdoe=require") + " 2>&1",
                         &status);
  CHECK(status != 0);
  CHECK_THAT(out, Catch::Contains("invalid connection option \"sslmdoe\""));
}

TEST_CASE("pq client: the server's warnings reach the daemon's log as one line each") {
  {
    soci::session s(*soci::factory_postgresql(), tcp("user=postgres"));
    auto* backend = static_cast<soci::postgresql_session_backend*>(s.get_backend());
    std::vector<std::string> notices;
    PQsetNoticeProcessor(
      backend->conn_,
      [](void* into, const char* message) { static_cast<std::vector<std::string>*>(into)->push_back(message); },
      &notices);
    s << "DO $$BEGIN RAISE WARNING 'first %', 1; RAISE NOTICE 'second'; END$$";
    REQUIRE(notices.size() == 2);
    CHECK(notices[0] == "WARNING:  first 1\n");
    CHECK(notices[1] == "NOTICE:  second\n");
  }
  // The daemon's sessions: NOTICEs are not asked for, WARNINGs are logged through spdlog.
  captured_log log;
  medianest::sources::sql_session db{
    medianest::database_target{medianest::database_target::kind::postgresql, tcp("user=postgres")},
    std::chrono::seconds{10}};
  std::string error;
  REQUIRE(db.open(error));
  REQUIRE(db.execute("DO $$BEGIN RAISE NOTICE 'quiet'; RAISE WARNING 'loud\nline'; END$$", error));
  bool found = false;
  for (const auto& line : log.lines()) {
    INFO(line);
    CHECK(line.find("quiet") == std::string::npos);
    found = found || line.rfind("warning PostgreSQL: WARNING:  loud line", 0) == 0;
  }
  CHECK(found);
}

TEST_CASE("pq client: single-row mode returns each row as a result of its own, then the end") {
  PGconn* c = PQconnectdb(tcp("user=postgres").c_str());
  REQUIRE(PQstatus(c) == CONNECTION_OK);
  CHECK(PQsetSingleRowMode(c) == 0); // nothing sent yet
  REQUIRE(PQsendQuery(c, "SELECT g, 'row ' || g FROM generate_series(1, 3) g"));
  REQUIRE(PQsetSingleRowMode(c) == 1);
  std::vector<std::string> rows;
  PGresult* r = nullptr;
  while ((r = PQgetResult(c)) != nullptr) {
    if (PQresultStatus(r) == PGRES_SINGLE_TUPLE) {
      CHECK(PQntuples(r) == 1);
      CHECK(PQnfields(r) == 2);
      rows.emplace_back(PQgetvalue(r, 0, 1));
    } else {
      CHECK(PQresultStatus(r) == PGRES_TUPLES_OK);
      CHECK(PQntuples(r) == 0);
      CHECK(PQnfields(r) == 2);
      rows.emplace_back("end");
    }
    CHECK(PQsetSingleRowMode(c) == 0); // too late once results are being read
    PQclear(r);
  }
  CHECK(rows == std::vector<std::string>{"row 1", "row 2", "row 3", "end"});
  // The next command is back in the usual mode: one result with every row.
  PGresult* all = PQexec(c, "SELECT * FROM generate_series(1, 3)");
  CHECK(PQresultStatus(all) == PGRES_TUPLES_OK);
  CHECK(PQntuples(all) == 3);
  PQclear(all);
  PQfinish(c);
}
