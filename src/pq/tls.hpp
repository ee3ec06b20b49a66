#pragma once
// TLS for connections to PostgreSQL, with OpenSSL loaded (dlopen) only when a connection asks
// for it: most deployments reach PostgreSQL on a private network in clear, and linking
// libssl/libcrypto would cost every daemon ~1.7 MB of resident memory (docs/benchmarks.md).

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include <sys/types.h>

namespace medianest::pq {

struct tls_settings {
  std::string sslmode;     ///< require, verify-ca or verify-full (prefer/allow behave as require)
  std::string server_name; ///< the host name as written: SNI, and checked by verify-full
  std::string root_cert;   ///< CA file for verify-ca/verify-full, or "system"
  std::string cert;        ///< client certificate, used when the file exists
  std::string key;         ///< its private key
  std::string min_version; ///< "TLSv1.2" …
  bool sni = true;
};

/// One TLS session over a connected socket.
class tls_session {
public:
  virtual ~tls_session() = default;
  /// Bytes read, 0 when the peer closed, -1 on error (message in `error`).
  virtual ssize_t read(char* data, size_t size, std::string& error) = 0;
  /// Bytes written, -1 on error.
  virtual ssize_t write(const char* data, size_t size, std::string& error) = 0;
};

/// Performs the handshake on `fd` (blocking; the caller's deadline bounds it through the
/// socket's timeouts). Null with `error` set when OpenSSL is missing or the handshake or the
/// certificate check fails.
std::unique_ptr<tls_session> start_tls(int fd, const tls_settings& settings, std::string& error);

} // namespace medianest::pq
