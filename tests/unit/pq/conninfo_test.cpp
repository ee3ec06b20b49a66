#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "pq/conninfo.hpp"

using namespace medianest::pq;

namespace {

connection_options parsed(std::string_view text) {
  connection_options out;
  std::string error;
  INFO(text);
  REQUIRE(parse_conninfo(text, out, error));
  return out;
}

std::string refusal(std::string_view text) {
  connection_options out;
  std::string error;
  CHECK_FALSE(parse_conninfo(text, out, error));
  return error;
}

environment fake_env(std::map<std::string, std::string> values) {
  return [values](const char* name) -> std::optional<std::string> {
    auto it = values.find(name);
    if (it == values.end())
      return std::nullopt;
    return it->second;
  };
}

} // namespace

TEST_CASE("keyword strings: quoting, escapes, spaces around =, later keys win") {
  auto o = parsed(" host = db.local port=5433 password='a b\\'c\\\\' user=u\\ x dbname=app host=other");
  CHECK(o.get("host") == "other");
  CHECK(o.get("port") == "5433");
  CHECK(o.get("password") == "a b'c\\");
  CHECK(o.get("user") == "u x");
  CHECK(o.get("dbname") == "app");
  CHECK(parsed("").items().empty());
  CHECK_THAT(refusal("host"), Catch::Contains("missing \"=\""));
  CHECK_THAT(refusal("password='open"), Catch::Contains("unterminated"));
}

TEST_CASE("URIs: user, password, host lists, IPv6, database and parameters, percent-decoded") {
  auto o = parsed("postgresql://al%40x:p%3Aw@db1:5432,[::1]:5433,db3/my%20db?sslmode=require&application_name=mn");
  CHECK(o.get("user") == "al@x");
  CHECK(o.get("password") == "p:w");
  CHECK(o.get("host") == "db1,::1,db3");
  CHECK(o.get("port") == "5432,5433,");
  CHECK(o.get("dbname") == "my db");
  CHECK(o.get("sslmode") == "require");
  CHECK(o.get("application_name") == "mn");
  auto bare = parsed("postgres://localhost");
  CHECK(bare.get("host") == "localhost");
  CHECK(bare.find("port") == nullptr);
  CHECK(parsed("postgresql:///app?host=/tmp").get("host") == "/tmp");
  CHECK(parsed("postgresql://h/?ssl=true").get("sslmode") == "require");
  CHECK_THAT(refusal("postgresql://h/db?sslmode"), Catch::Contains("separator"));
  CHECK_THAT(refusal("postgresql://h/db%zz"), Catch::Contains("percent"));
  CHECK_THAT(refusal("postgresql://h/db%00"), Catch::Contains("%00"));
  CHECK_THAT(refusal("postgresql://[::1/db"), Catch::Contains("IPv6"));
}

TEST_CASE("unknown, unsupported and invalid options are refused, not ignored") {
  CHECK(refusal("host=h hots=x") == "invalid connection option \"hots\"");
  CHECK_THAT(refusal("postgresql://h/db?frobnicate=1"), Catch::Contains("\"frobnicate\""));
  CHECK_THAT(refusal("service=prod"), Catch::Contains("not supported by this client"));
  CHECK_THAT(refusal("requirepeer=postgres"), Catch::Contains("not supported"));
  CHECK_THAT(refusal("sslmode=sometimes"), Catch::Contains("invalid sslmode"));
  CHECK_THAT(refusal("gssencmode=require"), Catch::Contains("GSSAPI"));
  CHECK_THAT(refusal("channel_binding=require"), Catch::Contains("channel binding"));
  CHECK_THAT(refusal("target_session_attrs=primary"), Catch::Contains("target_session_attrs"));
  // Accepted: what a plain or TLS connection honours, and GSS/compression switched off.
  parsed("sslmode=verify-full sslrootcert=system gssencmode=disable channel_binding=prefer "
         "sslcompression=0 krbsrvname=postgres target_session_attrs=read-write keepalives_idle=30");
}

TEST_CASE("defaults come from PG* variables first, then libpq's built-in values") {
  connection_options o;
  apply_defaults(o, fake_env({{"PGHOST", "envhost"}, {"PGSSLMODE", "disable"}}), "osuser", "/home/u");
  CHECK(o.get("host") == "envhost");
  CHECK(o.get("port") == "5432");
  CHECK(o.get("user") == "osuser");
  CHECK(o.get("dbname") == "osuser");
  CHECK(o.get("sslmode") == "disable");
  CHECK(o.get("passfile") == "/home/u/.pgpass");
  CHECK(o.get("sslrootcert") == "/home/u/.postgresql/root.crt");

  connection_options given = parsed("host=db user=app");
  apply_defaults(given, fake_env({{"PGHOST", "envhost"}, {"PGDATABASE", "envdb"}}), "osuser", "/h");
  CHECK(given.get("host") == "db");
  CHECK(given.get("user") == "app");
  CHECK(given.get("dbname") == "envdb");
  CHECK(given.get("sslmode") == "prefer");

  connection_options none;
  apply_defaults(none, fake_env({}), "osuser", "/h");
  CHECK(none.get("host") == "/var/run/postgresql");

  // A value from the environment is checked like one from the string.
  connection_options from_env;
  apply_defaults(from_env, fake_env({{"PGSSLMODE", "sometimes"}}), "osuser", "/h");
  std::string error;
  CHECK_FALSE(check_options(from_env, error));
  CHECK_THAT(error, Catch::Contains("invalid sslmode value"));
}

TEST_CASE("host, hostaddr and port lists pair up into endpoints") {
  std::vector<endpoint> e;
  std::string error;
  REQUIRE(endpoints_of(parsed("host=a,b port=1,2"), e, error));
  REQUIRE(e.size() == 2);
  CHECK(e[1].host == "b");
  CHECK(e[1].port == "2");
  REQUIRE(endpoints_of(parsed("host=a,/tmp port=7"), e, error));
  CHECK(e[1].is_socket());
  CHECK(e[1].socket_path() == "/tmp/.s.PGSQL.7");
  CHECK(e[0].port == "7");
  REQUIRE(endpoints_of(parsed("host=a,b port=,5"), e, error));
  CHECK(e[0].port == "5432");
  REQUIRE(endpoints_of(parsed("hostaddr=127.0.0.1 port=5"), e, error));
  CHECK(e[0].hostaddr == "127.0.0.1");
  CHECK_FALSE(endpoints_of(parsed("host=a,b,c port=1,2"), e, error));
  CHECK_FALSE(endpoints_of(parsed("host=a port=70000"), e, error));
  CHECK_FALSE(endpoints_of(parsed("host=a port=5x"), e, error));
}

TEST_CASE("the password file: first matching line, wildcards, escaped colons and backslashes") {
  std::string file = "# comment\n"
                     "db:5432:app:other:nope\n"
                     "db:*:app:alice:s\\:ecret\\\\\r\n"
                     "*:*:*:alice:fallback\n";
  CHECK(password_from_passfile(file, "db", "6000", "app", "alice") == "s:ecret\\");
  CHECK(password_from_passfile(file, "elsewhere", "5432", "x", "alice") == "fallback");
  CHECK_FALSE(password_from_passfile(file, "db", "5432", "app", "bob"));
  CHECK_FALSE(password_from_passfile("truncated:line", "truncated", "line", "", ""));
}

TEST_CASE("keyword strings written by to_conninfo parse back to the same options") {
  connection_options o;
  o.set("user", "it's");
  o.set("password", "a\\b c");
  o.set("host", "h");
  auto text = to_conninfo(o);
  CHECK(text == "user='it\\'s' password='a\\\\b c' host='h'");
  auto back = parsed(text);
  CHECK(back.items() == o.items());
}
