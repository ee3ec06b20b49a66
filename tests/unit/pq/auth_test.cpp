#include <catch2/catch.hpp>

#include <openssl/md5.h>

#include <random>
#include <string>

#include "model/base64.hpp"
#include "pq/auth.hpp"
#include "pq/md5.hpp"

using namespace medianest;
using namespace medianest::pq;

namespace {

std::string openssl_md5_hex(const std::string& data) {
  unsigned char digest[MD5_DIGEST_LENGTH];
  MD5(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (auto byte : digest) {
    out += digits[byte >> 4];
    out += digits[byte & 15];
  }
  return out;
}

} // namespace

TEST_CASE("md5 matches the RFC 1321 vectors") {
  CHECK(md5_hex("") == "d41d8cd98f00b204e9800998ecf8427e");
  CHECK(md5_hex("abc") == "900150983cd24fb0d6963f7d28e17f72");
  CHECK(md5_hex("message digest") == "f96b697d7cb7938d525a2f31aaf161d0");
  CHECK(md5_hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890")
        == "57edf4a22be3c955ac49da2e2107b67a");
}

TEST_CASE("md5 agrees with OpenSSL's at every length around the block boundaries") {
  std::mt19937 random{42};
  for (size_t size = 0; size < 300; ++size) {
    std::string data(size, '\0');
    for (auto& c : data)
      c = static_cast<char>(random());
    INFO("size " << size);
    CHECK(md5_hex(data) == openssl_md5_hex(data));
  }
}

TEST_CASE("the md5 password answer is md5(md5(password + user) + salt), as PostgreSQL stores it") {
  // PostgreSQL stores "md5" + md5("postgres" + "postgres") for role postgres, password postgres.
  CHECK(md5_hex("postgrespostgres") == "3175bce1d3201d16594cebf9d7eb3f9d");
  CHECK(md5_password_response("postgres", "postgres", std::string{"\x01\x02\x03\x04", 4})
        == "md568be9ed08db75f318087ab337aaea044"); // Python's hashlib, by the same recipe
}

TEST_CASE("SCRAM-SHA-256 reproduces the RFC 7677 exchange") {
  scram_client scram{"pencil", "rOprNGfwEbeRWgbNEkqO", "user"};
  CHECK(scram.client_first() == "n,,n=user,r=rOprNGfwEbeRWgbNEkqO");
  std::string final_message, error;
  REQUIRE(scram.client_final(
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
    final_message, error));
  CHECK(final_message
        == "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
           "p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=");
  CHECK(scram.verify_server_final("v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=", error));
  SECTION("a server that does not know the password is caught by its signature") {
    CHECK_FALSE(scram.verify_server_final("v=" + base64_encode(std::string(32, 'x')), error));
    CHECK_THAT(error, Catch::Contains("server signature"));
  }
}

TEST_CASE("SCRAM refuses server-first messages that are malformed, cheap or not ours") {
  scram_client scram{"pencil", "abc"};
  std::string out, error;
  CHECK_FALSE(scram.client_final("r=xyz123,s=c2FsdA==,i=4096", out, error)); // nonce not ours
  CHECK_FALSE(scram.client_final("r=abc,s=c2FsdA==,i=4096", out, error));    // not extended
  CHECK_FALSE(scram.client_final("r=abcdef,s=c2FsdA==,i=1", out, error));    // too few rounds
  CHECK_FALSE(scram.client_final("r=abcdef,s=!!!,i=4096", out, error));      // bad salt
  CHECK_FALSE(scram.client_final("r=abcdef,i=4096", out, error));            // no salt
  CHECK_FALSE(scram.client_final("e=other-error", out, error));
  CHECK_THAT(error, Catch::Contains("other-error"));
  CHECK(scram.client_final("r=abcdef,s=c2FsdA==,i=4096", out, error));
}

TEST_CASE("SCRAM client nonces are fresh printable base64") {
  auto a = scram_client::random_nonce(), b = scram_client::random_nonce();
  CHECK(a.size() == 24);
  CHECK(a != b);
  CHECK(a.find(',') == std::string::npos);
}

TEST_CASE("base64 round-trips and refuses what is not base64") {
  std::string out;
  for (std::string s : {"", "f", "fo", "foo", "foob", "fooba", "foobar"}) {
    REQUIRE(base64_decode(base64_encode(s), out));
    CHECK(out == s);
  }
  CHECK(base64_encode("foobar") == "Zm9vYmFy");
  CHECK(base64_encode("fo") == "Zm8=");
  CHECK(base64_encode("f") == "Zg==");
  CHECK_FALSE(base64_decode("Zm9", out));
  CHECK_FALSE(base64_decode("Zm9-", out));
  CHECK_FALSE(base64_decode("Z=9v", out));
}
