#include "model/sha256.hpp"

#include <cstring>

namespace medianest {

namespace {

constexpr std::array<uint32_t, 64> round_constants = {
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2};

constexpr uint32_t rotr(uint32_t x, int n) noexcept {
  return (x >> n) | (x << (32 - n));
}

uint32_t load_be32(const unsigned char* p) noexcept {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

void store_be32(uint32_t v, unsigned char* p) noexcept {
  p[0] = static_cast<unsigned char>(v >> 24);
  p[1] = static_cast<unsigned char>(v >> 16);
  p[2] = static_cast<unsigned char>(v >> 8);
  p[3] = static_cast<unsigned char>(v);
}

} // namespace

sha256::sha256() noexcept
  : state_{0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
           0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19} {
  // nop
}

void sha256::compress(const unsigned char* block) noexcept {
  std::array<uint32_t, 64> w;
  for (int i = 0; i < 16; ++i)
    w[i] = load_be32(block + 4 * i);
  for (int i = 16; i < 64; ++i) {
    uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  auto [a, b, c, d, e, f, g, h] = state_;
  for (int i = 0; i < 64; ++i) {
    uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g))
                  + round_constants[i] + w[i];
    uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  const std::array<uint32_t, 8> add = {a, b, c, d, e, f, g, h};
  for (int i = 0; i < 8; ++i)
    state_[i] += add[i];
}

void sha256::update(std::string_view data) noexcept {
  if (data.empty()) // an empty view may hold a null pointer, which memcpy must not get
    return;
  auto* p = reinterpret_cast<const unsigned char*>(data.data());
  size_t n = data.size();
  total_bytes_ += n;
  if (buffered_ > 0) {
    size_t take = std::min(n, buffer_.size() - buffered_);
    std::memcpy(buffer_.data() + buffered_, p, take);
    buffered_ += take;
    p += take;
    n -= take;
    if (buffered_ < buffer_.size())
      return;
    compress(buffer_.data());
    buffered_ = 0;
  }
  for (; n >= 64; p += 64, n -= 64)
    compress(p);
  if (n > 0)
    std::memcpy(buffer_.data(), p, n);
  buffered_ = n;
}

sha256_digest sha256::finish() noexcept {
  const uint64_t bit_length = total_bytes_ * 8;
  buffer_[buffered_++] = 0x80;
  if (buffered_ > 56) {
    std::memset(buffer_.data() + buffered_, 0, 64 - buffered_);
    compress(buffer_.data());
    buffered_ = 0;
  }
  std::memset(buffer_.data() + buffered_, 0, 56 - buffered_);
  store_be32(static_cast<uint32_t>(bit_length >> 32), buffer_.data() + 56);
  store_be32(static_cast<uint32_t>(bit_length), buffer_.data() + 60);
  compress(buffer_.data());
  sha256_digest out;
  for (int i = 0; i < 8; ++i)
    store_be32(state_[i], out.data() + 4 * i);
  return out;
}

sha256_digest sha256_of(std::string_view data) noexcept {
  sha256 hash;
  hash.update(data);
  return hash.finish();
}

sha256_digest hmac_sha256(std::string_view key, std::string_view data) noexcept {
  std::array<unsigned char, 64> block{};
  if (key.size() > block.size()) {
    auto hashed = sha256_of(key);
    std::memcpy(block.data(), hashed.data(), hashed.size());
  } else if (!key.empty()) {
    std::memcpy(block.data(), key.data(), key.size());
  }
  std::array<unsigned char, 64> inner_pad;
  std::array<unsigned char, 64> outer_pad;
  for (size_t i = 0; i < block.size(); ++i) {
    inner_pad[i] = block[i] ^ 0x36;
    outer_pad[i] = block[i] ^ 0x5c;
  }
  auto as_view = [](const auto& bytes) {
    return std::string_view{reinterpret_cast<const char*>(bytes.data()), bytes.size()};
  };
  sha256 inner;
  inner.update(as_view(inner_pad));
  inner.update(data);
  auto inner_digest = inner.finish();
  sha256 outer;
  outer.update(as_view(outer_pad));
  outer.update(as_view(inner_digest));
  return outer.finish();
}

bool constant_time_equal(const unsigned char* a, const unsigned char* b, size_t size) noexcept {
  volatile unsigned char difference = 0;
  for (size_t i = 0; i < size; ++i)
    difference = difference | (a[i] ^ b[i]);
  return difference == 0;
}

} // namespace medianest
