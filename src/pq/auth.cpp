#include "pq/auth.hpp"

#include <sys/random.h>

#include <charconv>
#include <cstring>
#include <optional>

#include "model/base64.hpp"
#include "model/sha256.hpp"
#include "pq/md5.hpp"

namespace medianest::pq {

namespace {

/// The server may ask for fewer rounds only to make a stolen verifier cheap to attack.
constexpr int min_iterations = 1024;

std::string_view as_view(const sha256_digest& d) {
  return {reinterpret_cast<const char*>(d.data()), d.size()};
}

std::string hmac(std::string_view key, std::string_view data) {
  return std::string{as_view(hmac_sha256(key, data))};
}

/// PBKDF2-HMAC-SHA256 with one 32-byte block: SCRAM's Hi() (RFC 5802 §2.2).
std::string salted_password(std::string_view password, std::string_view salt, int iterations) {
  std::string block{salt};
  block.append("\0\0\0\1", 4);
  auto u = hmac(password, block);
  auto result = u;
  for (int i = 1; i < iterations; ++i) {
    u = hmac(password, u);
    for (size_t k = 0; k < result.size(); ++k)
      result[k] = static_cast<char>(result[k] ^ u[k]);
  }
  return result;
}

/// The value of attribute `name` ("r", "s", "i", "v", "e") in a comma-separated SCRAM message.
std::optional<std::string_view> attribute(std::string_view message, char name) {
  size_t pos = 0;
  while (pos <= message.size()) {
    auto comma = std::min(message.find(',', pos), message.size());
    auto item = message.substr(pos, comma - pos);
    if (item.size() >= 2 && item[0] == name && item[1] == '=')
      return item.substr(2);
    pos = comma + 1;
  }
  return std::nullopt;
}

} // namespace

std::string md5_password_response(std::string_view user, std::string_view password,
                                  std::string_view salt) {
  std::string inner{password};
  inner += user;
  auto outer = md5_hex(inner);
  outer += salt;
  return "md5" + md5_hex(outer);
}

scram_client::scram_client(std::string password, std::string client_nonce, std::string user)
  : password_(std::move(password)), client_nonce_(std::move(client_nonce)), user_(std::move(user)) {
  // nop
}

std::string scram_client::client_first() const {
  return "n,,n=" + user_ + ",r=" + client_nonce_;
}

bool scram_client::client_final(std::string_view server_first, std::string& out,
                                std::string& error) {
  if (auto e = attribute(server_first, 'e')) {
    error = "SCRAM: the server refused: " + std::string{*e};
    return false;
  }
  auto nonce = attribute(server_first, 'r');
  auto salt64 = attribute(server_first, 's');
  auto rounds = attribute(server_first, 'i');
  if (!nonce || !salt64 || !rounds) {
    error = "SCRAM: malformed server-first message";
    return false;
  }
  if (nonce->size() <= client_nonce_.size() || nonce->substr(0, client_nonce_.size()) != client_nonce_) {
    error = "SCRAM: the server's nonce does not extend the client's";
    return false;
  }
  std::string salt;
  int iterations = 0;
  auto [end, ec] = std::from_chars(rounds->data(), rounds->data() + rounds->size(), iterations);
  if (!base64_decode(*salt64, salt) || salt.empty() || ec != std::errc{}
      || end != rounds->data() + rounds->size() || iterations < min_iterations) {
    error = "SCRAM: invalid salt or iteration count in the server-first message";
    return false;
  }
  salted_password_ = salted_password(password_, salt, iterations);
  auto without_proof = "c=biws,r=" + std::string{*nonce}; // biws = base64("n,,")
  auth_message_ = client_first().substr(3) + ',' + std::string{server_first} + ',' + without_proof;
  auto client_key = hmac(salted_password_, "Client Key");
  auto stored_key = sha256_of(client_key);
  auto signature = hmac(as_view(stored_key), auth_message_);
  std::string proof = client_key;
  for (size_t k = 0; k < proof.size(); ++k)
    proof[k] = static_cast<char>(proof[k] ^ signature[k]);
  out = without_proof + ",p=" + base64_encode(proof);
  return true;
}

bool scram_client::verify_server_final(std::string_view server_final, std::string& error) const {
  if (auto e = attribute(server_final, 'e')) {
    error = "SCRAM: the server refused: " + std::string{*e};
    return false;
  }
  auto verifier64 = attribute(server_final, 'v');
  std::string verifier;
  if (!verifier64 || !base64_decode(*verifier64, verifier) || verifier.size() != 32) {
    error = "SCRAM: malformed server-final message";
    return false;
  }
  auto server_key = hmac(salted_password_, "Server Key");
  auto expected = hmac(server_key, auth_message_);
  if (!constant_time_equal(reinterpret_cast<const unsigned char*>(expected.data()),
                           reinterpret_cast<const unsigned char*>(verifier.data()), 32)) {
    error = "SCRAM: invalid server signature: the server does not know the password";
    return false;
  }
  return true;
}

std::string scram_client::random_nonce() {
  char bytes[18];
  size_t got = 0;
  while (got < sizeof bytes) {
    auto n = getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0)
      got += static_cast<size_t>(n);
  }
  return base64_encode({bytes, sizeof bytes});
}

} // namespace medianest::pq
