// Bearer tokens: jwt_verifier::verify (HS256 JWT verification, src/http/auth.cpp), with
// bearer_token, base64url and the HMAC-SHA256 it signs with (src/model/sha256.cpp).
//
// The bytes are used three ways. As a token: random bytes almost never carry a valid
// signature, so this covers the parsing before the signature check. As "header\npayload": the
// two JSON texts are encoded and signed with the verifier's secret, so that the claims checks
// behind the signature (alg, crit, exp, nbf, role, sub) see every mutation. As claims for
// mint_token, whose tokens must verify to the same claims.
//
// Invariants: verify never throws and refuses with UNAUTHORIZED; an accepted token has a role,
// expires after `now` (and is valid from before it) by the numbers in its payload, came with
// {"alg":"HS256"} and no "crit", and verifies again (from the
// per-thread cache and with a fresh verifier) to the same claims; base64url decoding accepts
// exactly the canonical encodings; our HMAC-SHA256 and SHA-256 agree with OpenSSL's.

#include <algorithm>
#include <string>

#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "fuzz_check.hpp"
#include "http/auth.hpp"
#include "model/sha256.hpp"

using namespace medianest;
using namespace medianest::http;

namespace {

constexpr std::string_view secret = "fuzzing-secret-0123456789abcdef-0123456789";
constexpr int64_t now = 1'700'000'000;

bool same(const claims& a, const claims& b) {
  return a.subject == b.subject && a.role == b.role && a.expires_at == b.expires_at;
}

void check_refusal(const caf::error& err) {
  auto e = from_caf_error(err);
  FUZZ_CHECK(e.code == errc::unauthorized);
  // The reason goes to the log; it must never carry the token: it is one short fixed text.
  // (Not "does not contain the token": a short token may be a piece of the reason itself.)
  FUZZ_CHECK(!e.message.empty() && e.message.size() < 64);
}

/// Verifies `token`; an accepted one must be consistent and verify again the same.
caf::expected<claims> check_token(const jwt_verifier& verifier, std::string_view token) {
  auto result = verifier.verify(token, now);
  if (!result) {
    check_refusal(result.error());
    return result;
  }
  FUZZ_CHECK(result->expires_at > now);
  FUZZ_CHECK(result->role == role::admin || result->role == role::user);
  auto cached = verifier.verify(token, now);
  FUZZ_CHECK(cached && same(*cached, *result));
  jwt_verifier fresh{std::string{secret}};
  auto uncached = fresh.verify(token, now);
  FUZZ_CHECK(uncached && same(*uncached, *result));
  // Past its exp, the same token is refused, also when it comes from the cache.
  FUZZ_CHECK(!verifier.verify(token, result->expires_at));
  auto admin = authorize(verifier, token, access::admin, now);
  FUZZ_CHECK(static_cast<bool>(admin) == (result->role == role::admin));
  return result;
}

void check_base64url(std::string_view bytes) {
  std::string decoded;
  FUZZ_CHECK(base64url_decode(base64url_encode(bytes), decoded) && decoded == bytes);
  if (base64url_decode(bytes, decoded))
    FUZZ_CHECK(base64url_encode(decoded) == bytes);
}

void check_hmac(std::string_view bytes) {
  auto split = bytes.size() / 3;
  auto key = bytes.substr(0, split);
  auto message = bytes.substr(split);
  unsigned char want[EVP_MAX_MD_SIZE];
  unsigned int want_size = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(message.data()), message.size(), want, &want_size);
  auto got = hmac_sha256(key, message);
  FUZZ_CHECK(want_size == got.size() && std::equal(got.begin(), got.end(), want));
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  auto ours = sha256_of(bytes);
  FUZZ_CHECK(std::equal(ours.begin(), ours.end(), digest));
}

/// Signs "header\npayload" with the secret, as if we had minted it, and checks what verify
/// makes of the claims.
void check_signed(const jwt_verifier& verifier, std::string_view bytes) {
  auto nl = bytes.find('\n');
  if (nl == std::string_view::npos)
    return;
  auto header = bytes.substr(0, nl);
  auto payload = bytes.substr(nl + 1);
  auto signing_input = base64url_encode(header) + '.' + base64url_encode(payload);
  auto sig = hmac_sha256(secret, signing_input);
  auto token = signing_input + '.'
               + base64url_encode({reinterpret_cast<const char*>(sig.data()), sig.size()});
  auto result = check_token(verifier, token);
  if (!result)
    return;
  // Accepted: the header said HS256 and nothing critical; the payload had a role.
  boost::system::error_code ec;
  auto h = boost::json::parse(header, ec);
  FUZZ_CHECK(!ec && h.is_object());
  auto alg = h.as_object().if_contains("alg");
  FUZZ_CHECK(alg && alg->is_string() && alg->as_string() == "HS256");
  FUZZ_CHECK(!h.as_object().contains("crit"));
  auto p = boost::json::parse(payload, ec);
  FUZZ_CHECK(!ec && p.is_object());
  auto r = p.as_object().if_contains("role");
  FUZZ_CHECK(r && r->is_string());
  FUZZ_CHECK(r->as_string() == (result->role == role::admin ? "admin" : "user"));
  // Whole seconds: exp must be at least a second ahead, nbf not a second or more ahead, however
  // large the numbers are written.
  auto exp = p.as_object().if_contains("exp");
  FUZZ_CHECK(exp && exp->is_number() && exp->to_number<double>() >= double(now) + 1);
  if (auto nbf = p.as_object().if_contains("nbf"); nbf && nbf->is_number())
    FUZZ_CHECK(nbf->to_number<double>() < double(now) + 1);
  // The same token with any other secret is refused.
  jwt_verifier other{std::string{secret} + "x"};
  FUZZ_CHECK(!other.verify(token, now));
}

/// mint_token's tokens verify to the claims they were minted with.
void check_minted(const jwt_verifier& verifier, std::string_view bytes) {
  if (bytes.size() < 2)
    return;
  claims c;
  c.role = (bytes[0] & 1) ? role::admin : role::user;
  c.expires_at = now + 1 + static_cast<unsigned char>(bytes[1]) * 1000;
  // A subject is a short name; a long one would only make the run spend its time hashing.
  c.subject = std::string{bytes.substr(2, 200)};
  auto token = mint_token(secret, c, now);
  auto result = check_token(verifier, token);
  FUZZ_CHECK(result);
  FUZZ_CHECK(result->role == c.role && result->expires_at == c.expires_at);
  // A subject that is text comes back as it went in (other bytes are replaced by U+FFFD).
  if (std::all_of(c.subject.begin(), c.subject.end(),
                  [](char ch) { return static_cast<unsigned char>(ch) < 0x80; }))
    FUZZ_CHECK(result->subject == c.subject);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const jwt_verifier verifier{std::string{secret}};
  auto bytes = fuzz::as_text(data, size);
  check_token(verifier, bytes);
  auto bearer = bearer_token(bytes);
  FUZZ_CHECK(bearer.empty() || (bearer.front() != ' ' && bearer.back() != ' '));
  if (!bearer.empty())
    check_token(verifier, bearer);
  check_signed(verifier, bytes);
  check_minted(verifier, bytes);
  check_base64url(bytes);
  check_hmac(bytes);
  return 0;
}
