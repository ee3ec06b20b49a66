#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

#include "model/error.hpp"

namespace medianest {

/// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). A key without '=' has an empty
/// value. Returns false on malformed percent-encoding, with `bad_key` (if given) set to the
/// parameter whose value was malformed, or left empty when the key itself was.
bool parse_query_string(std::string_view query,
                        std::vector<std::pair<std::string, std::string>>& out,
                        std::string* bad_key = nullptr);

/// The one parameter a query string may carry (`limit` of GET /alerts/events, /alerts/deliveries
/// and /optimize): ASCII digits only, from 0 to `max`; `fallback` when the query does not
/// give it, the last value when it is repeated. Any other parameter, or a value that is not
/// such a number (a sign, spaces, "%00" after the digits), is a VALIDATION_ERROR naming it.
std::variant<int64_t, api_error> parse_int_param(std::string_view query, std::string_view name,
                                                 int64_t fallback, int64_t max);

} // namespace medianest
