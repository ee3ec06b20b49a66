#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace medianest {

enum class http_method : uint8_t { get, head, post, put, patch, delete_, options, other };

/// The method's name ("GET"), and the method of a name (unknown names are `other`).
std::string_view method_name(http_method m) noexcept;
http_method method_of(std::string_view name) noexcept;

/// One finished request, as the HTTP layer reports it to the api collector.
struct request_record {
  /// Interned route template (see intern_route); lives as long as the process.
  const std::string* route = nullptr;
  http_method method = http_method::other;
  uint16_t status = 0;
  uint32_t duration_us = 0;
  /// When the response was written: steady clock, milliseconds.
  int64_t finished_ms = 0;
};

using request_batch = std::vector<request_record>;

/// Interns a route template: the same text always gives the same pointer, valid for the life
/// of the process. Bounded: past `max_interned_routes` distinct templates every new one maps to
/// "(other)", so no traffic pattern can grow it without limit.
const std::string* intern_route(std::string_view route);

inline constexpr size_t max_interned_routes = 4096;

} // namespace medianest
