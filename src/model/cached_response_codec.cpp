#include "model/cached_response_codec.hpp"

#include <charconv>

namespace medianest {

namespace {

constexpr std::string_view magic = "MNPGW1\n";

/// Takes the next '\n'-terminated line off `in`.
bool next_line(std::string_view& in, std::string_view& line) {
  auto nl = in.find('\n');
  if (nl == std::string_view::npos)
    return false;
  line = in.substr(0, nl);
  in.remove_prefix(nl + 1);
  return true;
}

template <class Int>
bool next_number(std::string_view& in, Int& out) {
  std::string_view line;
  if (!next_line(in, line))
    return false;
  auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), out);
  return ec == std::errc{} && end == line.data() + line.size();
}

bool has_newline(std::string_view s) {
  return s.find('\n') != std::string_view::npos;
}

} // namespace

std::string encode_cached_response(const cached_response& r, int64_t expires_unix_ms) {
  std::string out{magic};
  out.append(std::to_string(expires_unix_ms)).push_back('\n');
  out.append(std::to_string(r.status)).push_back('\n');
  out.append(has_newline(r.content_type) ? std::string_view{} : r.content_type).push_back('\n');
  size_t headers = 0;
  for (const auto& [name, value] : r.headers)
    headers += !has_newline(name) && !has_newline(value);
  out.append(std::to_string(headers)).push_back('\n');
  for (const auto& [name, value] : r.headers) {
    if (has_newline(name) || has_newline(value))
      continue; // a header can hold no newline; never let one forge the format
    out.append(name).push_back('\n');
    out.append(value).push_back('\n');
  }
  out.append(r.body);
  return out;
}

std::optional<decoded_response> decode_cached_response(std::string_view in) {
  if (in.substr(0, magic.size()) != magic)
    return std::nullopt;
  in.remove_prefix(magic.size());
  decoded_response d;
  size_t headers = 0;
  std::string_view content_type;
  if (!next_number(in, d.expires_unix_ms) || !next_number(in, d.response.status)
      || !next_line(in, content_type) || !next_number(in, headers) || headers > 1000)
    return std::nullopt;
  d.response.content_type = std::string{content_type};
  for (size_t i = 0; i < headers; ++i) {
    std::string_view name, value;
    if (!next_line(in, name) || !next_line(in, value))
      return std::nullopt;
    d.response.headers.emplace_back(name, value);
  }
  d.response.body = std::string{in};
  return d;
}

} // namespace medianest
