#pragma once
// SHA-256 (FIPS 180-4) and HMAC-SHA256 (RFC 2104) for JWT signatures and cache keys.
// Our own 150 lines instead of OpenSSL: linking libcrypto costs the daemon ~3.5 MB of resident
// memory (its initialisation alone touches that much), more than the rest of our footprint
// budget, and these two functions are all we used of it (docs/benchmarks.md, "Overhead").
// Checked against the NIST and RFC 4231 vectors in tests/unit/model/sha256_test.cpp.

#include <array>
#include <cstdint>
#include <string_view>

namespace medianest {

using sha256_digest = std::array<unsigned char, 32>;

/// Incremental SHA-256.
class sha256 {
public:
  sha256() noexcept;
  void update(std::string_view data) noexcept;
  sha256_digest finish() noexcept;

private:
  void compress(const unsigned char* block) noexcept;

  std::array<uint32_t, 8> state_;
  std::array<unsigned char, 64> buffer_{};
  uint64_t total_bytes_ = 0;
  size_t buffered_ = 0;
};

sha256_digest sha256_of(std::string_view data) noexcept;

sha256_digest hmac_sha256(std::string_view key, std::string_view data) noexcept;

/// Compares two equally long byte strings in time independent of where they differ.
bool constant_time_equal(const unsigned char* a, const unsigned char* b, size_t size) noexcept;

} // namespace medianest
