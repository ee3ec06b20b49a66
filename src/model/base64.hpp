#pragma once
// Base64 with the standard alphabet and padding (RFC 4648 §4): MIME encoded words in mail
// headers, SCRAM messages to PostgreSQL. JWTs use base64url (http/auth.hpp).

#include <string>
#include <string_view>

namespace medianest {

std::string base64_encode(std::string_view data);

/// Decodes padded base64; false on a character outside the alphabet, a length that is not a
/// multiple of four, or padding anywhere but at the end.
bool base64_decode(std::string_view in, std::string& out);

} // namespace medianest
