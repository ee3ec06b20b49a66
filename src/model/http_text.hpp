#pragma once

// Small helpers for the text of HTTP header values, shared by the parsers of Cache-Control,
// Accept, Connection and the like.

#include <cstddef>
#include <string_view>

namespace medianest {

/// `s` without the optional whitespace (spaces and tabs, RFC 9110 5.6.3) at either end.
inline std::string_view trim_ows(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

/// ASCII case-insensitive equality, as for header names and tokens.
inline bool iequals_ascii(std::string_view a, std::string_view b) noexcept {
  auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; };
  if (a.size() != b.size())
    return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower(a[i]) != lower(b[i]))
      return false;
  return true;
}

} // namespace medianest
