#include "http/auth.hpp"

#include <array>
#include <atomic>

#include <boost/json/parse.hpp>
#include "model/json.hpp"
#include <boost/json/value.hpp>
#include "model/sha256.hpp"

namespace medianest::http {

namespace {

/// Tokens larger than this are refused before any parsing.
constexpr size_t max_token_size = 8192;

caf::error unauthorized(std::string reason) {
  return to_caf_error({errc::unauthorized, std::move(reason), {}, std::nullopt});
}

caf::expected<boost::json::object> decode_json_segment(std::string_view segment,
                                                       std::string_view what) {
  std::string raw;
  if (!base64url_decode(segment, raw))
    return unauthorized(std::string{what} + " is not base64url");
  boost::system::error_code ec;
  auto value = boost::json::parse(raw, ec);
  if (ec || !value.is_object())
    return unauthorized(std::string{what} + " is not a JSON object");
  return std::move(value.as_object());
}

/// A numeric claim as whole seconds, if present and numeric. Values past int64's range
/// saturate: converting such a double is undefined behaviour (fuzz/jwt_fuzz.cpp found
/// "exp":18446744073709551655), and a huge exp or nbf means "never" either way, so a far
/// future nbf is still refused rather than ignored.
std::optional<int64_t> numeric_claim(const boost::json::object& payload, std::string_view key) {
  auto it = payload.find(key);
  if (it == payload.end())
    return std::nullopt;
  const auto& v = it->value();
  if (v.is_int64())
    return v.as_int64();
  if (v.is_uint64()) // Boost.JSON makes a uint64 only of what int64 cannot hold
    return v.as_uint64() <= static_cast<uint64_t>(INT64_MAX) ? static_cast<int64_t>(v.as_uint64())
                                                            : INT64_MAX;
  if (v.is_double()) {
    auto d = v.as_double();
    if (d >= 0x1p63)
      return INT64_MAX;
    if (d < -0x1p63)
      return INT64_MIN;
    return static_cast<int64_t>(d);
  }
  return std::nullopt;
}

} // namespace

namespace {

std::atomic<uint64_t> next_generation{1};

struct verified_token {
  uint64_t generation = 0;
  std::string token;
  claims who;
};

constexpr size_t verified_cache_size = 64;

} // namespace

jwt_verifier::jwt_verifier(std::string secret)
  : secret_(std::move(secret)), generation_(next_generation.fetch_add(1)) {
  // nop
}

caf::expected<claims> jwt_verifier::verify(std::string_view token, int64_t now) const {
  thread_local std::array<verified_token, verified_cache_size> cache;
  auto& slot = cache[std::hash<std::string_view>{}(token) % verified_cache_size];
  if (slot.generation == generation_ && slot.token == token) {
    // Cached only once valid, so nbf has passed; exp is checked on every use.
    if (now >= slot.who.expires_at)
      return unauthorized("token expired");
    return slot.who;
  }
  auto result = verify_uncached(token, now);
  if (result) {
    slot.generation = generation_;
    slot.token.assign(token);
    slot.who = *result;
  }
  return result;
}

caf::expected<claims> jwt_verifier::verify_uncached(std::string_view token, int64_t now) const {
  if (token.empty())
    return unauthorized("missing bearer token");
  if (token.size() > max_token_size)
    return unauthorized("token too large");
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return unauthorized("token is not a compact JWS");
  auto header = decode_json_segment(token.substr(0, dot1), "token header");
  if (!header)
    return header.error();
  auto alg = header->find("alg");
  if (alg == header->end() || !alg->value().is_string() || alg->value().as_string() != "HS256")
    return unauthorized("token algorithm is not HS256");
  if (header->contains("crit"))
    return unauthorized("token has critical header parameters");
  std::string signature;
  if (!base64url_decode(token.substr(dot2 + 1), signature) || signature.size() != 32)
    return unauthorized("token signature is malformed");
  auto expected_sig = hmac_sha256(secret_, token.substr(0, dot2));
  if (!constant_time_equal(expected_sig.data(),
                           reinterpret_cast<const unsigned char*>(signature.data()),
                           expected_sig.size()))
    return unauthorized("token signature does not verify");
  auto payload = decode_json_segment(token.substr(dot1 + 1, dot2 - dot1 - 1), "token payload");
  if (!payload)
    return payload.error();
  auto exp = numeric_claim(*payload, "exp");
  if (!exp)
    return unauthorized("token has no numeric exp claim");
  if (now >= *exp)
    return unauthorized("token expired");
  if (auto nbf = numeric_claim(*payload, "nbf"); nbf && now < *nbf)
    return unauthorized("token not yet valid");
  claims out;
  out.expires_at = *exp;
  auto role_it = payload->find("role");
  if (role_it == payload->end() || !role_it->value().is_string())
    return unauthorized("token has no role claim");
  const auto& role_name = role_it->value().as_string();
  if (role_name == "admin")
    out.role = role::admin;
  else if (role_name == "user")
    out.role = role::user;
  else
    return unauthorized("token role is neither admin nor user");
  if (auto sub = payload->find("sub"); sub != payload->end() && sub->value().is_string())
    out.subject = std::string{sub->value().as_string()};
  return out;
}

std::string mint_token(std::string_view secret, const claims& c, int64_t issued_at) {
  boost::json::object payload;
  if (!c.subject.empty())
    payload["sub"] = c.subject;
  payload["role"] = c.role == role::admin ? "admin" : "user";
  payload["iat"] = issued_at;
  payload["exp"] = c.expires_at;
  auto signing_input = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + '.'
                       + base64url_encode(to_json(payload));
  auto sig = hmac_sha256(secret, signing_input);
  return signing_input + '.'
         + base64url_encode({reinterpret_cast<const char*>(sig.data()), sig.size()});
}

std::string_view bearer_token(std::string_view authorization) noexcept {
  constexpr std::string_view scheme = "bearer ";
  if (authorization.size() <= scheme.size())
    return {};
  for (size_t i = 0; i < scheme.size(); ++i)
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i])
      return {};
  auto token = authorization.substr(scheme.size());
  while (!token.empty() && token.front() == ' ')
    token.remove_prefix(1);
  while (!token.empty() && token.back() == ' ')
    token.remove_suffix(1);
  return token;
}

caf::expected<claims> authorize(const jwt_verifier& verifier, std::string_view token,
                                access level, int64_t now) {
  if (level == access::open)
    return claims{};
  auto verified = verifier.verify(token, now);
  if (!verified)
    return verified;
  if (level == access::admin && verified->role != role::admin)
    return to_caf_error({errc::forbidden, "admin access required", {}, std::nullopt});
  return verified;
}

} // namespace medianest::http
