#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medianest {

/// Splits "a=1&b=x%20y" into decoded pairs ('+' is a space). A key without '=' has an empty
/// value. Returns false on malformed percent-encoding, with `bad_key` (if given) set to the
/// parameter whose value was malformed, or left empty when the key itself was.
bool parse_query_string(std::string_view query,
                        std::vector<std::pair<std::string, std::string>>& out,
                        std::string* bad_key = nullptr);

} // namespace medianest
