// Our PostgreSQL client: the part of libpq's C API that SOCI's PostgreSQL backend calls, over
// protocol 3.0 (pq/wire.hpp), with libpq's connection strings (pq/conninfo.hpp), password,
// md5 and SCRAM-SHA-256 authentication (pq/auth.hpp) and TLS on demand (pq/tls.hpp).
//
// Why not libpq: Debian's libpq pulls in OpenSSL, Kerberos, LDAP, GnuTLS and their
// dependencies, 21 libraries that cost every daemon ~4.5 MB of resident memory though it uses
// none of them on a plain connection (docs/benchmarks.md, "Overhead"). SOCI's backend links
// statically against these functions instead; their signatures come from libpq-fe.h itself.
//
// Like libpq, every call blocks; the daemon makes them only from its detached database actors.
// Not implemented, and refused with an error rather than imitated: COPY and large objects (the
// daemon uses neither), GSSAPI and SSPI authentication, channel binding.

#include <libpq-fe.h>

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pwd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "pq/auth.hpp"
#include "pq/conninfo.hpp"
#include "pq/tls.hpp"
#include "pq/wire.hpp"

using medianest::pq::backend_message;
using medianest::pq::connection_options;
using medianest::pq::endpoint;
using medianest::pq::message_reader;
using medianest::pq::message_writer;

struct pg_result {
  struct column {
    std::string name;
    Oid table = 0;
    int number = 0;
    Oid type = 0;
    int size = 0;
    int modifier = -1;
    int format = 0;
  };

  ExecStatusType status = PGRES_EMPTY_QUERY;
  std::vector<column> columns;
  int rows = 0;
  std::string cells;            ///< every value, each followed by a NUL
  std::vector<size_t> offsets;  ///< per cell, row-major
  std::vector<int32_t> lengths; ///< per cell; -1 for NULL
  std::string command_status;
  std::vector<std::pair<char, std::string>> error_fields;
  std::string error_message;
};

struct pg_conn {
  ConnStatusType status = CONNECTION_BAD;
  std::string error;
  int fd = -1;
  std::unique_ptr<medianest::pq::tls_session> tls;
  std::string in;
  size_t in_pos = 0;
  std::string out;
  bool busy = false;             ///< a command was sent and its ReadyForQuery not yet read
  bool awaiting_prepare = false; ///< the command is a Parse alone: ParseComplete is its result
  bool attempt_used_tls = false; ///< whether the last connection attempt got as far as TLS
  bool results_started = false;  ///< PQgetResult was called for the current command
  bool single_row = false;       ///< PQsetSingleRowMode: each row is a result of its own
  std::unique_ptr<pg_result> building;
  std::vector<std::pair<std::string, std::string>> parameters;
  int server_version = 0;
  PQnoticeProcessor notice_processor = nullptr; ///< null: libpq's default, text on stderr
  void* notice_argument = nullptr;
};

namespace {

constexpr char server_closed_message[] =
  "server closed the connection unexpectedly\n"
  "\tThis probably means the server terminated abnormally\n"
  "\tbefore or while processing the request.\n";

constexpr int protocol_3_0 = 196608;
constexpr int ssl_request_code = 80877103;

// -- transport ------------------------------------------------------------------------------

void close_socket(pg_conn& c) {
  c.tls.reset();
  if (c.fd >= 0)
    ::close(c.fd);
  c.fd = -1;
  c.in.clear();
  c.in_pos = 0;
  c.out.clear();
  c.busy = false;
  c.awaiting_prepare = false;
  c.building.reset();
}

/// Marks the connection broken: later calls fail at once with this message.
void fail_connection(pg_conn& c, std::string message) {
  close_socket(c);
  c.status = CONNECTION_BAD;
  c.error = std::move(message);
}

bool flush(pg_conn& c) {
  size_t sent = 0;
  while (sent < c.out.size()) {
    ssize_t n;
    std::string tls_error;
    if (c.tls)
      n = c.tls->write(c.out.data() + sent, c.out.size() - sent, tls_error);
    else
      n = ::send(c.fd, c.out.data() + sent, c.out.size() - sent, MSG_NOSIGNAL);
    if (n < 0 && !c.tls && errno == EINTR)
      continue;
    if (n <= 0) {
      auto reason = c.tls ? tls_error : std::string{std::strerror(errno)};
      fail_connection(c, "could not send data to server: " + reason + "\n");
      return false;
    }
    sent += static_cast<size_t>(n);
  }
  c.out.clear();
  return true;
}

bool receive_more(pg_conn& c) {
  if (c.in_pos > 0 && c.in_pos * 2 >= c.in.size()) {
    c.in.erase(0, c.in_pos);
    c.in_pos = 0;
  }
  char chunk[16384];
  while (true) {
    ssize_t n;
    std::string tls_error;
    if (c.tls)
      n = c.tls->read(chunk, sizeof chunk, tls_error);
    else
      n = ::recv(c.fd, chunk, sizeof chunk, 0);
    if (n > 0) {
      c.in.append(chunk, static_cast<size_t>(n));
      return true;
    }
    if (n < 0 && !c.tls && errno == EINTR)
      continue;
    if (n < 0 && !c.tls && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      fail_connection(c, "timeout expired\n");
      return false;
    }
    if (n == 0) {
      fail_connection(c, server_closed_message);
      return false;
    }
    fail_connection(c, "could not receive data from server: "
                         + (c.tls ? tls_error : std::string{std::strerror(errno)}) + "\n");
    return false;
  }
}

/// The next whole message from the server. Its body points into the input buffer: valid until
/// the next read.
bool read_message(pg_conn& c, backend_message& msg) {
  while (true) {
    size_t consumed = 0;
    auto status = medianest::pq::next_message(std::string_view{c.in}.substr(c.in_pos), msg, consumed);
    if (status == medianest::pq::frame_status::complete) {
      c.in_pos += consumed;
      return true;
    }
    if (status == medianest::pq::frame_status::invalid) {
      fail_connection(c, "invalid message length from server: lost synchronization with server\n");
      return false;
    }
    if (!receive_more(c))
      return false;
  }
}

// -- messages from the server ---------------------------------------------------------------

std::vector<std::pair<char, std::string>> parse_error_fields(std::string_view body) {
  std::vector<std::pair<char, std::string>> fields;
  message_reader r{body};
  while (r.ok()) {
    char code = r.byte();
    if (code == '\0')
      break;
    fields.emplace_back(code, std::string{r.cstring()});
  }
  return fields;
}

const std::string* error_field(const std::vector<std::pair<char, std::string>>& fields, char code) {
  for (const auto& [c, value] : fields)
    if (c == code)
      return &value;
  return nullptr;
}

/// libpq's default rendering: "ERROR:  message\nDETAIL:  …\nHINT:  …\nCONTEXT:  …\n", the
/// CONTEXT line for errors only (libpq's PQSHOW_CONTEXT_ERRORS), not for notices.
std::string format_error(const std::vector<std::pair<char, std::string>>& fields,
                         bool with_context = true) {
  std::string out;
  auto severity = error_field(fields, PG_DIAG_SEVERITY);
  out += severity ? *severity : std::string{"ERROR"};
  out += ":  ";
  if (auto primary = error_field(fields, PG_DIAG_MESSAGE_PRIMARY))
    out += *primary;
  out += '\n';
  for (auto [code, label] : {std::pair{PG_DIAG_MESSAGE_DETAIL, "DETAIL:  "},
                             std::pair{PG_DIAG_MESSAGE_HINT, "HINT:  "},
                             std::pair{PG_DIAG_CONTEXT, "CONTEXT:  "}})
    if (auto value = error_field(fields, static_cast<char>(code));
        value && (with_context || code != PG_DIAG_CONTEXT))
      out += label + *value + '\n';
  return out;
}

void handle_notice(const pg_conn& c, std::string_view body) {
  auto text = format_error(parse_error_fields(body), false);
  if (c.notice_processor)
    c.notice_processor(c.notice_argument, text.c_str());
  else // libpq's default notice processor
    std::fputs(text.c_str(), stderr);
}

void handle_parameter_status(pg_conn& c, std::string_view body) {
  message_reader r{body};
  std::string name{r.cstring()};
  std::string value{r.cstring()};
  if (!r.ok())
    return;
  if (name == "server_version") {
    // "15.5 (Debian 15.5-0+deb12u1)" → 150005; "9.6.24" → 90624.
    int major = 0, minor = 0, patch = 0;
    std::sscanf(value.c_str(), "%d.%d.%d", &major, &minor, &patch);
    c.server_version = major >= 10 ? major * 10000 + minor : (major * 100 + minor) * 100 + patch;
  }
  for (auto& [n, v] : c.parameters)
    if (n == name) {
      v = std::move(value);
      return;
    }
  c.parameters.emplace_back(std::move(name), std::move(value));
}

std::unique_ptr<pg_result> make_result(ExecStatusType status) {
  auto r = std::make_unique<pg_result>();
  r->status = status;
  return r;
}

std::unique_ptr<pg_result> error_result(const std::string& message) {
  auto r = make_result(PGRES_FATAL_ERROR);
  r->error_message = message;
  return r;
}

bool read_row_description(pg_result& r, std::string_view body) {
  message_reader in{body};
  int count = in.int16();
  for (int i = 0; i < count && in.ok(); ++i) {
    pg_result::column col;
    col.name = std::string{in.cstring()};
    col.table = static_cast<Oid>(in.int32());
    col.number = in.int16();
    col.type = static_cast<Oid>(in.int32());
    col.size = in.int16();
    col.modifier = in.int32();
    col.format = in.int16();
    r.columns.push_back(std::move(col));
  }
  return in.ok() && count >= 0;
}

bool read_data_row(pg_result& r, std::string_view body) {
  message_reader in{body};
  auto count = static_cast<size_t>(static_cast<uint16_t>(in.int16()));
  if (count != r.columns.size())
    return false;
  for (size_t i = 0; i < count && in.ok(); ++i) {
    int32_t length = in.int32();
    r.offsets.push_back(r.cells.size());
    r.lengths.push_back(length < 0 ? -1 : length);
    if (length > 0)
      r.cells.append(in.bytes(static_cast<size_t>(length)));
    r.cells += '\0';
  }
  ++r.rows;
  return in.ok();
}

/// Reads until the current command's next result is complete; null once ReadyForQuery came.
std::unique_ptr<pg_result> next_result(pg_conn& c) {
  while (c.busy) {
    backend_message msg;
    if (!read_message(c, msg))
      return error_result(c.error);
    switch (msg.type) {
      case 'T':
        c.building = make_result(PGRES_TUPLES_OK);
        if (!read_row_description(*c.building, msg.body)) {
          fail_connection(c, "invalid RowDescription message from server\n");
          return error_result(c.error);
        }
        break;
      case 'D': {
        // In single-row mode each row is a PGRES_SINGLE_TUPLE result, and the TUPLES_OK result
        // at CommandComplete has the columns and no row.
        if (!c.building) {
          fail_connection(c, "unexpected DataRow message from server\n");
          return error_result(c.error);
        }
        std::unique_ptr<pg_result> row;
        if (c.single_row) {
          row = make_result(PGRES_SINGLE_TUPLE);
          row->columns = c.building->columns;
        }
        if (!read_data_row(row ? *row : *c.building, msg.body)) {
          fail_connection(c, "unexpected or invalid DataRow message from server\n");
          return error_result(c.error);
        }
        if (row)
          return row;
        break;
      }
      case 'C':
      case 's': {
        auto r = c.building ? std::move(c.building) : make_result(PGRES_COMMAND_OK);
        if (msg.type == 'C')
          r->command_status = std::string{message_reader{msg.body}.cstring()};
        return r;
      }
      case 'I':
        c.building.reset();
        return make_result(PGRES_EMPTY_QUERY);
      case 'E': {
        c.building.reset();
        auto r = make_result(PGRES_FATAL_ERROR);
        r->error_fields = parse_error_fields(msg.body);
        r->error_message = format_error(r->error_fields);
        c.error = r->error_message;
        c.awaiting_prepare = false;
        return r;
      }
      case '1':
        if (c.awaiting_prepare) {
          c.awaiting_prepare = false;
          return make_result(PGRES_COMMAND_OK);
        }
        break;
      case '2': // BindComplete
      case '3': // CloseComplete
      case 'n': // NoData: the statement returns no rows
      case 't': // ParameterDescription
      case 'A': // NotificationResponse: LISTEN is not used
        break;
      case 'N':
        handle_notice(c, msg.body);
        break;
      case 'S':
        handle_parameter_status(c, msg.body);
        break;
      case 'Z':
        c.busy = false;
        c.single_row = false;
        c.building.reset();
        return nullptr;
      case 'G':
      case 'H':
      case 'W':
        fail_connection(c, "COPY is not supported by this client\n");
        return error_result(c.error);
      default:
        fail_connection(c, std::string{"unexpected message type \""} + msg.type
                             + "\" from server: lost synchronization with server\n");
        return error_result(c.error);
    }
  }
  return nullptr;
}

// -- sending commands -----------------------------------------------------------------------

/// Whether a new command may be sent; as libpq, results of an earlier command nobody read are
/// discarded first.
bool ready_to_send(pg_conn* c) {
  if (!c)
    return false;
  while (c->busy && c->status == CONNECTION_OK)
    next_result(*c);
  if (c->status != CONNECTION_OK) {
    if (c->error.empty())
      c->error = "no connection to the server\n";
    return false;
  }
  c->error.clear();
  return true;
}

bool send_command(pg_conn& c) {
  if (!flush(c))
    return false;
  c.busy = true;
  c.results_started = false;
  c.single_row = false;
  return true;
}

void append_parse(std::string& out, const char* name, const char* query, int n_params,
                  const Oid* types) {
  message_writer w{out, 'P'};
  w.cstring(name ? name : "").cstring(query ? query : "");
  w.int16(static_cast<int16_t>(types ? n_params : 0));
  for (int i = 0; types && i < n_params; ++i)
    w.int32(static_cast<int32_t>(types[i]));
}

void append_bind_describe_execute(std::string& out, const char* statement, int n_params,
                                  const char* const* values, const int* lengths,
                                  const int* formats, int result_format) {
  {
    message_writer w{out, 'B'};
    w.cstring("").cstring(statement ? statement : "");
    w.int16(static_cast<int16_t>(formats ? n_params : 0));
    for (int i = 0; formats && i < n_params; ++i)
      w.int16(static_cast<int16_t>(formats[i]));
    w.int16(static_cast<int16_t>(n_params));
    for (int i = 0; i < n_params; ++i) {
      const char* value = values ? values[i] : nullptr;
      if (!value) {
        w.int32(-1);
        continue;
      }
      bool binary = formats && formats[i] == 1;
      size_t length = binary ? static_cast<size_t>(lengths ? lengths[i] : 0) : std::strlen(value);
      w.int32(static_cast<int32_t>(length)).bytes({value, length});
    }
    w.int16(1).int16(static_cast<int16_t>(result_format));
  }
  message_writer{out, 'D'}.bytes("P").cstring("");
  message_writer{out, 'E'}.cstring("").int32(0);
  message_writer{out, 'S'};
}

bool valid_parameter_count(pg_conn& c, int n_params) {
  if (n_params >= 0 && n_params <= 65535)
    return true;
  c.error = "number of parameters must be between 0 and 65535\n";
  return false;
}

/// libpq's PQexecFinish: the last result, errors of several statements merged.
PGresult* finish_exec(pg_conn& c) {
  std::unique_ptr<pg_result> last;
  while (auto r = next_result(c)) {
    if (last && last->status == PGRES_FATAL_ERROR && r->status == PGRES_FATAL_ERROR) {
      last->error_message += r->error_message;
      continue;
    }
    last = std::move(r);
    if (c.status != CONNECTION_OK)
      break;
  }
  return last.release();
}

// -- connecting -----------------------------------------------------------------------------

/// The effective user's passwd entry, with getpwuid_r: getpwuid's static buffer is shared by
/// every thread, and the daemon's database actors connect concurrently (ThreadSanitizer saw it).
struct passwd_entry {
  std::string name;
  std::string home;
};

passwd_entry effective_user() {
  passwd entry{};
  passwd* found = nullptr;
  std::vector<char> buffer(16384);
  if (getpwuid_r(geteuid(), &entry, buffer.data(), buffer.size(), &found) != 0 || !found)
    return {};
  return {found->pw_name ? found->pw_name : "", found->pw_dir ? found->pw_dir : ""};
}

std::string home_directory(const passwd_entry& user) {
  if (const char* home = std::getenv("HOME"); home && *home)
    return home;
  return user.home;
}

std::optional<std::string> environment_value(const char* name) {
  if (const char* value = std::getenv(name))
    return std::string{value};
  return std::nullopt;
}

int int_option(const connection_options& o, const char* key, int fallback) {
  auto text = o.get(key);
  int value = fallback;
  if (!text.empty())
    std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

/// The whole connection attempt to one host must finish within connect_timeout (libpq's
/// minimum of 2 s applies); the socket's timeouts enforce it on every read and write.
struct attempt_deadline {
  std::optional<std::chrono::steady_clock::time_point> at;

  int remaining_ms() const {
    if (!at)
      return -1;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      *at - std::chrono::steady_clock::now());
    return static_cast<int>(std::max<int64_t>(left.count(), 1));
  }
};

void set_socket_timeouts(int fd, int ms) {
  timeval tv{};
  if (ms > 0) {
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
  }
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
}

/// A non-blocking connect bounded by the deadline; the socket is left blocking.
bool connect_socket(int fd, const sockaddr* address, socklen_t size,
                    const attempt_deadline& deadline, std::string& reason) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  int rc = ::connect(fd, address, size);
  if (rc < 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int ready;
    do {
      ready = ::poll(&p, 1, deadline.remaining_ms());
    } while (ready < 0 && errno == EINTR);
    if (ready == 0) {
      reason = "timeout expired";
      return false;
    }
    int so_error = 0;
    socklen_t len = sizeof so_error;
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_error, &len);
    rc = so_error == 0 ? 0 : -1;
    errno = so_error;
  }
  if (rc < 0) {
    reason = errno == 0 ? "connection failed" : std::strerror(errno);
    return false;
  }
  fcntl(fd, F_SETFL, flags);
  return true;
}

void set_tcp_options(int fd, const connection_options& o) {
  int one = 1;
  setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (int_option(o, "keepalives", 1) == 0)
    return;
  setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
  if (int idle = int_option(o, "keepalives_idle", 0); idle > 0)
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
  if (int interval = int_option(o, "keepalives_interval", 0); interval > 0)
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
  if (int count = int_option(o, "keepalives_count", 0); count > 0)
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
  if (int user_timeout = int_option(o, "tcp_user_timeout", 0); user_timeout > 0)
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
}

/// Opens the socket to one endpoint; on failure `error` gets libpq's message for it.
bool open_socket(pg_conn& c, const endpoint& e, const connection_options& o,
                 const attempt_deadline& deadline, std::string& error) {
  if (e.is_socket() && e.hostaddr.empty()) {
    auto path = e.socket_path();
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (path.size() >= sizeof address.sun_path) {
      error = "Unix-domain socket path \"" + path + "\" is too long\n";
      return false;
    }
    std::memcpy(address.sun_path, path.c_str(), path.size() + 1);
    // An abstract-namespace name (Linux, as libpq) is exactly its bytes: no NUL counted.
    bool abstract = path[0] == '@';
    if (abstract)
      address.sun_path[0] = '\0';
    auto size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + path.size() + (abstract ? 0 : 1));
    c.fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    std::string reason;
    if (c.fd >= 0
        && connect_socket(c.fd, reinterpret_cast<sockaddr*>(&address), size, deadline, reason))
      return true;
    error = "connection to server on socket \"" + path + "\" failed: " + reason
            + "\n\tIs the server running locally and accepting connections on that socket?\n";
    close_socket(c);
    return false;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  if (!e.hostaddr.empty())
    hints.ai_flags = AI_NUMERICHOST;
  const auto& name = e.hostaddr.empty() ? e.host : e.hostaddr;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(name.c_str(), e.port.c_str(), &hints, &found); rc != 0) {
    error = (e.hostaddr.empty() ? "could not translate host name \"" : "could not parse network address \"")
            + name + "\" to address: " + gai_strerror(rc) + "\n";
    return false;
  }
  std::unique_ptr<addrinfo, decltype(&freeaddrinfo)> addresses{found, freeaddrinfo};
  for (auto* a = found; a; a = a->ai_next) {
    char ip[INET6_ADDRSTRLEN] = "";
    getnameinfo(a->ai_addr, a->ai_addrlen, ip, sizeof ip, nullptr, 0, NI_NUMERICHOST);
    c.fd = ::socket(a->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    std::string reason = c.fd < 0 ? std::strerror(errno) : "";
    if (c.fd >= 0 && connect_socket(c.fd, a->ai_addr, a->ai_addrlen, deadline, reason)) {
      set_tcp_options(c.fd, o);
      return true;
    }
    close_socket(c);
    auto shown = e.host.empty() ? std::string{ip} : e.host;
    error += "connection to server at \"" + shown + "\""
             + (shown != ip ? std::string{" ("} + ip + ")" : std::string{}) + ", port " + e.port
             + " failed: " + reason
             + "\n\tIs the server running on that host and accepting TCP/IP connections?\n";
  }
  return false;
}

std::string server_label(const endpoint& e) {
  if (e.is_socket() && e.hostaddr.empty())
    return "connection to server on socket \"" + e.socket_path() + "\" failed: ";
  return "connection to server at \"" + (e.host.empty() ? e.hostaddr : e.host) + "\", port "
         + e.port + " failed: ";
}

/// Asks for TLS with an SSLRequest; false with `error` when TLS was needed and not had.
/// `tls_required` is whether a server that declines must be refused.
bool negotiate_tls(pg_conn& c, const endpoint& e, const connection_options& o, bool tls_required,
                   std::string& error) {
  { message_writer{c.out, 0}.int32(ssl_request_code); }
  if (!flush(c)) {
    error = c.error;
    return false;
  }
  char answer = 0;
  ssize_t n;
  do {
    n = ::recv(c.fd, &answer, 1, 0);
  } while (n < 0 && errno == EINTR);
  if (n != 1) {
    error = n == 0                                     ? std::string{server_closed_message}
            : errno == EAGAIN || errno == EWOULDBLOCK ? std::string{"timeout expired\n"}
            : std::string{"could not receive data from server: "} + std::strerror(errno) + "\n";
    return false;
  }
  if (answer == 'N') {
    if (!tls_required)
      return true;
    error = "server does not support SSL, but SSL was required\n";
    return false;
  }
  if (answer != 'S') {
    error = std::string{"received invalid response to SSL negotiation: "} + answer + "\n";
    return false;
  }
  medianest::pq::tls_settings settings{o.get("sslmode"),
                                       e.host,
                                       o.get("sslrootcert"),
                                       o.get("sslcert"),
                                       o.get("sslkey"),
                                       o.get("ssl_min_protocol_version"),
                                       o.get("sslsni") != "0"};
  c.attempt_used_tls = true;
  c.tls = medianest::pq::start_tls(c.fd, settings, error);
  return c.tls != nullptr;
}

std::optional<std::string> password_for(const endpoint& e, const connection_options& o) {
  if (auto password = o.find("password"); password && !password->empty())
    return *password;
  auto path = o.get("passfile");
  struct stat st{};
  if (path.empty() || ::stat(path.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
    return std::nullopt;
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    std::fprintf(stderr,
                 "WARNING: password file \"%s\" has group or world access; permissions should be "
                 "u=rw (0600) or less\n",
                 path.c_str());
    return std::nullopt;
  }
  std::ifstream file{path};
  std::stringstream contents;
  contents << file.rdbuf();
  // As libpq: a socket connection matches "localhost" in the file.
  auto host = e.is_socket() ? std::string{"localhost"} : e.host.empty() ? e.hostaddr : e.host;
  return medianest::pq::password_from_passfile(contents.str(), host, e.port, o.get("dbname"),
                                               o.get("user"));
}

void send_password_message(pg_conn& c, std::string_view payload, bool add_nul) {
  message_writer w{c.out, 'p'};
  w.bytes(payload);
  if (add_nul)
    w.bytes(std::string_view{"\0", 1});
}

const char* auth_method_name(int code) {
  switch (code) {
    case 2: return "Kerberos V5";
    case 7: return "GSSAPI";
    case 9: return "SSPI";
    default: return "unknown";
  }
}

/// Startup, authentication and the wait for ReadyForQuery.
bool start_session(pg_conn& c, const endpoint& e, const connection_options& o, std::string& error) {
  {
    message_writer w{c.out, 0};
    w.int32(protocol_3_0);
    w.cstring("user").cstring(o.get("user"));
    w.cstring("database").cstring(o.get("dbname"));
    for (const char* key : {"options", "client_encoding"})
      if (auto value = o.get(key); !value.empty())
        w.cstring(key).cstring(value);
    auto app = o.get("application_name").empty() ? o.get("fallback_application_name")
                                                  : o.get("application_name");
    if (!app.empty())
      w.cstring("application_name").cstring(app);
    w.bytes(std::string_view{"\0", 1});
  }
  if (!flush(c)) {
    error = c.error;
    return false;
  }
  std::optional<medianest::pq::scram_client> scram;
  auto fail = [&](std::string message) {
    error = server_label(e) + message;
    return false;
  };
  while (true) {
    backend_message msg;
    if (!read_message(c, msg))
      return fail(c.error);
    message_reader in{msg.body};
    switch (msg.type) {
      case 'E':
        return fail(format_error(parse_error_fields(msg.body)));
      case 'N':
        handle_notice(c, msg.body);
        break;
      case 'S':
        handle_parameter_status(c, msg.body);
        break;
      case 'K':
      case 'v': // NegotiateProtocolVersion: we ask for no protocol options
        break;
      case 'Z':
        return true;
      case 'R': {
        int code = in.int32();
        if (code == 0) // AuthenticationOk
          break;
        if (code == 3 || code == 5 || code == 10) {
          auto password = password_for(e, o);
          if (!password)
            return fail("fe_sendauth: no password supplied\n");
          if (code == 3) {
            send_password_message(c, *password, true);
          } else if (code == 5) {
            auto salt = in.bytes(4);
            if (!in.ok())
              return fail("invalid MD5 authentication request from server\n");
            send_password_message(c, medianest::pq::md5_password_response(o.get("user"), *password, salt), true);
          } else {
            bool offers_scram = false;
            for (auto mech = in.cstring(); in.ok() && !mech.empty(); mech = in.cstring())
              offers_scram = offers_scram || mech == "SCRAM-SHA-256";
            if (!offers_scram)
              return fail("none of the server's SASL authentication mechanisms are supported\n");
            scram.emplace(*password, medianest::pq::scram_client::random_nonce());
            auto first = scram->client_first();
            message_writer w{c.out, 'p'};
            w.cstring("SCRAM-SHA-256").int32(static_cast<int32_t>(first.size())).bytes(first);
          }
        } else if (code == 11 || code == 12) { // SASLContinue, SASLFinal
          std::string reply, scram_error;
          auto data = msg.body.substr(4);
          if (!scram)
            return fail("unexpected SASL message from server\n");
          if (code == 11) {
            if (!scram->client_final(data, reply, scram_error))
              return fail(scram_error + "\n");
            send_password_message(c, reply, false);
          } else if (!scram->verify_server_final(data, scram_error)) {
            return fail(scram_error + "\n");
          }
        } else {
          return fail(std::string{"authentication method requested by the server ("}
                      + auth_method_name(code) + ") is not supported by this client\n");
        }
        if (!c.out.empty() && !flush(c))
          return fail(c.error);
        break;
      }
      default:
        return fail(std::string{"unexpected message type \""} + msg.type
                    + "\" during startup\n");
    }
  }
}

/// target_session_attrs=read-write or read-only: asks the server which it is.
bool session_matches(pg_conn& c, const connection_options& o, const endpoint& e, std::string& error) {
  auto wanted = o.get("target_session_attrs");
  if (wanted.empty() || wanted == "any")
    return true;
  std::unique_ptr<pg_result> r{PQexec(&c, "SHOW transaction_read_only")};
  if (!r || r->status != PGRES_TUPLES_OK || r->rows != 1) {
    error = server_label(e) + "could not determine whether the session is read-only\n";
    return false;
  }
  bool read_only = std::string_view{r->cells.c_str()} == "on";
  if (read_only == (wanted == "read-only"))
    return true;
  error = server_label(e) + (read_only ? "session is read-only\n" : "session is not read-only\n");
  return false;
}

/// One endpoint, with or without TLS first; true when the session is ready.
bool try_endpoint(pg_conn& c, const endpoint& e, const connection_options& o, bool request_tls,
                  std::string& error) {
  c.attempt_used_tls = false;
  attempt_deadline deadline;
  if (int seconds = int_option(o, "connect_timeout", 0); seconds > 0)
    deadline.at = std::chrono::steady_clock::now() + std::chrono::seconds{std::max(seconds, 2)};
  if (!open_socket(c, e, o, deadline, error))
    return false;
  set_socket_timeouts(c.fd, deadline.remaining_ms());
  auto sslmode = o.get("sslmode");
  bool tls_required = sslmode == "require" || sslmode == "verify-ca" || sslmode == "verify-full";
  bool ok = (e.is_socket() || !request_tls || negotiate_tls(c, e, o, tls_required, error))
            && start_session(c, e, o, error);
  if (ok) {
    set_socket_timeouts(c.fd, 0);
    c.status = CONNECTION_OK;
    ok = session_matches(c, o, e, error);
  }
  if (!ok) {
    if (!error.empty() && error.rfind("connection to server", 0) != 0)
      error = server_label(e) + error;
    close_socket(c);
    c.status = CONNECTION_BAD;
  }
  return ok;
}

void connect_to_any(pg_conn& c, const connection_options& o) {
  std::vector<endpoint> endpoints;
  std::string error;
  if (!medianest::pq::endpoints_of(o, endpoints, error)) {
    c.error = error + "\n";
    return;
  }
  auto sslmode = o.get("sslmode");
  c.error.clear();
  for (const auto& e : endpoints) {
    // disable and allow start in clear (allow retries with TLS), the others ask for TLS
    // (prefer retries in clear when TLS failed).
    bool tls_first = sslmode != "disable" && sslmode != "allow";
    std::string attempt_error;
    if (try_endpoint(c, e, o, tls_first, attempt_error))
      return;
    // libpq's fallbacks: allow retries with TLS whatever failed in clear; prefer retries in
    // clear only when it was TLS that failed or was refused.
    bool retry = !e.is_socket()
                 && (sslmode == "allow" || (sslmode == "prefer" && c.attempt_used_tls));
    if (retry) {
      std::string second_error;
      if (try_endpoint(c, e, o, !tls_first, second_error))
        return;
      attempt_error = second_error;
    }
    c.error += attempt_error;
  }
}

const pg_result::column* column_at(const PGresult* r, int field) {
  if (!r || field < 0 || static_cast<size_t>(field) >= r->columns.size())
    return nullptr;
  return &r->columns[static_cast<size_t>(field)];
}

int large_objects_unsupported(PGconn* c) {
  if (c)
    c->error = "large objects are not supported by this client\n";
  return -1;
}

} // namespace

// -- the C API ------------------------------------------------------------------------------

extern "C" {

PGconn* PQconnectdb(const char* conninfo) {
  auto* c = new (std::nothrow) pg_conn;
  if (!c)
    return nullptr;
  connection_options options;
  std::string error;
  if (!medianest::pq::parse_conninfo(conninfo ? conninfo : "", options, error)) {
    c->error = error + "\n";
    return c;
  }
  auto user = effective_user();
  medianest::pq::apply_defaults(options, environment_value, user.name, home_directory(user));
  if (!medianest::pq::check_options(options, error)) { // a bad PGSSLMODE, say
    c->error = error + "\n";
    return c;
  }
  connect_to_any(*c, options);
  return c;
}

void PQfinish(PGconn* c) {
  if (!c)
    return;
  if (c->status == CONNECTION_OK) {
    { message_writer{c->out, 'X'}; }
    flush(*c);
  }
  close_socket(*c);
  delete c;
}

ConnStatusType PQstatus(const PGconn* c) {
  return c ? c->status : CONNECTION_BAD;
}

char* PQerrorMessage(const PGconn* c) {
  static char null_connection[] = "connection pointer is NULL\n";
  return c ? const_cast<char*>(c->error.c_str()) : null_connection;
}

PQnoticeProcessor PQsetNoticeProcessor(PGconn* c, PQnoticeProcessor processor, void* argument) {
  if (!c)
    return nullptr;
  auto previous = c->notice_processor;
  if (processor) {
    c->notice_processor = processor;
    c->notice_argument = argument;
  }
  return previous;
}

int PQserverVersion(const PGconn* c) {
  return c && c->status == CONNECTION_OK ? c->server_version : 0;
}

int PQsendQuery(PGconn* c, const char* query) {
  if (!ready_to_send(c))
    return 0;
  message_writer{c->out, 'Q'}.cstring(query ? query : "");
  return send_command(*c) ? 1 : 0;
}

int PQsendQueryParams(PGconn* c, const char* command, int n_params, const Oid* types,
                      const char* const* values, const int* lengths, const int* formats,
                      int result_format) {
  if (!ready_to_send(c) || !valid_parameter_count(*c, n_params))
    return 0;
  append_parse(c->out, "", command, n_params, types);
  append_bind_describe_execute(c->out, "", n_params, values, lengths, formats, result_format);
  return send_command(*c) ? 1 : 0;
}

int PQsendPrepare(PGconn* c, const char* name, const char* query, int n_params, const Oid* types) {
  if (!ready_to_send(c) || !valid_parameter_count(*c, n_params))
    return 0;
  append_parse(c->out, name, query, n_params, types);
  message_writer{c->out, 'S'};
  if (!send_command(*c))
    return 0;
  c->awaiting_prepare = true;
  return 1;
}

int PQsendQueryPrepared(PGconn* c, const char* name, int n_params, const char* const* values,
                        const int* lengths, const int* formats, int result_format) {
  if (!ready_to_send(c) || !valid_parameter_count(*c, n_params))
    return 0;
  append_bind_describe_execute(c->out, name, n_params, values, lengths, formats, result_format);
  return send_command(*c) ? 1 : 0;
}

int PQsetSingleRowMode(PGconn* c) {
  // As libpq: only right after a query was sent, before its first result was asked for.
  if (!c || !c->busy || c->results_started || c->awaiting_prepare)
    return 0;
  c->single_row = true;
  return 1;
}

PGresult* PQgetResult(PGconn* c) {
  if (!c)
    return nullptr;
  c->results_started = true;
  return next_result(*c).release();
}

PGresult* PQexec(PGconn* c, const char* query) {
  return PQsendQuery(c, query) ? finish_exec(*c) : nullptr;
}

PGresult* PQexecParams(PGconn* c, const char* command, int n_params, const Oid* types,
                       const char* const* values, const int* lengths, const int* formats,
                       int result_format) {
  return PQsendQueryParams(c, command, n_params, types, values, lengths, formats, result_format)
           ? finish_exec(*c)
           : nullptr;
}

PGresult* PQprepare(PGconn* c, const char* name, const char* query, int n_params,
                    const Oid* types) {
  return PQsendPrepare(c, name, query, n_params, types) ? finish_exec(*c) : nullptr;
}

PGresult* PQexecPrepared(PGconn* c, const char* name, int n_params, const char* const* values,
                         const int* lengths, const int* formats, int result_format) {
  return PQsendQueryPrepared(c, name, n_params, values, lengths, formats, result_format)
           ? finish_exec(*c)
           : nullptr;
}

void PQclear(PGresult* r) {
  delete r;
}

ExecStatusType PQresultStatus(const PGresult* r) {
  return r ? r->status : PGRES_FATAL_ERROR;
}

char* PQresultErrorMessage(const PGresult* r) {
  static char empty[] = "";
  return r ? const_cast<char*>(r->error_message.c_str()) : empty;
}

char* PQresultErrorField(const PGresult* r, int code) {
  if (!r)
    return nullptr;
  auto value = error_field(r->error_fields, static_cast<char>(code));
  return value ? const_cast<char*>(value->c_str()) : nullptr;
}

int PQntuples(const PGresult* r) {
  return r ? r->rows : 0;
}

int PQnfields(const PGresult* r) {
  return r ? static_cast<int>(r->columns.size()) : 0;
}

char* PQfname(const PGresult* r, int field) {
  auto col = column_at(r, field);
  return col ? const_cast<char*>(col->name.c_str()) : nullptr;
}

Oid PQftype(const PGresult* r, int field) {
  auto col = column_at(r, field);
  return col ? col->type : 0;
}

int PQfsize(const PGresult* r, int field) {
  auto col = column_at(r, field);
  return col ? col->size : 0;
}

int PQfformat(const PGresult* r, int field) {
  auto col = column_at(r, field);
  return col ? col->format : 0;
}

char* PQgetvalue(const PGresult* r, int row, int field) {
  if (!column_at(r, field) || row < 0 || row >= r->rows)
    return nullptr;
  auto cell = static_cast<size_t>(row) * r->columns.size() + static_cast<size_t>(field);
  return const_cast<char*>(r->cells.data() + r->offsets[cell]);
}

int PQgetisnull(const PGresult* r, int row, int field) {
  if (!column_at(r, field) || row < 0 || row >= r->rows)
    return 1;
  auto cell = static_cast<size_t>(row) * r->columns.size() + static_cast<size_t>(field);
  return r->lengths[cell] < 0 ? 1 : 0;
}

char* PQcmdTuples(PGresult* r) {
  static char empty[] = "";
  if (!r)
    return empty;
  std::string_view tag{r->command_status};
  for (std::string_view verb : {"INSERT ", "UPDATE ", "DELETE ", "SELECT ", "MOVE ", "FETCH ",
                                "COPY ", "MERGE "})
    if (tag.substr(0, verb.size()) == verb) {
      auto last_space = tag.rfind(' ');
      return const_cast<char*>(r->command_status.c_str()) + last_space + 1;
    }
  return empty;
}

// Large objects: SOCI's blob type needs them; the daemon stores none.
int lo_open(PGconn* c, Oid, int) {
  return large_objects_unsupported(c);
}
int lo_close(PGconn* c, int) {
  return large_objects_unsupported(c);
}
int lo_read(PGconn* c, int, char*, size_t) {
  return large_objects_unsupported(c);
}
int lo_write(PGconn* c, int, const char*, size_t) {
  return large_objects_unsupported(c);
}
int lo_lseek(PGconn* c, int, int, int) {
  return large_objects_unsupported(c);
}

} // extern "C"
