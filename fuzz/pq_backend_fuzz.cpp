// Our PostgreSQL client (src/pq/) against a server that says anything: each input is the byte
// stream a fake server on loopback sends in answer to a connection, from the first byte of
// the startup exchange (authentication requests of every kind, SCRAM messages, parameter
// status, errors) to the results of the queries that follow (row descriptions, data rows,
// command tags). The client's own messages are read and dropped.
//
// An input starting with "C:" is a connection string instead, for parse_conninfo.
//
// Invariants: nothing crashes, leaks or reads out of bounds (ASan/UBSan); a failed connection
// has an error message; every value of a result is NUL-terminated within the bytes the row
// carried; a keyword string written by to_conninfo parses back to the same options.

#include <libpq-fe.h>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstring>
#include <string>
#include <thread>

#include "fuzz_check.hpp"
#include "pq/conninfo.hpp"

namespace {

int listener = -1;
std::string connect_string;

void start_listener() {
  listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  FUZZ_CHECK(::bind(listener, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
  FUZZ_CHECK(::listen(listener, 4) == 0);
  socklen_t size = sizeof address;
  ::getsockname(listener, reinterpret_cast<sockaddr*>(&address), &size);
  connect_string = "host=127.0.0.1 port=" + std::to_string(ntohs(address.sin_port))
                   + " user=fuzz password=secret dbname=fuzz sslmode=disable connect_timeout=2";
}

/// Accepts one connection, sends `bytes`, ends its side, and drains the client until it closes.
void serve_once(std::string bytes) {
  int fd = ::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0)
    return;
  size_t sent = 0;
  while (sent < bytes.size()) {
    auto n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    sent += static_cast<size_t>(n);
  }
  ::shutdown(fd, SHUT_WR);
  char sink[4096];
  while (::recv(fd, sink, sizeof sink, 0) > 0) {
  }
  ::close(fd);
}

void check_result(PGresult* r) {
  int rows = PQntuples(r), fields = PQnfields(r);
  FUZZ_CHECK(rows >= 0 && fields >= 0);
  for (int f = 0; f < fields; ++f) {
    FUZZ_CHECK(PQfname(r, f) != nullptr);
    (void)PQftype(r, f);
    (void)PQfsize(r, f);
  }
  for (int row = 0; row < rows; ++row)
    for (int f = 0; f < fields; ++f) {
      const char* value = PQgetvalue(r, row, f);
      FUZZ_CHECK(value != nullptr);
      (void)std::strlen(value); // ASan: the NUL is inside the result's storage
      (void)PQgetisnull(r, row, f);
    }
  FUZZ_CHECK(PQgetvalue(r, rows, 0) == nullptr);
  (void)PQcmdTuples(r);
  (void)PQresultErrorMessage(r);
  (void)PQresultErrorField(r, 'C');
  PQclear(r);
}

void fuzz_conninfo(std::string_view text) {
  medianest::pq::connection_options options;
  std::string error;
  if (!medianest::pq::parse_conninfo(text, options, error)) {
    FUZZ_CHECK(!error.empty());
    return;
  }
  medianest::pq::connection_options again;
  FUZZ_CHECK(medianest::pq::parse_conninfo(medianest::pq::to_conninfo(options), again, error));
  FUZZ_CHECK(again.items() == options.items());
  std::vector<medianest::pq::endpoint> endpoints;
  (void)medianest::pq::endpoints_of(options, endpoints, error);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto input = medianest::fuzz::as_text(data, size);
  if (input.substr(0, 2) == "C:") {
    fuzz_conninfo(input.substr(2));
    return 0;
  }
  if (listener < 0)
    start_listener();
  std::thread server{serve_once, std::string{input}};
  PGconn* c = PQconnectdb(connect_string.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    (void)PQserverVersion(c);
    check_result(PQexec(c, "SELECT 1; SELECT 2"));
    const char* values[] = {"x", nullptr};
    check_result(PQexecParams(c, "SELECT $1, $2", 2, nullptr, values, nullptr, nullptr, 0));
    check_result(PQprepare(c, "s", "SELECT $1", 1, nullptr));
    check_result(PQexecPrepared(c, "s", 1, values, nullptr, nullptr, 0));
  } else {
    FUZZ_CHECK(std::strlen(PQerrorMessage(c)) > 0);
  }
  PQfinish(c);
  server.join();
  return 0;
}
