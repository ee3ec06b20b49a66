#include "pq/tls.hpp"

#include <arpa/inet.h>
#include <dlfcn.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <mutex>

#include "sources/sigpipe_guard.hpp"

namespace medianest::pq {

namespace {

// The few OpenSSL 3 entry points we call, resolved from libssl.so.3 at first use. Opaque
// pointers stand for SSL_CTX, SSL, SSL_METHOD and X509_VERIFY_PARAM.
struct openssl_api {
  const void* (*TLS_client_method)();
  void* (*SSL_CTX_new)(const void*);
  void (*SSL_CTX_free)(void*);
  void (*SSL_CTX_set_verify)(void*, int, void*);
  int (*SSL_CTX_load_verify_locations)(void*, const char*, const char*);
  int (*SSL_CTX_set_default_verify_paths)(void*);
  int (*SSL_CTX_use_certificate_chain_file)(void*, const char*);
  int (*SSL_CTX_use_PrivateKey_file)(void*, const char*, int);
  long (*SSL_CTX_ctrl)(void*, int, long, void*);
  void* (*SSL_new)(void*);
  void (*SSL_free)(void*);
  int (*SSL_set_fd)(void*, int);
  long (*SSL_ctrl)(void*, int, long, void*);
  int (*SSL_set1_host)(void*, const char*);
  void* (*SSL_get0_param)(void*);
  int (*X509_VERIFY_PARAM_set1_ip_asc)(void*, const char*);
  int (*SSL_connect)(void*);
  int (*SSL_read)(void*, void*, int);
  int (*SSL_write)(void*, const void*, int);
  int (*SSL_get_error)(const void*, int);
  int (*SSL_shutdown)(void*);
  long (*SSL_get_verify_result)(const void*);
  const char* (*X509_verify_cert_error_string)(long);
  unsigned long (*ERR_get_error)();
  void (*ERR_error_string_n)(unsigned long, char*, size_t);
  void (*ERR_clear_error)();
};

constexpr int ssl_verify_none = 0;
constexpr int ssl_verify_peer = 1;
constexpr int ssl_filetype_pem = 1;
constexpr int ssl_ctrl_set_tlsext_hostname = 55;
constexpr int ssl_ctrl_set_min_proto_version = 123;
constexpr int ssl_error_zero_return = 6;
constexpr int x509_v_ok = 0;

template <class F>
bool resolve(void* library, const char* name, F& out) {
  out = reinterpret_cast<F>(dlsym(library, name));
  return out != nullptr;
}

/// Loads libssl once per process; null with the reason when it is not installed.
const openssl_api* load_openssl(std::string& error) {
  static openssl_api api;
  static std::string load_error;
  static bool loaded = false;
  static std::once_flag once;
  std::call_once(once, [] {
    void* lib = dlopen("libssl.so.3", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      load_error = std::string{"TLS needs OpenSSL 3 (libssl.so.3), which could not be loaded: "}
                   + dlerror();
      return;
    }
#define MEDIANEST_RESOLVE(name) resolve(lib, #name, api.name)
    loaded = MEDIANEST_RESOLVE(TLS_client_method) && MEDIANEST_RESOLVE(SSL_CTX_new)
             && MEDIANEST_RESOLVE(SSL_CTX_free) && MEDIANEST_RESOLVE(SSL_CTX_set_verify)
             && MEDIANEST_RESOLVE(SSL_CTX_load_verify_locations)
             && MEDIANEST_RESOLVE(SSL_CTX_set_default_verify_paths)
             && MEDIANEST_RESOLVE(SSL_CTX_use_certificate_chain_file)
             && MEDIANEST_RESOLVE(SSL_CTX_use_PrivateKey_file) && MEDIANEST_RESOLVE(SSL_CTX_ctrl)
             && MEDIANEST_RESOLVE(SSL_new) && MEDIANEST_RESOLVE(SSL_free)
             && MEDIANEST_RESOLVE(SSL_set_fd) && MEDIANEST_RESOLVE(SSL_ctrl)
             && MEDIANEST_RESOLVE(SSL_set1_host) && MEDIANEST_RESOLVE(SSL_get0_param)
             && MEDIANEST_RESOLVE(X509_VERIFY_PARAM_set1_ip_asc) && MEDIANEST_RESOLVE(SSL_connect)
             && MEDIANEST_RESOLVE(SSL_read) && MEDIANEST_RESOLVE(SSL_write)
             && MEDIANEST_RESOLVE(SSL_get_error)
             && MEDIANEST_RESOLVE(SSL_shutdown) && MEDIANEST_RESOLVE(SSL_get_verify_result)
             && MEDIANEST_RESOLVE(X509_verify_cert_error_string)
             && MEDIANEST_RESOLVE(ERR_get_error) && MEDIANEST_RESOLVE(ERR_error_string_n)
             && MEDIANEST_RESOLVE(ERR_clear_error);
#undef MEDIANEST_RESOLVE
    if (!loaded)
      load_error = "libssl.so.3 lacks a function this client needs";
  });
  if (!loaded) {
    error = load_error;
    return nullptr;
  }
  return &api;
}

std::string last_openssl_error(const openssl_api& ssl, std::string_view fallback) {
  unsigned long code = ssl.ERR_get_error();
  if (code == 0)
    return std::string{fallback};
  char text[256];
  ssl.ERR_error_string_n(code, text, sizeof text);
  return text;
}

bool file_exists(const std::string& path) {
  struct stat st{};
  return !path.empty() && ::stat(path.c_str(), &st) == 0;
}

bool is_ip_address(const std::string& host) {
  unsigned char buffer[16];
  return inet_pton(AF_INET, host.c_str(), buffer) == 1 || inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

long protocol_version(const std::string& name) {
  if (name == "TLSv1")
    return 0x0301;
  if (name == "TLSv1.1")
    return 0x0302;
  if (name == "TLSv1.3")
    return 0x0304;
  return 0x0303;
}

class openssl_session final : public tls_session {
public:
  openssl_session(const openssl_api& api, void* ctx) : api_(api), ctx_(ctx) {}

  void adopt(void* ssl) { ssl_ = ssl; }

  ~openssl_session() override {
    if (ssl_) {
      sigpipe_guard guard;
      api_.SSL_shutdown(ssl_);
      api_.SSL_free(ssl_);
    }
    if (ctx_)
      api_.SSL_CTX_free(ctx_);
  }

  ssize_t read(char* data, size_t size, std::string& error) override {
    api_.ERR_clear_error();
    int n = api_.SSL_read(ssl_, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0)
      return n;
    if (api_.SSL_get_error(ssl_, n) == ssl_error_zero_return)
      return 0;
    error = last_openssl_error(api_, errno == EAGAIN ? "timeout expired" : "SSL SYSCALL error");
    return -1;
  }

  ssize_t write(const char* data, size_t size, std::string& error) override {
    sigpipe_guard guard;
    api_.ERR_clear_error();
    int n = api_.SSL_write(ssl_, data, static_cast<int>(std::min<size_t>(size, INT32_MAX)));
    if (n > 0)
      return n;
    error = last_openssl_error(api_, "SSL SYSCALL error");
    return -1;
  }

private:
  const openssl_api& api_;
  void* ctx_;
  void* ssl_ = nullptr;
};

/// Configures verification as libpq does: verify-ca and verify-full need a root certificate;
/// require checks the chain too when one is there, and otherwise only encrypts.
bool configure_verification(const openssl_api& ssl, void* ctx, const tls_settings& s,
                            bool& verify_host, std::string& error) {
  bool must_verify = s.sslmode == "verify-ca" || s.sslmode == "verify-full";
  verify_host = s.sslmode == "verify-full";
  if (s.root_cert == "system") {
    if (ssl.SSL_CTX_set_default_verify_paths(ctx) != 1) {
      error = "could not load system root certificate paths: " + last_openssl_error(ssl, "unknown");
      return false;
    }
    ssl.SSL_CTX_set_verify(ctx, ssl_verify_peer, nullptr);
    verify_host = verify_host || must_verify;
    return true;
  }
  if (file_exists(s.root_cert)) {
    if (ssl.SSL_CTX_load_verify_locations(ctx, s.root_cert.c_str(), nullptr) != 1) {
      error = "could not read root certificate file \"" + s.root_cert
              + "\": " + last_openssl_error(ssl, "unknown");
      return false;
    }
    ssl.SSL_CTX_set_verify(ctx, ssl_verify_peer, nullptr);
    return true;
  }
  if (must_verify) {
    error = "root certificate file \"" + s.root_cert
            + "\" does not exist\nEither provide the file, use the system's trusted roots with "
              "sslrootcert=system, or change sslmode to disable server certificate verification.";
    return false;
  }
  ssl.SSL_CTX_set_verify(ctx, ssl_verify_none, nullptr);
  return true;
}

bool configure_client_certificate(const openssl_api& ssl, void* ctx, const tls_settings& s,
                                  std::string& error) {
  if (!file_exists(s.cert))
    return true;
  if (ssl.SSL_CTX_use_certificate_chain_file(ctx, s.cert.c_str()) != 1) {
    error = "could not read certificate file \"" + s.cert + "\": " + last_openssl_error(ssl, "unknown");
    return false;
  }
  if (ssl.SSL_CTX_use_PrivateKey_file(ctx, s.key.c_str(), ssl_filetype_pem) != 1) {
    error = "could not load private key file \"" + s.key + "\": " + last_openssl_error(ssl, "unknown");
    return false;
  }
  return true;
}

} // namespace

std::unique_ptr<tls_session> start_tls(int fd, const tls_settings& s, std::string& error) {
  const auto* api = load_openssl(error);
  if (!api)
    return nullptr;
  const auto& ssl = *api;
  ssl.ERR_clear_error();
  void* ctx = ssl.SSL_CTX_new(ssl.TLS_client_method());
  if (!ctx) {
    error = "could not create SSL context: " + last_openssl_error(ssl, "unknown");
    return nullptr;
  }
  auto session = std::make_unique<openssl_session>(ssl, ctx);
  ssl.SSL_CTX_ctrl(ctx, ssl_ctrl_set_min_proto_version, protocol_version(s.min_version), nullptr);
  bool verify_host = false;
  if (!configure_verification(ssl, ctx, s, verify_host, error)
      || !configure_client_certificate(ssl, ctx, s, error))
    return nullptr;
  void* handle = ssl.SSL_new(ctx);
  if (!handle) {
    error = "could not create SSL handle: " + last_openssl_error(ssl, "unknown");
    return nullptr;
  }
  session->adopt(handle);
  ssl.SSL_set_fd(handle, fd);
  bool ip = is_ip_address(s.server_name);
  if (s.sni && !ip && !s.server_name.empty())
    ssl.SSL_ctrl(handle, ssl_ctrl_set_tlsext_hostname, 0, const_cast<char*>(s.server_name.c_str()));
  if (verify_host) {
    int set = ip ? ssl.X509_VERIFY_PARAM_set1_ip_asc(ssl.SSL_get0_param(handle), s.server_name.c_str())
                 : ssl.SSL_set1_host(handle, s.server_name.c_str());
    if (set != 1) {
      error = "could not set the host name to verify: \"" + s.server_name + "\"";
      return nullptr;
    }
  }
  int rc;
  {
    sigpipe_guard guard;
    rc = ssl.SSL_connect(handle);
  }
  if (rc != 1) {
    long verify = ssl.SSL_get_verify_result(handle);
    error = verify != x509_v_ok
              ? std::string{"SSL error: certificate verify failed: "} + ssl.X509_verify_cert_error_string(verify)
              : "SSL error: " + last_openssl_error(ssl, errno == EAGAIN ? "timeout expired" : "handshake failed");
    return nullptr;
  }
  return session;
}

} // namespace medianest::pq
