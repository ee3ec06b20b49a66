#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

#include "model/base64.hpp"
#include "http/types.hpp"

namespace medianest::http {

/// Verifies bearer tokens: JWT with HS256 only (every other `alg`, `none` included, is
/// rejected before the signature is looked at), a constant-time signature comparison, a
/// required `exp`, an optional `nbf`, and a `role` claim of "admin" or "user".
///
/// A client sends the same token with every request, so each thread remembers the last
/// tokens it verified (a small direct-mapped cache keyed by the whole token text): a repeat
/// skips the HMAC and the JSON parsing, while `exp` and `nbf` are checked again every time.
class jwt_verifier {
public:
  explicit jwt_verifier(std::string secret);

  /// Verifies a compact JWT at `now` (seconds since the epoch). Errors are errc::unauthorized
  /// with a reason for the log (the reason never contains the token).
  caf::expected<claims> verify(std::string_view token, int64_t now) const;

private:
  caf::expected<claims> verify_uncached(std::string_view token, int64_t now) const;

  std::string secret_;
  /// Tells verifiers apart in the per-thread cache of verified tokens.
  uint64_t generation_;
};

/// Mints an HS256 token carrying `sub`, `role`, `iat` and `exp`.
std::string mint_token(std::string_view secret, const claims& c, int64_t issued_at);

/// Extracts the token of an `Authorization: Bearer <token>` header value, or an empty view.
std::string_view bearer_token(std::string_view authorization) noexcept;

/// Decides whether a request may reach a route of the given access level: the claims on
/// success, UNAUTHORIZED without a valid token, FORBIDDEN for a user on an admin route.
caf::expected<claims> authorize(const jwt_verifier& verifier, std::string_view token,
                                access level, int64_t now);

// Base64url (RFC 7515 §2) lives in model/base64.hpp.
using medianest::base64url_decode;
using medianest::base64url_encode;

} // namespace medianest::http
