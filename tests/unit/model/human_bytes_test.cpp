#include <catch2/catch.hpp>

#include <cstdint>
#include <limits>

#include "model/human_bytes.hpp"

using medianest::human_bytes;

TEST_CASE("human_bytes shows bytes below one KB without decimals") {
  CHECK(human_bytes(0) == "0B");
  CHECK(human_bytes(1) == "1B");
  CHECK(human_bytes(512) == "512B");
  CHECK(human_bytes(1023) == "1023B");
}

TEST_CASE("human_bytes drops the decimal of whole values") {
  CHECK(human_bytes(1024) == "1KB");
  CHECK(human_bytes(1025) == "1KB"); // 1.0009KB rounds to 1.0
  CHECK(human_bytes(128ULL << 20) == "128MB");
  CHECK(human_bytes(1ULL << 30) == "1GB");
  CHECK(human_bytes(1ULL << 40) == "1TB");
}

TEST_CASE("human_bytes keeps one decimal rounded half up") {
  CHECK(human_bytes(1536) == "1.5KB");
  CHECK(human_bytes(1075) == "1KB");     // 1.0498KB
  CHECK(human_bytes(1076) == "1.1KB");   // 1.0508KB
  CHECK(human_bytes(1280) == "1.3KB");   // exactly 1.25KB
  CHECK(human_bytes(3ULL << 19) == "1.5MB");
  CHECK(human_bytes((5ULL << 30) / 2) == "2.5GB");
}

TEST_CASE("human_bytes moves to the next unit when rounding reaches 1024") {
  CHECK(human_bytes(1048524) == "1023.9KB"); // 1023.949KB
  CHECK(human_bytes(1048525) == "1MB");      // 1023.950KB rounds to 1024.0KB
  CHECK(human_bytes((1ULL << 20) - 1) == "1MB");
  CHECK(human_bytes(1ULL << 20) == "1MB");
  CHECK(human_bytes((1ULL << 30) - 1) == "1GB");
  CHECK(human_bytes((1ULL << 40) - 1) == "1TB");
}

TEST_CASE("human_bytes stops at TB and survives the largest count") {
  CHECK(human_bytes(2048ULL << 40) == "2048TB");
  CHECK(human_bytes(std::numeric_limits<uint64_t>::max()) == "16777216TB");
}
