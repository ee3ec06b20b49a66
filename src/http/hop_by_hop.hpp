#pragma once

#include <algorithm>
#include <string_view>

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/field.hpp>

#include "model/http_text.hpp"

namespace medianest::http {

/// Whether a header field concerns one connection only and is not forwarded by a proxy (RFC
/// 9110 7.6.1). Transfer-Encoding is among them: the gateway frames each body again.
inline bool is_hop_by_hop(boost::beast::http::field name) noexcept {
  namespace bhttp = boost::beast::http;
  switch (name) {
    case bhttp::field::connection:
    case bhttp::field::keep_alive:
    case bhttp::field::proxy_authenticate:
    case bhttp::field::proxy_authorization:
    case bhttp::field::proxy_connection:
    case bhttp::field::te:
    case bhttp::field::trailer:
    case bhttp::field::transfer_encoding:
    case bhttp::field::upgrade:
    case bhttp::field::expect:
      return true;
    default:
      return false;
  }
}

/// Calls f(token) for each field name a Connection header value lists, other than the usual
/// "keep-alive" and "close" (which name no other field) and Content-Length: the gateway relays
/// the body with the length it was framed with, and a peer that could have the length dropped
/// by listing it would make the other side read the body as a next message (smuggling).
template <class F>
void for_each_connection_listed(std::string_view connection, F&& f) {
  size_t pos = 0;
  while (pos < connection.size()) {
    auto comma = std::min(connection.find(',', pos), connection.size());
    auto token = trim_ows(connection.substr(pos, comma - pos));
    if (!token.empty() && !boost::beast::iequals(token, "keep-alive")
        && !boost::beast::iequals(token, "close")
        && !boost::beast::iequals(token, "content-length"))
      f(token);
    pos = comma + 1;
  }
}

/// Whether `name` is one of the comma-separated names in `listed` (case-insensitive).
inline bool is_listed(std::string_view listed, std::string_view name) noexcept {
  size_t pos = 0;
  while (pos < listed.size()) {
    auto comma = std::min(listed.find(',', pos), listed.size());
    if (boost::beast::iequals(listed.substr(pos, comma - pos), name))
      return true;
    pos = comma + 1;
  }
  return false;
}

} // namespace medianest::http
