#pragma once

// What every fuzz target shares: a failed invariant names itself and aborts, which libFuzzer
// reports as a crash and saves the input. An exception escaping a target ends in
// std::terminate, which is a crash as well: the functions under test must never throw out.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "model/error.hpp"

#define FUZZ_CHECK(cond)                                                                      \
  do {                                                                                        \
    if (!(cond)) {                                                                            \
      std::fprintf(stderr, "invariant failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);      \
      std::abort();                                                                           \
    }                                                                                         \
  } while (false)

namespace medianest::fuzz {

inline std::string_view as_text(const uint8_t* data, size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};
}

/// Whether `text` is one JSON document (Boost.JSON also insists on valid UTF-8).
inline bool is_json(std::string_view text) {
  boost::system::error_code ec;
  boost::json::parse(text, ec);
  return !ec;
}

/// Whether two JSON documents are equal, numbers within a few units in the last place: Boost.JSON
/// 1.81 reads decimal numbers without correct rounding, so a double written in its shortest
/// round-trip form ("5.777770000000001e+40") can read back one ulp off (docs/fuzzing.md).
inline bool same_json(const boost::json::value& a, const boost::json::value& b) {
  if (a.is_number() && b.is_number()) {
    if (!a.is_double() && !b.is_double())
      return a == b;
    auto x = a.to_number<double>(), y = b.to_number<double>();
    return x == y || std::fabs(x - y) <= 1e-14 * std::fmax(std::fabs(x), std::fabs(y));
  }
  if (a.kind() != b.kind())
    return false;
  if (a.is_array()) {
    const auto &p = a.get_array(), &q = b.get_array();
    if (p.size() != q.size())
      return false;
    for (size_t i = 0; i < p.size(); ++i)
      if (!same_json(p[i], q[i]))
        return false;
    return true;
  }
  if (a.is_object()) {
    const auto &p = a.get_object(), &q = b.get_object();
    if (p.size() != q.size())
      return false;
    for (const auto& [key, value] : p) {
      auto other = q.if_contains(key);
      if (!other || !same_json(value, *other))
        return false;
    }
    return true;
  }
  return a == b;
}

/// same_json of two JSON texts.
inline bool same_json_text(std::string_view a, std::string_view b) {
  boost::system::error_code ea, eb;
  auto x = boost::json::parse(a, ea);
  auto y = boost::json::parse(b, eb);
  return !ea && !eb && same_json(x, y);
}

/// What a validator's refusal must look like: VALIDATION_ERROR (400) with a message and a
/// details.field (empty only when the offending key is itself ""), and an envelope that is valid JSON whatever bytes the input held.
inline void check_validation_error(const api_error& err) {
  FUZZ_CHECK(err.code == errc::validation_error);
  FUZZ_CHECK(http_status(err.code) == 400);
  FUZZ_CHECK(!err.message.empty());
  auto field = err.details.find("field");
  FUZZ_CHECK(field != err.details.end() && field->value().is_string());
  FUZZ_CHECK(is_json(error_envelope(err)));
}

} // namespace medianest::fuzz
