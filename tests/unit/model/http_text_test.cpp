#include <catch2/catch.hpp>

#include <string>

#include "model/http_text.hpp"

using medianest::split_absolute_form;

TEST_CASE("an absolute-form target splits into its authority and origin form") {
  struct example {
    std::string target, authority, origin_form;
  };
  for (const auto& e : {
         example{"http://example.com/api/v1/performance/metrics?x=1", "example.com",
                 "/api/v1/performance/metrics?x=1"},
         example{"HTTPS://Example.com:8443/health", "Example.com:8443", "/health"},
         example{"http://127.0.0.1:4000", "127.0.0.1:4000", "/"},
         example{"http://[::1]:4000?window=1h", "[::1]:4000", "/?window=1h"},
         example{"http:///health", "", "/health"}, // no host: the session refuses it
       }) {
    INFO(e.target);
    auto split = split_absolute_form(e.target);
    REQUIRE(split);
    CHECK(split->authority == e.authority);
    CHECK(split->origin_form == e.origin_form);
  }
}

TEST_CASE("origin-form targets and other schemes are not absolute form") {
  for (const std::string target : {"/health", "/api/v1/performance/metrics?url=http://x/",
                                   "*", "file:///etc/passwd", "ftp://host/x", "http:/health",
                                   "httpx://host/"}) {
    INFO(target);
    CHECK_FALSE(split_absolute_form(target));
  }
}
