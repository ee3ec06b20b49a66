#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/response_cache.hpp"

namespace medianest {

/// A cached response as bytes, for a shared store (Redis): a text header naming the format,
/// the absolute expiry, status, content type and headers, then the body as it is.
std::string encode_cached_response(const cached_response& response, int64_t expires_unix_ms);

/// The response and its expiry; nullopt for bytes of another format or a truncated entry.
struct decoded_response {
  cached_response response;
  int64_t expires_unix_ms = 0;
};
std::optional<decoded_response> decode_cached_response(std::string_view bytes);

} // namespace medianest
