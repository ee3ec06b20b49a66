#include <catch2/catch.hpp>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "http/auth.hpp"

using namespace medianest;
using namespace medianest::http;

namespace {

const std::string secret = "0123456789abcdef0123456789abcdef";
constexpr int64_t now = 1'750'000'000;

claims admin_claims(int64_t exp = now + 60) {
  return {"alice", role::admin, exp};
}

/// Signs an arbitrary header and payload, independently of mint_token.
std::string sign(const std::string& header_json, const std::string& payload_json,
                 const std::string& key = secret) {
  auto input = base64url_encode(header_json) + '.' + base64url_encode(payload_json);
  unsigned char mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + '.' + base64url_encode({reinterpret_cast<const char*>(mac), len});
}

errc code_of(const caf::expected<claims>& r) {
  REQUIRE_FALSE(r);
  return from_caf_error(r.error()).code;
}

} // namespace

TEST_CASE("base64url round-trips every length and rejects foreign characters") {
  std::string data;
  for (int i = 0; i < 40; ++i) {
    data.push_back(static_cast<char>(i * 37));
    std::string back;
    REQUIRE(base64url_decode(base64url_encode(data), back));
    CHECK(back == data);
  }
  std::string out;
  CHECK_FALSE(base64url_decode("ab+/", out));
  CHECK_FALSE(base64url_decode("abc=", out));
  CHECK(base64url_encode("\xfb\xff") == "-_8");
}

TEST_CASE("a minted token verifies and carries its claims") {
  jwt_verifier verifier{secret};
  auto token = mint_token(secret, admin_claims(), now);
  auto result = verifier.verify(token, now);
  REQUIRE(result);
  CHECK(result->subject == "alice");
  CHECK(result->role == role::admin);
  CHECK(result->expires_at == now + 60);
}

TEST_CASE("a token signed independently with HS256 verifies") {
  jwt_verifier verifier{secret};
  auto token = sign(R"({"alg":"HS256","typ":"JWT"})",
                    R"({"sub":"bob","role":"user","exp":)" + std::to_string(now + 5) + "}");
  auto result = verifier.verify(token, now);
  REQUIRE(result);
  CHECK(result->role == role::user);
  CHECK(result->subject == "bob");
}

TEST_CASE("rejects a token with alg none / even without a signature") {
  jwt_verifier verifier{secret};
  auto payload = R"({"role":"admin","exp":)" + std::to_string(now + 60) + "}";
  auto unsigned_token = base64url_encode(R"({"alg":"none","typ":"JWT"})") + '.'
                        + base64url_encode(payload) + '.';
  CHECK(code_of(verifier.verify(unsigned_token, now)) == errc::unauthorized);
  CHECK(code_of(verifier.verify(sign(R"({"alg":"none"})", payload), now)) == errc::unauthorized);
}

TEST_CASE("rejects every algorithm but HS256") {
  jwt_verifier verifier{secret};
  auto payload = R"({"role":"admin","exp":)" + std::to_string(now + 60) + "}";
  for (auto alg : {"HS384", "HS512", "RS256", "ES256", "hs256", ""}) {
    auto header = std::string{R"({"alg":")"} + alg + R"("})";
    CHECK(code_of(verifier.verify(sign(header, payload), now)) == errc::unauthorized);
  }
  CHECK(code_of(verifier.verify(sign(R"({"typ":"JWT"})", payload), now)) == errc::unauthorized);
}

TEST_CASE("rejects a bad signature / a tampered payload and another secret") {
  jwt_verifier verifier{secret};
  auto token = mint_token(secret, admin_claims(), now);
  auto flipped = token;
  flipped.back() = flipped.back() == 'A' ? 'B' : 'A';
  CHECK(code_of(verifier.verify(flipped, now)) == errc::unauthorized);
  auto middle = token;
  auto pos = token.size() - 10;
  middle[pos] = middle[pos] == 'x' ? 'y' : 'x';
  CHECK(code_of(verifier.verify(middle, now)) == errc::unauthorized);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto tampered = token.substr(0, dot1 + 1)
                  + base64url_encode(R"({"role":"admin","exp":99999999999})")
                  + token.substr(dot2);
  CHECK(code_of(verifier.verify(tampered, now)) == errc::unauthorized);
  auto other = mint_token("another-secret-another-secret-xx", admin_claims(), now);
  CHECK(code_of(verifier.verify(other, now)) == errc::unauthorized);
}

TEST_CASE("rejects expired tokens / tokens without exp and tokens not yet valid") {
  jwt_verifier verifier{secret};
  CHECK(code_of(verifier.verify(mint_token(secret, admin_claims(now), now - 10), now))
        == errc::unauthorized);
  CHECK(code_of(verifier.verify(mint_token(secret, admin_claims(now - 1), now - 10), now))
        == errc::unauthorized);
  CHECK(code_of(verifier.verify(sign(R"({"alg":"HS256"})", R"({"role":"admin"})"), now))
        == errc::unauthorized);
  CHECK(code_of(verifier.verify(
          sign(R"({"alg":"HS256"})", R"({"role":"admin","exp":"tomorrow"})"), now))
        == errc::unauthorized);
  auto future = sign(R"({"alg":"HS256"})", R"({"role":"admin","exp":)"
                                             + std::to_string(now + 100) + R"(,"nbf":)"
                                             + std::to_string(now + 50) + "}");
  CHECK(code_of(verifier.verify(future, now)) == errc::unauthorized);
  CHECK(verifier.verify(future, now + 60));
}

TEST_CASE("rejects a missing or unknown role") {
  jwt_verifier verifier{secret};
  auto exp = std::to_string(now + 60);
  CHECK(code_of(verifier.verify(sign(R"({"alg":"HS256"})", R"({"exp":)" + exp + "}"), now))
        == errc::unauthorized);
  CHECK(code_of(verifier.verify(
          sign(R"({"alg":"HS256"})", R"({"role":"root","exp":)" + exp + "}"), now))
        == errc::unauthorized);
}

TEST_CASE("rejects garbage") {
  jwt_verifier verifier{secret};
  for (auto garbage : {"", "abc", "a.b", "a.b.c", "....", "eyJ.eyJ.sig", "%%%.%%%.%%%"})
    CHECK(code_of(verifier.verify(garbage, now)) == errc::unauthorized);
  CHECK(code_of(verifier.verify(std::string(10000, 'a'), now)) == errc::unauthorized);
  auto not_json = base64url_encode("not json") + '.' + base64url_encode("{}") + ".sig";
  CHECK(code_of(verifier.verify(not_json, now)) == errc::unauthorized);
}

TEST_CASE("bearer_token takes the token of a Bearer header only") {
  CHECK(bearer_token("Bearer abc.def.ghi") == "abc.def.ghi");
  CHECK(bearer_token("bearer  abc ") == "abc");
  CHECK(bearer_token("Basic dXNlcjpwYXNz").empty());
  CHECK(bearer_token("Bearer").empty());
  CHECK(bearer_token("").empty());
}

TEST_CASE("authorize: open routes need nothing / user routes any role / admin routes admin") {
  jwt_verifier verifier{secret};
  auto admin = mint_token(secret, admin_claims(), now);
  auto user = mint_token(secret, {"u", role::user, now + 60}, now);
  CHECK(authorize(verifier, "", access::open, now));
  CHECK(code_of(authorize(verifier, "", access::user, now)) == errc::unauthorized);
  CHECK(authorize(verifier, user, access::user, now));
  CHECK(authorize(verifier, admin, access::user, now));
  CHECK(code_of(authorize(verifier, user, access::admin, now)) == errc::forbidden);
  CHECK(authorize(verifier, admin, access::admin, now));
}

TEST_CASE("a cached token is still refused once it expires") {
  jwt_verifier verifier{secret};
  auto token = mint_token(secret, admin_claims(now + 10), now);
  REQUIRE(verifier.verify(token, now));
  REQUIRE(verifier.verify(token, now + 9)); // served from the cache
  CHECK(code_of(verifier.verify(token, now + 10)) == errc::unauthorized);
}

TEST_CASE("a token verified by one verifier is not trusted by another with a different secret") {
  jwt_verifier first{secret};
  jwt_verifier second{"a-completely-different-secret-of-32+"};
  auto token = mint_token(secret, admin_claims(), now);
  REQUIRE(first.verify(token, now));
  CHECK(code_of(second.verify(token, now)) == errc::unauthorized);
}

// Found by fuzz/jwt_fuzz.cpp: a double past int64's range was cast to int64_t (undefined
// behaviour), and a uint64 nbf past INT64_MAX was ignored.
TEST_CASE("exp and nbf past int64's range mean never, they do not overflow or vanish") {
  jwt_verifier verifier{secret};
  for (auto exp : {"18446744073709551655", "1e300", "9223372036854775808"}) {
    INFO("exp " << exp);
    auto r = verifier.verify(sign(R"({"alg":"HS256"})",
                                  std::string{R"({"role":"user","exp":)"} + exp + "}"),
                             now);
    REQUIRE(r);
    CHECK(r->expires_at == INT64_MAX);
  }
  CHECK(code_of(verifier.verify(sign(R"({"alg":"HS256"})", R"({"role":"user","exp":-1e300})"), now))
        == errc::unauthorized);
  for (auto nbf : {"18446744073709551615", "1e300"}) {
    INFO("nbf " << nbf);
    auto token = sign(R"({"alg":"HS256"})", R"({"role":"user","exp":)" + std::to_string(now + 60)
                                               + R"(,"nbf":)" + nbf + "}");
    CHECK(code_of(verifier.verify(token, now)) == errc::unauthorized);
  }
}
