#include "model/query_string.hpp"
#include "model/http_text.hpp"

#include <algorithm>
#include <charconv>

namespace medianest {

namespace {


bool decode(std::string_view in, std::string& out) {
  out.clear();
  for (size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '+') {
      out += ' ';
    } else if (in[i] == '%') {
      if (i + 2 >= in.size())
        return false;
      auto hi = hex_value(in[i + 1]);
      auto lo = hex_value(in[i + 2]);
      if (hi < 0 || lo < 0)
        return false;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    } else {
      out += in[i];
    }
  }
  return true;
}

} // namespace

bool parse_query_string(std::string_view query,
                        std::vector<std::pair<std::string, std::string>>& out,
                        std::string* bad_key) {
  out.clear();
  size_t pos = 0;
  while (pos < query.size()) {
    auto amp = query.find('&', pos);
    if (amp == std::string_view::npos)
      amp = query.size();
    auto part = query.substr(pos, amp - pos);
    pos = amp + 1;
    if (part.empty())
      continue;
    auto eq = part.find('=');
    std::string key, value;
    if (!decode(part.substr(0, eq), key))
      return false;
    if (eq != std::string_view::npos && !decode(part.substr(eq + 1), value)) {
      if (bad_key)
        *bad_key = key;
      return false;
    }
    out.emplace_back(std::move(key), std::move(value));
  }
  return true;
}

std::variant<int64_t, api_error> parse_int_param(std::string_view query, std::string_view name,
                                                 int64_t fallback, int64_t max) {
  std::vector<std::pair<std::string, std::string>> params;
  std::string bad_key;
  if (!parse_query_string(query, params, &bad_key))
    return validation_error(bad_key.empty() ? "query" : bad_key, "invalid percent-encoding");
  int64_t out = fallback;
  for (const auto& [key, value] : params) {
    if (key != name)
      return validation_error(key, "unknown parameter '" + key + "'");
    // Digits only: strtoll skips spaces and a sign, and stops at a decoded NUL ("%00" was 0).
    int64_t n = -1;
    bool digits = !value.empty() && std::all_of(value.begin(), value.end(), [](char c) {
      return c >= '0' && c <= '9';
    });
    if (!digits || std::from_chars(value.data(), value.data() + value.size(), n).ec != std::errc{}
        || n > max)
      return validation_error(key, std::string{name} + " must be an integer from 0 to "
                                     + std::to_string(max));
    out = n;
  }
  return out;
}

} // namespace medianest
