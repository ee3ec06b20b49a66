#include <catch2/catch.hpp>

#include <string>

#include "model/sha256.hpp"

using namespace medianest;

namespace {

std::string hex(const sha256_digest& digest) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto byte : digest) {
    out.push_back(digits[byte >> 4]);
    out.push_back(digits[byte & 15]);
  }
  return out;
}

std::string repeated(char c, size_t n) {
  return std::string(n, c);
}

} // namespace

TEST_CASE("sha256 matches the FIPS 180-4 example vectors") {
  CHECK(hex(sha256_of(""))
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256_of(std::string_view{})) // a null data pointer (UBSan checks the memcpy)
        == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(hex(sha256_of("abc"))
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  CHECK(hex(sha256_of("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"))
        == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  CHECK(hex(sha256_of(repeated('a', 1000000)))
        == "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("sha256 gives the same digest however the input is split") {
  std::string input;
  for (int i = 0; i < 300; ++i)
    input.push_back(static_cast<char>(i * 7));
  const auto whole = sha256_of(input);
  for (size_t piece : {1u, 3u, 55u, 56u, 63u, 64u, 65u, 127u}) {
    sha256 hash;
    for (size_t at = 0; at < input.size(); at += piece)
      hash.update(std::string_view{input}.substr(at, piece));
    CHECK(hash.finish() == whole);
  }
  // Lengths around the padding boundary (55, 56, 64 bytes) against their one-shot digests
  // computed by `printf ... | sha256sum`.
  CHECK(hex(sha256_of(repeated('a', 55)))
        == "9f4390f8d30c2dd92ec9f095b65e2b9ae9b0a925a5258e241c9f1e910f734318");
  CHECK(hex(sha256_of(repeated('a', 56)))
        == "b35439a4ac6f0948b6d6f9e3c6af0f5f590ce20f1bde7090ef7970686ec6738a");
  CHECK(hex(sha256_of(repeated('a', 64)))
        == "ffe054fe7ae0cb6dc65c3af9b61d5209f439851db43d0ba5997337df154668eb");
}

TEST_CASE("hmac_sha256 matches the RFC 4231 test cases") {
  // An empty key and empty data (null pointers) against `openssl dgst -sha256 -hmac ''`.
  CHECK(hex(hmac_sha256(std::string_view{}, std::string_view{}))
        == "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  // Test case 1
  CHECK(hex(hmac_sha256(repeated('\x0b', 20), "Hi There"))
        == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  // Test case 2: a key shorter than the block
  CHECK(hex(hmac_sha256("Jefe", "what do ya want for nothing?"))
        == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  // Test case 3
  CHECK(hex(hmac_sha256(repeated('\xaa', 20), repeated('\xdd', 50)))
        == "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe");
  // Test case 6: a key longer than the block is hashed first
  CHECK(hex(hmac_sha256(repeated('\xaa', 131),
                        "Test Using Larger Than Block-Size Key - Hash Key First"))
        == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
  // Test case 7
  CHECK(hex(hmac_sha256(
          repeated('\xaa', 131),
          "This is a test using a larger than block-size key and a larger than block-size data. "
          "The key needs to be hashed before being used by the HMAC algorithm."))
        == "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2");
}

TEST_CASE("constant_time_equal tells equal from different bytes") {
  const unsigned char a[] = {1, 2, 3, 4};
  const unsigned char b[] = {1, 2, 3, 4};
  const unsigned char c[] = {1, 2, 3, 5};
  CHECK(constant_time_equal(a, b, 4));
  CHECK_FALSE(constant_time_equal(a, c, 4));
  CHECK(constant_time_equal(a, c, 3));
}
