#pragma once

#include <string>

#include <boost/json/value.hpp>

namespace medianest {

/// Serializes JSON with numbers as people write them: doubles in their shortest round-trip
/// form ("25.5", not Boost.JSON's "2.55E1"), non-finite doubles as null.
std::string to_json(const boost::json::value& value);

/// Appends the serialization of `value` to `out`.
void append_json(std::string& out, const boost::json::value& value);

} // namespace medianest
