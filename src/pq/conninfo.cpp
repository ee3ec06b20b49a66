#include "pq/conninfo.hpp"
#include "model/http_text.hpp"

#include <algorithm>
#include <array>
#include <charconv>

namespace medianest::pq {

namespace {

/// Every keyword libpq 15 knows. Those in `unsupported` are refused rather than ignored: each
/// asks for a check or a feature this client does not have, and silently skipping it would
/// weaken what the operator asked for.
constexpr std::array known_keywords = {
  "service", "user", "password", "passfile", "channel_binding", "connect_timeout", "dbname",
  "host", "hostaddr", "port", "client_encoding", "options", "application_name",
  "fallback_application_name", "keepalives", "keepalives_idle", "keepalives_interval",
  "keepalives_count", "tcp_user_timeout", "sslmode", "sslcompression", "sslcert", "sslkey",
  "sslpassword", "sslrootcert", "sslcrl", "sslcrldir", "sslsni", "requirepeer",
  "ssl_min_protocol_version", "ssl_max_protocol_version", "gssencmode", "krbsrvname", "gsslib",
  "target_session_attrs", "load_balance_hosts", "require_auth", "sslcertmode"};

constexpr std::array unsupported_keywords = {
  "service", "sslpassword", "sslcrl", "sslcrldir", "requirepeer", "ssl_max_protocol_version",
  "load_balance_hosts", "require_auth", "sslcertmode"};

template <class Array>
bool contains(const Array& words, std::string_view word) {
  return std::find(words.begin(), words.end(), word) != words.end();
}

bool one_of(std::string_view value, std::initializer_list<std::string_view> allowed) {
  return std::find(allowed.begin(), allowed.end(), value) != allowed.end();
}

bool is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}


bool percent_decode(std::string_view in, std::string& out, std::string& error) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '%') {
      out += in[i];
      continue;
    }
    int hi = i + 2 < in.size() ? hex_value(in[i + 1]) : -1;
    int lo = i + 2 < in.size() ? hex_value(in[i + 2]) : -1;
    if (hi < 0 || lo < 0) {
      error = "invalid percent-encoded token: \"" + std::string{in} + "\"";
      return false;
    }
    if (hi == 0 && lo == 0) {
      error = "forbidden value %00 in percent-encoded value: \"" + std::string{in} + "\"";
      return false;
    }
    out += static_cast<char>(hi * 16 + lo);
    i += 2;
  }
  return true;
}

bool parse_keyword_pairs(std::string_view text, connection_options& out, std::string& error) {
  size_t i = 0;
  auto skip_space = [&] {
    while (i < text.size() && is_space(text[i]))
      ++i;
  };
  while (true) {
    skip_space();
    if (i >= text.size())
      return true;
    size_t key_start = i;
    while (i < text.size() && text[i] != '=' && !is_space(text[i]))
      ++i;
    std::string key{text.substr(key_start, i - key_start)};
    skip_space();
    if (i >= text.size() || text[i] != '=') {
      error = "missing \"=\" after \"" + key + "\" in connection info string";
      return false;
    }
    ++i;
    skip_space();
    std::string value;
    if (i < text.size() && text[i] == '\'') {
      ++i;
      bool closed = false;
      while (i < text.size()) {
        char c = text[i++];
        if (c == '\\' && i < text.size()) {
          value += text[i++];
        } else if (c == '\'') {
          closed = true;
          break;
        } else {
          value += c;
        }
      }
      if (!closed) {
        error = "unterminated quoted string in connection info string";
        return false;
      }
    } else {
      while (i < text.size() && !is_space(text[i])) {
        if (text[i] == '\\' && i + 1 < text.size())
          ++i;
        value += text[i++];
      }
    }
    out.set(key, std::move(value));
  }
}

/// Splits "host[:port]" where host may be a bracketed IPv6 address.
bool split_host_port(std::string_view spec, std::string& host, std::string& port,
                     std::string& error) {
  std::string_view host_part = spec, port_part;
  if (!spec.empty() && spec[0] == '[') {
    auto close = spec.find(']');
    if (close == std::string_view::npos) {
      error = "end of string reached when looking for matching \"]\" in IPv6 host address in URI";
      return false;
    }
    host_part = spec.substr(1, close - 1);
    auto after = spec.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') {
        error = "unexpected character after IPv6 host address in URI";
        return false;
      }
      port_part = after.substr(1);
    }
  } else if (auto colon = spec.rfind(':'); colon != std::string_view::npos) {
    host_part = spec.substr(0, colon);
    port_part = spec.substr(colon + 1);
  }
  return percent_decode(host_part, host, error) && percent_decode(port_part, port, error);
}


std::vector<std::string> split_list(const std::string& list) {
  std::vector<std::string> out;
  size_t pos = 0;
  while (true) {
    auto comma = list.find(',', pos);
    out.push_back(list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos)
      return out;
    pos = comma + 1;
  }
}

/// The next ":"-separated field of a .pgpass line, unescaping "\:" and "\\".
std::optional<std::string> passfile_field(std::string_view line, size_t& pos, bool last) {
  std::string out;
  while (pos < line.size()) {
    char c = line[pos++];
    if (c == '\\' && pos < line.size()) {
      out += line[pos++];
    } else if (c == ':' && !last) {
      return out;
    } else {
      out += c;
    }
  }
  if (!last)
    return std::nullopt;
  return out;
}

} // namespace

const std::string* connection_options::find(std::string_view key) const {
  for (const auto& item : items_)
    if (item.first == key)
      return &item.second;
  return nullptr;
}

std::string connection_options::get(std::string_view key) const {
  auto value = find(key);
  return value ? *value : std::string{};
}

void connection_options::set(std::string_view key, std::string value) {
  for (auto& item : items_)
    if (item.first == key) {
      item.second = std::move(value);
      return;
    }
  items_.emplace_back(std::string{key}, std::move(value));
}

bool parse_uri(std::string_view uri, connection_options& out, std::string& error) {
  std::string_view rest;
  for (std::string_view prefix : {"postgresql://", "postgres://"})
    if (uri.substr(0, prefix.size()) == prefix)
      rest = uri.substr(prefix.size());
  if (rest.data() == nullptr) {
    error = "invalid URI: \"" + std::string{uri} + "\"";
    return false;
  }
  std::string_view query;
  if (auto q = rest.find('?'); q != std::string_view::npos) {
    query = rest.substr(q + 1);
    rest = rest.substr(0, q);
  }
  std::string_view path;
  bool has_path = false;
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    path = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    has_path = true;
  }
  std::string decoded;
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto userinfo = rest.substr(0, at);
    auto colon = userinfo.find(':');
    if (!percent_decode(userinfo.substr(0, colon), decoded, error))
      return false;
    if (!decoded.empty())
      out.set("user", decoded);
    if (colon != std::string_view::npos) {
      if (!percent_decode(userinfo.substr(colon + 1), decoded, error))
        return false;
      out.set("password", decoded);
    }
    rest = rest.substr(at + 1);
  }
  if (!rest.empty()) {
    std::string hosts, ports;
    bool any_port = false;
    size_t pos = 0;
    while (true) {
      auto comma = std::min(rest.find(',', pos), rest.size());
      std::string host, port;
      if (!split_host_port(rest.substr(pos, comma - pos), host, port, error))
        return false;
      if (pos > 0) {
        hosts += ',';
        ports += ',';
      }
      hosts += host;
      ports += port;
      any_port = any_port || !port.empty();
      if (comma == rest.size())
        break;
      pos = comma + 1;
    }
    if (hosts.find_first_not_of(',') != std::string::npos)
      out.set("host", hosts);
    if (any_port)
      out.set("port", ports);
  }
  if (has_path && !path.empty()) {
    if (!percent_decode(path, decoded, error))
      return false;
    out.set("dbname", decoded);
  }
  size_t pos = 0;
  while (pos < query.size()) {
    auto amp = std::min(query.find('&', pos), query.size());
    auto pair = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    if (eq == std::string_view::npos) {
      error = "missing key/value separator \"=\" in URI query parameter: \"" + std::string{pair}
              + "\"";
      return false;
    }
    std::string key, value;
    if (!percent_decode(pair.substr(0, eq), key, error)
        || !percent_decode(pair.substr(eq + 1), value, error))
      return false;
    if (key == "ssl" && value == "true") { // as libpq: JDBC's spelling
      key = "sslmode";
      value = "require";
    }
    out.set(key, std::move(value));
  }
  return true;
}

bool check_options(const connection_options& options, std::string& error) {
  for (const auto& [key, value] : options.items()) {
    if (!contains(known_keywords, key)) {
      error = "invalid connection option \"" + key + "\"";
      return false;
    }
    if (contains(unsupported_keywords, key) && !value.empty()) {
      error = "connection option \"" + key + "\" is not supported by this client";
      return false;
    }
  }
  auto sslmode = options.get("sslmode");
  if (!sslmode.empty()
      && !one_of(sslmode, {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"})) {
    error = "invalid sslmode value: \"" + sslmode + "\"";
    return false;
  }
  auto gss = options.get("gssencmode");
  if (gss == "require") {
    error = "gssencmode value \"require\" invalid when GSSAPI support is not compiled in";
    return false;
  }
  if (!gss.empty() && !one_of(gss, {"disable", "prefer"})) {
    error = "invalid gssencmode value: \"" + gss + "\"";
    return false;
  }
  auto binding = options.get("channel_binding");
  if (binding == "require") {
    error = "channel binding is required, but this client does not support it";
    return false;
  }
  if (!binding.empty() && !one_of(binding, {"disable", "prefer"})) {
    error = "invalid channel_binding value: \"" + binding + "\"";
    return false;
  }
  auto attrs = options.get("target_session_attrs");
  if (!attrs.empty() && !one_of(attrs, {"any", "read-write", "read-only"})) {
    error = "invalid target_session_attrs value: \"" + attrs + "\"";
    return false;
  }
  auto min_tls = options.get("ssl_min_protocol_version");
  if (!min_tls.empty() && !one_of(min_tls, {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"})) {
    error = "invalid ssl_min_protocol_version value: \"" + min_tls + "\"";
    return false;
  }
  return true;
}

bool parse_conninfo(std::string_view text, connection_options& out, std::string& error) {
  bool is_uri = text.substr(0, 13) == "postgresql://" || text.substr(0, 11) == "postgres://";
  bool parsed = is_uri ? parse_uri(text, out, error) : parse_keyword_pairs(text, out, error);
  return parsed && check_options(out, error);
}

std::string to_conninfo(const connection_options& options) {
  std::string out;
  for (const auto& [key, value] : options.items()) {
    if (!out.empty())
      out += ' ';
    out += key + "='";
    for (char c : value) {
      if (c == '\\' || c == '\'')
        out += '\\';
      out += c;
    }
    out += '\'';
  }
  return out;
}

void apply_defaults(connection_options& options, const environment& env,
                    const std::string& os_user, const std::string& home) {
  struct source {
    const char* key;
    const char* variable;
  };
  static constexpr source from_environment[] = {
    {"host", "PGHOST"},
    {"hostaddr", "PGHOSTADDR"},
    {"port", "PGPORT"},
    {"dbname", "PGDATABASE"},
    {"user", "PGUSER"},
    {"password", "PGPASSWORD"},
    {"passfile", "PGPASSFILE"},
    {"channel_binding", "PGCHANNELBINDING"},
    {"options", "PGOPTIONS"},
    {"application_name", "PGAPPNAME"},
    {"sslmode", "PGSSLMODE"},
    {"sslcert", "PGSSLCERT"},
    {"sslkey", "PGSSLKEY"},
    {"sslrootcert", "PGSSLROOTCERT"},
    {"sslsni", "PGSSLSNI"},
    {"ssl_min_protocol_version", "PGSSLMINPROTOCOLVERSION"},
    {"gssencmode", "PGGSSENCMODE"},
    {"connect_timeout", "PGCONNECT_TIMEOUT"},
    {"client_encoding", "PGCLIENTENCODING"},
    {"target_session_attrs", "PGTARGETSESSIONATTRS"},
  };
  for (const auto& [key, variable] : from_environment)
    if (options.find(key) == nullptr)
      if (auto value = env(variable))
        options.set(key, *value);
  auto fallback = [&](const char* key, std::string value) {
    if (options.get(key).empty())
      options.set(key, std::move(value));
  };
  fallback("host", "/var/run/postgresql");
  fallback("port", "5432");
  fallback("user", os_user);
  fallback("dbname", options.get("user"));
  fallback("sslmode", "prefer");
  fallback("passfile", home + "/.pgpass");
  fallback("sslrootcert", home + "/.postgresql/root.crt");
  fallback("sslcert", home + "/.postgresql/postgresql.crt");
  fallback("sslkey", home + "/.postgresql/postgresql.key");
  fallback("ssl_min_protocol_version", "TLSv1.2");
}

bool endpoints_of(const connection_options& options, std::vector<endpoint>& out,
                  std::string& error) {
  auto hosts = split_list(options.get("host"));
  auto addresses = options.get("hostaddr").empty() ? std::vector<std::string>{}
                                                   : split_list(options.get("hostaddr"));
  auto ports = split_list(options.get("port"));
  if (!addresses.empty() && addresses.size() != hosts.size()) {
    if (hosts.size() == 1 && hosts[0].empty())
      hosts.assign(addresses.size(), "");
    else {
      error = "could not match " + std::to_string(hosts.size()) + " host names to "
              + std::to_string(addresses.size()) + " hostaddr values";
      return false;
    }
  }
  if (ports.size() != 1 && ports.size() != hosts.size()) {
    error = "could not match " + std::to_string(ports.size()) + " port numbers to "
            + std::to_string(hosts.size()) + " hosts";
    return false;
  }
  out.clear();
  for (size_t i = 0; i < hosts.size(); ++i) {
    endpoint e{hosts[i], addresses.empty() ? "" : addresses[i], ports.size() == 1 ? ports[0] : ports[i]};
    if (e.host.empty() && e.hostaddr.empty())
      e.host = "/var/run/postgresql";
    if (e.port.empty())
      e.port = "5432";
    int port = 0;
    auto [end, ec] = std::from_chars(e.port.data(), e.port.data() + e.port.size(), port);
    if (ec != std::errc{} || end != e.port.data() + e.port.size() || port < 1 || port > 65535) {
      error = "invalid port number: \"" + e.port + "\"";
      return false;
    }
    out.push_back(std::move(e));
  }
  return true;
}

std::optional<std::string> password_from_passfile(std::string_view contents,
                                                  std::string_view host, std::string_view port,
                                                  std::string_view database,
                                                  std::string_view user) {
  size_t line_start = 0;
  while (line_start < contents.size()) {
    auto line_end = std::min(contents.find('\n', line_start), contents.size());
    auto line = contents.substr(line_start, line_end - line_start);
    line_start = line_end + 1;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (line.empty() || line[0] == '#')
      continue;
    size_t pos = 0;
    std::string_view wanted[] = {host, port, database, user};
    bool matches = true;
    for (auto want : wanted) {
      auto field = passfile_field(line, pos, false);
      if (!field || (*field != "*" && *field != want)) {
        matches = false;
        break;
      }
    }
    if (matches)
      return passfile_field(line, pos, true);
  }
  return std::nullopt;
}

} // namespace medianest::pq
