#include "model/human_bytes.hpp"

#include <array>
#include <string_view>

namespace medianest {

namespace {

constexpr std::array<std::string_view, 5> unit_names{"B", "KB", "MB", "GB", "TB"};

/// `bytes` in tenths of 1024^`power`, rounded half up, without overflowing for any uint64_t.
uint64_t tenths_of(uint64_t bytes, unsigned power) {
  const uint64_t unit = uint64_t{1} << (10 * power);
  return bytes / unit * 10 + ((bytes % unit) * 10 + unit / 2) / unit;
}

} // namespace

std::string human_bytes(uint64_t bytes) {
  if (bytes < 1024) {
    return std::to_string(bytes) + "B";
  }
  unsigned power = 1;
  while (power + 1 < unit_names.size() && bytes >= (uint64_t{1} << (10 * (power + 1)))) {
    ++power;
  }
  uint64_t tenths = tenths_of(bytes, power);
  if (tenths >= 10240 && power + 1 < unit_names.size()) {
    ++power; // 1023.95KB and above round to 1024KB: show 1MB instead
    tenths = tenths_of(bytes, power);
  }
  std::string out = std::to_string(tenths / 10);
  if (tenths % 10 != 0) {
    out += '.';
    out += static_cast<char>('0' + tenths % 10);
  }
  out += unit_names[power];
  return out;
}

} // namespace medianest
