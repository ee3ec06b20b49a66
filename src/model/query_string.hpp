#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medianest {

/// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). A key without '=' has an empty
/// value. Returns false on malformed percent-encoding.
bool parse_query_string(std::string_view query, std::vector<std::pair<std::string, std::string>>& out);

} // namespace medianest
