#pragma once
// libpq's connection strings, for our PostgreSQL client (pq/client.cpp): "key=value" pairs or
// a postgresql:// URI, the PG* environment variables and built-in defaults, the host list,
// and the password file. Pure functions; no I/O but what the caller hands in.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medianest::pq {

/// Keyword/value pairs in the order given; a later duplicate replaces the earlier value.
class connection_options {
public:
  const std::string* find(std::string_view key) const;
  /// The value, or "" when absent.
  std::string get(std::string_view key) const;
  void set(std::string_view key, std::string value);
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

private:
  std::vector<std::pair<std::string, std::string>> items_;
};

/// Parses keyword/value pairs ("host=db port=5432 password='a b\\'c'") or a URI
/// ("postgresql://user:pw@db:5432,db2/app?sslmode=require"), and checks every keyword:
/// unknown ones and those this client does not implement are refused with libpq's wording.
bool parse_conninfo(std::string_view text, connection_options& out, std::string& error);

/// Refuses unknown keywords, those this client does not implement, and invalid values of the
/// ones it checks (sslmode, gssencmode, channel_binding, target_session_attrs, …), in libpq's
/// wording. parse_conninfo calls it; PQconnectdb again after the PG* variables are applied.
bool check_options(const connection_options& options, std::string& error);

/// A postgresql:// or postgres:// URI as keyword/value pairs (percent-decoded).
bool parse_uri(std::string_view uri, connection_options& out, std::string& error);

/// The pairs as a keyword string, each value single-quoted with \ and ' escaped.
std::string to_conninfo(const connection_options& options);

using environment = std::function<std::optional<std::string>(const char*)>;

/// Fills in what `options` leaves out from PGHOST, PGPORT, PGUSER, … and then from libpq's
/// built-in defaults (socket directory /var/run/postgresql, port 5432, the OS user).
void apply_defaults(connection_options& options, const environment& env,
                    const std::string& os_user, const std::string& home);

/// One place to connect to: a TCP host (and optional numeric address) or a Unix socket.
struct endpoint {
  std::string host;     ///< as written: a name, an address, or a socket directory
  std::string hostaddr; ///< numeric address to connect to instead of resolving `host`
  std::string port;
  bool is_socket() const { return !host.empty() && (host[0] == '/' || host[0] == '@'); }
  std::string socket_path() const { return host + "/.s.PGSQL." + port; }
};

/// host, hostaddr and port lists ("a,b" with "5432,5433", or one port for all) as endpoints.
bool endpoints_of(const connection_options& options, std::vector<endpoint>& out,
                  std::string& error);

/// The password for a connection from a .pgpass file's text (host:port:database:user:password,
/// "*" matching anything, "\" escaping ":" and "\"), or nothing when no line matches.
std::optional<std::string> password_from_passfile(std::string_view contents,
                                                  std::string_view host, std::string_view port,
                                                  std::string_view database,
                                                  std::string_view user);

} // namespace medianest::pq
