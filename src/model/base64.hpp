#pragma once
// Base64 (RFC 4648): with the standard alphabet and padding (§4) for MIME encoded words in mail
// headers and SCRAM messages to PostgreSQL; base64url without padding (§5, RFC 7515 §2) for
// JWTs.

#include <string>
#include <string_view>

namespace medianest {

std::string base64_encode(std::string_view data);

/// Decodes padded base64; false on a character outside the alphabet, a length that is not a
/// multiple of four, or padding anywhere but at the end.
bool base64_decode(std::string_view in, std::string& out);

std::string base64url_encode(std::string_view data);

/// Decodes base64url without padding; false on any character outside the alphabet, and on
/// leftover bits that are not zero (only the canonical encoding is accepted).
bool base64url_decode(std::string_view in, std::string& out);

} // namespace medianest
