#pragma once

// Route templates for gateway metrics: "/api/v1/media/12345" is counted as
// "/api/v1/media/:id", so the number of distinct metric labels stays bounded.

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace medianest {

/// An explicit template configured by the operator, e.g. "/api/v1/media/:id/seasons/:season".
/// Segments starting with ':' match one non-empty segment; "*" as the LAST segment matches the
/// rest of the path (one or more segments). Any other segment, including a "*" that is not
/// last, matches itself exactly (case-sensitive). Empty segments are ignored on both sides, so
/// "/a//b/" matches "/a/b".
struct route_pattern {
  std::string pattern;
};

/// Paths deeper than this keep their first `max_route_segments` segments and end with "/*".
inline constexpr std::size_t max_route_segments = 12;

/// Segments longer than this (in raw, still-encoded characters) are folded to ":id".
inline constexpr std::size_t max_route_segment_length = 64;

/// True when one path segment (raw, possibly percent-encoded) looks like an identifier and
/// would be folded to ":id": all digits; a UUID (8-4-4-4-12 hex, any case); a hex string of 16
/// characters or more; a base64url token ([A-Za-z0-9_-]) of 20 characters or more holding at
/// least one digit and one letter; or any segment longer than `max_route_segment_length`.
/// Percent-escapes are decoded for the test only ("%31%32" is digits); a malformed escape is
/// taken literally. Mixed words such as "v1", "page2" or "123.json" are not identifiers.
bool is_identifier_segment(std::string_view segment) noexcept;

/// Folds a request path into its route template:
/// 1. the first of `explicit_patterns` that matches wins and is returned verbatim;
/// 2. otherwise every segment for which `is_identifier_segment` holds becomes ":id", and every
///    other segment is kept as written (still percent-encoded);
/// 3. empty segments are collapsed, a trailing slash is dropped and the result always starts
///    with '/' (an empty path folds to "/");
/// 4. a path with more than `max_route_segments` segments keeps the first ones and ends "/*".
/// Anything from the first '?' or '#' on is ignored, in case a caller passes a full target.
/// Cheap enough for every request: no regex and no allocation but the returned string.
std::string fold_route(std::string_view path,
                       const std::vector<route_pattern>& explicit_patterns = {});

/// The same, written into `out` (whose storage is reused).
void fold_route(std::string& out, std::string_view path,
                const std::vector<route_pattern>& explicit_patterns);

} // namespace medianest
