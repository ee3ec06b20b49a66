#include "model/route_template.hpp"
#include "model/http_text.hpp"

#include <algorithm>
#include <array>

namespace medianest {

namespace {

constexpr std::string_view id_placeholder = ":id";
constexpr std::size_t min_hex_id_length = 16;
constexpr std::size_t min_token_id_length = 20;
constexpr std::size_t uuid_length = 36;
// Largest folded result: every kept segment at its longest, each with its '/', then "/*".
constexpr std::size_t max_folded_length = max_route_segments * (max_route_segment_length + 1) + 2;

/// Walks the non-empty '/'-separated segments of a path, without allocating.
class segment_cursor {
public:
  explicit segment_cursor(std::string_view path) noexcept : rest_(path) {}

  /// Stores the next non-empty segment in `out`; false once the path is exhausted.
  bool next(std::string_view& out) noexcept {
    while (!rest_.empty() && rest_.front() == '/')
      rest_.remove_prefix(1);
    if (rest_.empty())
      return false;
    auto slash = std::min(rest_.find('/'), rest_.size());
    out = rest_.substr(0, slash);
    rest_.remove_prefix(slash);
    return true;
  }

private:
  std::string_view rest_;
};


/// Character classes, as bits so that one pass can AND ("every character is") and OR ("some
/// character is") them together.
enum char_class : unsigned char {
  digit_class = 1,
  hex_class = 2,
  letter_class = 4,
  token_class = 8, // base64url: letters, digits, '-' and '_'
};

constexpr std::array<unsigned char, 256> make_class_table() noexcept {
  std::array<unsigned char, 256> table{};
  for (int c = 0; c < 256; ++c) {
    bool digit = c >= '0' && c <= '9';
    bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    bool hex = digit || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    bool token = digit || letter || c == '-' || c == '_';
    table[c] = static_cast<unsigned char>((digit ? digit_class : 0) | (hex ? hex_class : 0) |
                                          (letter ? letter_class : 0) | (token ? token_class : 0));
  }
  return table;
}

constexpr auto class_table = make_class_table();

unsigned char class_of(char c) noexcept { return class_table[static_cast<unsigned char>(c)]; }

bool is_uuid_dash_position(std::size_t i) noexcept {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

/// What one pass over a decoded segment learnt.
struct segment_shape {
  std::size_t length = 0;
  unsigned char every = 0xff; // classes every character belongs to
  unsigned char some = 0;     // classes at least one character belongs to
  bool uuid = true;           // hex everywhere but '-' at 8, 13, 18 and 23 so far

  void add(char c) noexcept {
    auto cls = class_of(c);
    every &= cls;
    some |= cls;
    if (uuid)
      uuid = is_uuid_dash_position(length) ? c == '-' : (cls & hex_class) != 0;
    ++length;
  }

  bool all(char_class cls) const noexcept { return (every & cls) != 0; }

  bool is_identifier() const noexcept {
    if (length == 0)
      return false;
    bool mixed = (some & digit_class) && (some & letter_class);
    return all(digit_class) || (uuid && length == uuid_length) ||
           (all(hex_class) && length >= min_hex_id_length) ||
           (all(token_class) && mixed && length >= min_token_id_length);
  }
};

/// Feeds `segment` to a shape one decoded character at a time; "%zz" stays literal.
segment_shape measure(std::string_view segment) noexcept {
  segment_shape shape;
  for (std::size_t i = 0; i < segment.size(); ++i) {
    char c = segment[i];
    if (c == '%' && i + 2 < segment.size()) {
      int hi = hex_value(segment[i + 1]);
      int lo = hex_value(segment[i + 2]);
      if (hi >= 0 && lo >= 0) {
        c = static_cast<char>(hi * 16 + lo);
        i += 2;
      }
    }
    shape.add(c);
  }
  return shape;
}

/// The path without any query string or fragment.
std::string_view strip_query(std::string_view path) noexcept {
  std::size_t end = 0;
  while (end < path.size() && path[end] != '?' && path[end] != '#')
    ++end;
  return path.substr(0, end);
}

/// True when `pattern` matches the whole of `path`, segment by segment.
bool matches(std::string_view pattern, std::string_view path) noexcept {
  segment_cursor want(pattern);
  segment_cursor got(path);
  std::string_view want_segment, got_segment, peeked;
  while (want.next(want_segment)) {
    bool last = !segment_cursor(want).next(peeked);
    if (!got.next(got_segment))
      return false;
    if (want_segment == "*" && last)
      return true;
    if (want_segment.front() != ':' && want_segment != got_segment)
      return false;
  }
  return !got.next(got_segment);
}

} // namespace

bool is_identifier_segment(std::string_view segment) noexcept {
  if (segment.size() > max_route_segment_length)
    return true;
  return measure(segment).is_identifier();
}

std::string fold_route(std::string_view path, const std::vector<route_pattern>& explicit_patterns) {
  std::string folded;
  fold_route(folded, path, explicit_patterns);
  return folded;
}

void fold_route(std::string& folded, std::string_view path,
                const std::vector<route_pattern>& explicit_patterns) {
  folded.clear();
  path = strip_query(path);
  for (const auto& candidate : explicit_patterns) {
    if (matches(candidate.pattern, path)) {
      folded = candidate.pattern;
      return;
    }
  }

  // Each kept segment grows by at most two (a one-digit id becomes ":id"), so this is enough.
  folded.reserve(std::min(path.size() + 2 * max_route_segments + 3, max_folded_length));
  segment_cursor cursor(path);
  std::string_view segment;
  std::size_t depth = 0;
  while (cursor.next(segment)) {
    if (depth == max_route_segments) {
      folded += "/*";
      break;
    }
    folded += '/';
    folded += is_identifier_segment(segment) ? id_placeholder : segment;
    ++depth;
  }
  if (folded.empty())
    folded += '/';
}

} // namespace medianest
