#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "model/cache_policy.hpp"

using medianest::cache_control;
using medianest::cache_key;
using medianest::decide_store;
using medianest::parse_cache_control;
using medianest::request_bypasses_cache;
using medianest::request_credential;
using medianest::response_traits;
using medianest::store_decision;
using namespace std::chrono_literals;

namespace {

response_traits response(std::string_view cache_control = {}, unsigned status = 200,
                         std::string_view vary = {}, bool sets_cookie = false) {
  response_traits r;
  r.status = status;
  r.cache_control = cache_control;
  r.vary = vary;
  r.sets_cookie = sets_cookie;
  return r;
}

} // namespace

// parse_cache_control

TEST_CASE("parse_cache_control of an empty value sets nothing", "[cache_policy]") {
  auto cc = parse_cache_control("");
  CHECK_FALSE(cc.no_store);
  CHECK_FALSE(cc.no_cache);
  CHECK_FALSE(cc.is_private);
  CHECK_FALSE(cc.is_public);
  CHECK_FALSE(cc.max_age);
  CHECK_FALSE(cc.s_maxage);
}

TEST_CASE("parse_cache_control reads every directive it acts on", "[cache_policy]") {
  auto cc = parse_cache_control("no-store, no-cache, private, public, max-age=60, s-maxage=30");
  CHECK(cc.no_store);
  CHECK(cc.no_cache);
  CHECK(cc.is_private);
  CHECK(cc.is_public);
  REQUIRE(cc.max_age);
  CHECK(*cc.max_age == 60);
  REQUIRE(cc.s_maxage);
  CHECK(*cc.s_maxage == 30);
}

TEST_CASE("parse_cache_control directives are case-insensitive", "[cache_policy]") {
  auto cc = parse_cache_control("No-Store, NO-CACHE, Private, PUBLIC, Max-Age=120, S-MAXAGE=7");
  CHECK(cc.no_store);
  CHECK(cc.no_cache);
  CHECK(cc.is_private);
  CHECK(cc.is_public);
  REQUIRE(cc.max_age);
  CHECK(*cc.max_age == 120);
  REQUIRE(cc.s_maxage);
  CHECK(*cc.s_maxage == 7);
}

TEST_CASE("parse_cache_control tolerates spaces and tabs around directives", "[cache_policy]") {
  auto cc = parse_cache_control("  public ,\tmax-age = 45 ,,  ");
  CHECK(cc.is_public);
  REQUIRE(cc.max_age);
  CHECK(*cc.max_age == 45);
  CHECK_FALSE(cc.no_store);
}

TEST_CASE("parse_cache_control keeps commas inside quoted values", "[cache_policy]") {
  // The quoted field list of no-cache holds a comma: "max-age=5" after it is not a directive of
  // its own but a part of the quoted string, and the directive after the quote is still read.
  auto cc = parse_cache_control("no-cache=\"Set-Cookie, max-age=5\", s-maxage=10");
  CHECK(cc.no_cache);
  CHECK_FALSE(cc.max_age);
  REQUIRE(cc.s_maxage);
  CHECK(*cc.s_maxage == 10);

  auto quoted = parse_cache_control("private=\"a, no-store, b\", public");
  CHECK(quoted.is_private);
  CHECK(quoted.is_public);
  CHECK_FALSE(quoted.no_store);
}

TEST_CASE("parse_cache_control accepts a quoted max-age", "[cache_policy]") {
  auto cc = parse_cache_control("max-age=\"90\"");
  REQUIRE(cc.max_age);
  CHECK(*cc.max_age == 90);
}

TEST_CASE("parse_cache_control treats a malformed max-age as 0", "[cache_policy]") {
  for (std::string_view value : {"max-age", "max-age=", "max-age=abc", "max-age=12x",
                                 "max-age=-5", "max-age=1.5", "max-age= "}) {
    INFO(value);
    auto cc = parse_cache_control(value);
    REQUIRE(cc.max_age);
    CHECK(*cc.max_age == 0);
  }
  auto s = parse_cache_control("s-maxage=soon");
  REQUIRE(s.s_maxage);
  CHECK(*s.s_maxage == 0);
}

TEST_CASE("parse_cache_control treats a huge max-age as very large rather than 0",
          "[cache_policy]") {
  auto cc = parse_cache_control("max-age=99999999999999999999999");
  REQUIRE(cc.max_age);
  CHECK(*cc.max_age > 1'000'000'000);
}

TEST_CASE("parse_cache_control ignores unknown directives", "[cache_policy]") {
  auto cc = parse_cache_control(
    "must-revalidate, stale-while-revalidate=30, immutable, x-custom=\"a,b\", max-age=15");
  CHECK_FALSE(cc.no_store);
  CHECK_FALSE(cc.no_cache);
  CHECK_FALSE(cc.is_private);
  CHECK_FALSE(cc.is_public);
  REQUIRE(cc.max_age);
  CHECK(*cc.max_age == 15);
  CHECK_FALSE(cc.s_maxage);
  // A directive whose name merely starts with a known one is another directive.
  auto prefixed = parse_cache_control("no-store-please, publicity, max-ages=3");
  CHECK_FALSE(prefixed.no_store);
  CHECK_FALSE(prefixed.is_public);
  CHECK_FALSE(prefixed.max_age);
}

// decide_store

TEST_CASE("decide_store stores a plain 200 for the route ttl under a private key",
          "[cache_policy]") {
  auto d = decide_store(response(), 30s);
  CHECK(d.store);
  CHECK_FALSE(d.shared);
  CHECK(d.ttl == 30s);
}

TEST_CASE("decide_store stores only 200 responses", "[cache_policy]") {
  for (unsigned status : {201u, 203u, 204u, 206u, 301u, 304u, 404u, 500u, 503u}) {
    INFO(status);
    auto d = decide_store(response("public, max-age=60", status), 30s);
    CHECK_FALSE(d.store);
    CHECK_FALSE(d.shared);
    CHECK(d.ttl == 0s);
  }
  CHECK(decide_store(response("public, max-age=60", 200), 30s).store);
}

TEST_CASE("decide_store refuses no-store no-cache and private", "[cache_policy]") {
  for (std::string_view cc : {"no-store", "no-cache", "private", "public, no-store",
                              "max-age=60, No-Cache", "PRIVATE, max-age=60",
                              "private=\"X-User\""}) {
    INFO(cc);
    auto d = decide_store(response(cc), 60s);
    CHECK_FALSE(d.store);
    CHECK(d.ttl == 0s);
  }
}

TEST_CASE("decide_store refuses a response that sets a cookie", "[cache_policy]") {
  auto d = decide_store(response("public, max-age=60", 200, {}, true), 60s);
  CHECK_FALSE(d.store);
  CHECK_FALSE(d.shared);
}

TEST_CASE("decide_store refuses a Vary on anything but Accept-Encoding", "[cache_policy]") {
  for (std::string_view vary : {"Authorization", "Cookie", "*", "Accept-Encoding, Accept-Language",
                                "Origin , accept-encoding"}) {
    INFO(vary);
    CHECK_FALSE(decide_store(response("public", 200, vary), 60s).store);
  }
}

TEST_CASE("decide_store allows Vary on Accept-Encoding in any case", "[cache_policy]") {
  for (std::string_view vary : {"Accept-Encoding", "accept-encoding", " ACCEPT-ENCODING ",
                                "Accept-Encoding, Accept-Encoding", ""}) {
    INFO(vary);
    auto d = decide_store(response("public", 200, vary), 60s);
    CHECK(d.store);
    CHECK(d.shared);
    CHECK(d.ttl == 60s);
  }
}

TEST_CASE("decide_store shortens the route ttl by max-age but never lengthens it",
          "[cache_policy]") {
  CHECK(decide_store(response("max-age=10"), 60s).ttl == 10s);
  CHECK(decide_store(response("max-age=600"), 60s).ttl == 60s);
  CHECK(decide_store(response("max-age=60"), 60s).ttl == 60s);
}

TEST_CASE("decide_store prefers s-maxage over max-age", "[cache_policy]") {
  // s-maxage is the shared cache's own limit: it shortens the route ttl ...
  CHECK(decide_store(response("max-age=50, s-maxage=5"), 60s).ttl == 5s);
  // ... and, for a response shared with everyone, a longer s-maxage overrides a shorter max-age
  // (capped by the route ttl).
  CHECK(decide_store(response("public, max-age=5, s-maxage=50"), 60s).ttl == 50s);
  CHECK(decide_store(response("s-maxage=500, max-age=5, public"), 60s).ttl == 60s);
  // s-maxage=0 refuses even with a max-age.
  CHECK_FALSE(decide_store(response("s-maxage=0, max-age=30"), 60s).store);
}

TEST_CASE("decide_store refuses a zero or malformed max-age", "[cache_policy]") {
  for (std::string_view cc : {"max-age=0", "public, max-age=0", "max-age=junk", "max-age"}) {
    INFO(cc);
    auto d = decide_store(response(cc), 60s);
    CHECK_FALSE(d.store);
    CHECK(d.ttl == 0s);
  }
}

TEST_CASE("decide_store shares only responses the upstream marked public", "[cache_policy]") {
  auto pub = decide_store(response("Public, max-age=20"), 60s);
  CHECK(pub.store);
  CHECK(pub.shared);
  CHECK(pub.ttl == 20s);

  auto plain = decide_store(response("max-age=20"), 60s);
  CHECK(plain.store);
  CHECK_FALSE(plain.shared);
  CHECK(plain.ttl == 20s);
}

TEST_CASE("decide_store refuses when the route ttl is zero", "[cache_policy]") {
  CHECK_FALSE(decide_store(response("public, max-age=60"), 0s).store);
  CHECK_FALSE(decide_store(response(), 0s).store);
  CHECK_FALSE(decide_store(response(), -5s).store);
}

// request_bypasses_cache

TEST_CASE("request_bypasses_cache honours no-cache and no-store", "[cache_policy]") {
  CHECK(request_bypasses_cache("no-cache", ""));
  CHECK(request_bypasses_cache("No-Store", ""));
  CHECK(request_bypasses_cache("max-age=0, no-cache", ""));
  CHECK_FALSE(request_bypasses_cache("", ""));
  CHECK_FALSE(request_bypasses_cache("max-age=60", ""));
  CHECK_FALSE(request_bypasses_cache("only-if-cached", ""));
}

TEST_CASE("request_bypasses_cache honours Pragma no-cache", "[cache_policy]") {
  CHECK(request_bypasses_cache("", "no-cache"));
  CHECK(request_bypasses_cache("", "NO-CACHE"));
  CHECK(request_bypasses_cache("", "x-foo, no-cache"));
  CHECK_FALSE(request_bypasses_cache("", "x-foo"));
  CHECK_FALSE(request_bypasses_cache("", "no-cache-please"));
}

// request_credential

TEST_CASE("request_credential prefers Authorization over Cookie", "[cache_policy]") {
  CHECK(request_credential("Bearer abc", "session=1") == "Bearer abc");
  CHECK(request_credential("Bearer abc", "") == "Bearer abc");
  CHECK(request_credential("", "session=1") == "session=1");
  CHECK(request_credential("", "").empty());
}

// cache_key

TEST_CASE("cache_key of a shared entry does not depend on the credential", "[cache_policy]") {
  auto a = cache_key("GET", "/api/v1/media/1", "gzip", "Bearer alice", true);
  auto b = cache_key("GET", "/api/v1/media/1", "gzip", "Bearer bob", true);
  auto anon = cache_key("GET", "/api/v1/media/1", "gzip", "", true);
  CHECK(a == b);
  CHECK(a == anon);
}

TEST_CASE("cache_key of a private entry differs between credentials", "[cache_policy]") {
  auto alice = cache_key("GET", "/api/v1/me", "gzip", "Bearer alice", false);
  auto alice_again = cache_key("GET", "/api/v1/me", "gzip", "Bearer alice", false);
  auto bob = cache_key("GET", "/api/v1/me", "gzip", "Bearer bob", false);
  auto anon = cache_key("GET", "/api/v1/me", "gzip", "", false);
  CHECK(alice == alice_again);
  CHECK(alice != bob);
  CHECK(alice != anon);
  CHECK(bob != anon);
  // A private key never equals the shared key of the same request.
  CHECK(alice != cache_key("GET", "/api/v1/me", "gzip", "Bearer alice", true));
  CHECK(anon != cache_key("GET", "/api/v1/me", "gzip", "", true));
}

TEST_CASE("cache_key never contains the credential", "[cache_policy]") {
  const std::string secret = "Bearer eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LXRva2Vu.sig";
  const std::string cookie = "session=s3cr3t-cookie-value";
  for (const auto& credential : {secret, cookie}) {
    auto priv = cache_key("GET", "/api/v1/me", "br", credential, false);
    auto shared = cache_key("GET", "/api/v1/me", "br", credential, true);
    CHECK(priv.find(credential) == std::string::npos);
    CHECK(shared.find(credential) == std::string::npos);
    // Not even the token part without its scheme.
    auto token = credential.substr(credential.find_first_of(" =") + 1);
    CHECK(priv.find(token) == std::string::npos);
    CHECK(shared.find(token) == std::string::npos);
  }
}

TEST_CASE("cache_key changes with method target and Accept-Encoding", "[cache_policy]") {
  for (bool shared : {true, false}) {
    INFO("shared " << shared);
    auto base = cache_key("GET", "/a?x=1", "gzip", "Bearer t", shared);
    CHECK(base == cache_key("GET", "/a?x=1", "gzip", "Bearer t", shared));
    CHECK(base != cache_key("HEAD", "/a?x=1", "gzip", "Bearer t", shared));
    CHECK(base != cache_key("GET", "/a?x=2", "gzip", "Bearer t", shared));
    CHECK(base != cache_key("GET", "/a", "gzip", "Bearer t", shared));
    CHECK(base != cache_key("GET", "/b?x=1", "gzip", "Bearer t", shared));
    CHECK(base != cache_key("GET", "/a?x=1", "br", "Bearer t", shared));
    CHECK(base != cache_key("GET", "/a?x=1", "", "Bearer t", shared));
  }
}
