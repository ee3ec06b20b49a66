#pragma once

// Small helpers for the text of HTTP header values, shared by the parsers of Cache-Control,
// Accept, Connection and the like.

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace medianest {

/// `s` without the optional whitespace (spaces and tabs, RFC 9110 5.6.3) at either end.
/// The value of one hexadecimal digit, -1 for any other character.
inline int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

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

/// An http:// or https:// URL split where its parts begin; nothing is validated.
struct http_url_split {
  std::string_view scheme;    // as written
  std::string_view authority; // as written: may hold userinfo, may be empty
  std::string_view rest;      // path, query and fragment; may be empty
};

/// `url` split as above; nullopt when its scheme is not http or https.
inline std::optional<http_url_split> split_http_url(std::string_view url) {
  auto scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos)
    return std::nullopt;
  auto scheme = url.substr(0, scheme_end);
  if (!iequals_ascii(scheme, "http") && !iequals_ascii(scheme, "https"))
    return std::nullopt;
  auto after = url.substr(scheme_end + 3);
  auto end = after.find_first_of("/?#");
  return http_url_split{scheme, after.substr(0, end),
                        end == std::string_view::npos ? std::string_view{} : after.substr(end)};
}

/// A request target in absolute form (RFC 9112 3.2.2), split into the authority that stands
/// for the Host and the origin form the routes see: "http://host:80/a?b" is "host:80" and
/// "/a?b"; an empty path becomes "/".
struct absolute_form_target {
  std::string_view authority; // may be empty, which the caller refuses
  std::string origin_form;
};

/// `target` split as above when it is in absolute form with the http or https scheme;
/// nullopt for any other target (origin form, or another scheme, which no route matches).
inline std::optional<absolute_form_target> split_absolute_form(std::string_view target) {
  auto url = split_http_url(target);
  if (!url)
    return std::nullopt;
  if (url->rest.empty() || url->rest.front() != '/')
    return absolute_form_target{url->authority, "/" + std::string{url->rest}};
  return absolute_form_target{url->authority, std::string{url->rest}};
}

} // namespace medianest
