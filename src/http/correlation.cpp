#include "http/correlation.hpp"

#include <random>

namespace medianest::http {

std::string make_correlation_id() {
  std::string out;
  make_correlation_id(out);
  return out;
}

void make_correlation_id(std::string& out) {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  uint64_t hi = rng();
  uint64_t lo = rng();
  hi = (hi & ~0xF000ull) | 0x4000ull;                // version 4
  lo = (lo & ~(0xC000ull << 48)) | (0x8000ull << 48); // variant 10
  out.assign(36, '-');
  int nibble = 0;
  for (size_t i = 0; i < out.size(); ++i) {
    if (i == 8 || i == 13 || i == 18 || i == 23)
      continue;
    uint64_t word = nibble < 16 ? hi : lo;
    int shift = 60 - 4 * (nibble % 16);
    out[i] = hex[(word >> shift) & 0xF];
    ++nibble;
  }
}

bool acceptable_correlation_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 128)
    return false;
  for (unsigned char c : id)
    if (!(std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':'))
      return false;
  return true;
}

} // namespace medianest::http
