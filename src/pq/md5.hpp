#pragma once
// MD5 (RFC 1321), for PostgreSQL's "md5" password authentication only: the server asks for
// md5(md5(password + user) + salt). Not for anything that needs a secure hash.

#include <string>
#include <string_view>

namespace medianest::pq {

/// The 32 lower-case hex digits of the MD5 digest of `data`.
std::string md5_hex(std::string_view data);

} // namespace medianest::pq
