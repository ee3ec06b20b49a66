#include "model/base64.hpp"

#include <cstdint>

namespace medianest {

namespace {

constexpr std::string_view standard_alphabet =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr std::string_view url_alphabet =
  "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

std::string encode(std::string_view in, std::string_view alphabet, bool pad) {
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  auto byte = [&](size_t k) { return static_cast<uint32_t>(static_cast<unsigned char>(in[k])); };
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    uint32_t v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int shift = 18; shift >= 0; shift -= 6)
      out += alphabet[(v >> shift) & 63];
  }
  if (auto rest = in.size() - i; rest > 0) {
    uint32_t v = byte(i) << 16 | (rest == 2 ? byte(i + 1) << 8 : 0);
    out += alphabet[(v >> 18) & 63];
    out += alphabet[(v >> 12) & 63];
    if (rest == 2)
      out += alphabet[(v >> 6) & 63];
    if (pad)
      out.append(rest == 2 ? "=" : "==");
  }
  return out;
}

/// Decodes unpadded text; false on a character outside the alphabet or, when `canonical`,
/// leftover bits that are not zero (several spellings of the same bytes).
bool decode(std::string_view in, std::string_view alphabet, bool canonical, std::string& out) {
  out.clear();
  if (in.size() % 4 == 1)
    return false;
  out.reserve(in.size() * 3 / 4);
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    auto pos = alphabet.find(c);
    if (pos == std::string_view::npos)
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(pos);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return !canonical || (acc & ((1u << bits) - 1)) == 0;
}

} // namespace

std::string base64_encode(std::string_view data) {
  return encode(data, standard_alphabet, true);
}

bool base64_decode(std::string_view in, std::string& out) {
  out.clear();
  if (in.size() % 4 != 0)
    return false;
  size_t padding = 0;
  while (padding < 2 && padding < in.size() && in[in.size() - 1 - padding] == '=')
    ++padding;
  return decode(in.substr(0, in.size() - padding), standard_alphabet, false, out);
}

std::string base64url_encode(std::string_view data) {
  return encode(data, url_alphabet, false);
}

bool base64url_decode(std::string_view in, std::string& out) {
  // Only the canonical encoding: otherwise several spellings of one JWT signature would verify.
  return decode(in, url_alphabet, true, out);
}

} // namespace medianest
