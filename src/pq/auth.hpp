#pragma once
// The password exchanges PostgreSQL asks a client for: "md5" and SCRAM-SHA-256 (RFC 5802,
// RFC 7677) without channel binding. Pure computation; the messages travel in client.cpp.

#include <string>
#include <string_view>

namespace medianest::pq {

/// The answer to AuthenticationMD5Password: "md5" + md5(md5(password + user) + salt).
std::string md5_password_response(std::string_view user, std::string_view password,
                                  std::string_view salt);

/// One SCRAM-SHA-256 exchange, client side.
class scram_client {
public:
  /// `user` goes into the client-first message; PostgreSQL ignores it and sends "" there.
  scram_client(std::string password, std::string client_nonce, std::string user = {});

  /// "n,,n=USER,r=NONCE": no channel binding (gs2 flag n).
  std::string client_first() const;

  /// Checks the server-first message and computes the client-final one; false with `error`
  /// set on a malformed message, a nonce that does not extend ours, or too few iterations.
  bool client_final(std::string_view server_first, std::string& out, std::string& error);

  /// Verifies the server's signature in the server-final message: a server that does not
  /// know the password cannot produce it.
  bool verify_server_final(std::string_view server_final, std::string& error) const;

  /// 18 random bytes, base64: a fresh client nonce.
  static std::string random_nonce();

private:
  std::string password_;
  std::string client_nonce_;
  std::string user_;
  std::string salted_password_;
  std::string auth_message_;
};

} // namespace medianest::pq
