#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "model/gateway_config.hpp"

using medianest::cache_rule;
using medianest::parse_cache_rule;
using medianest::parse_rate_limit;
using medianest::parse_upstream_url;
using medianest::rate_limit_config;
using medianest::upstream_target;
using namespace std::chrono_literals;

namespace {

/// Parses a URL that must be accepted.
upstream_target accept_url(std::string_view url) {
  std::string error;
  auto t = parse_upstream_url(url, error);
  INFO(url << ": " << error);
  REQUIRE(t);
  CHECK(error.empty());
  return *t;
}

/// Parses a URL that must be refused; returns the error.
std::string refuse_url(std::string_view url) {
  std::string error;
  auto t = parse_upstream_url(url, error);
  INFO(url);
  CHECK_FALSE(t);
  CHECK_FALSE(error.empty());
  return error;
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// parse_upstream_url

TEST_CASE("parse_upstream_url reads a bare host on port 80", "[gateway_config]") {
  auto t = accept_url("http://backend");
  CHECK(t.url == "http://backend");
  CHECK(t.host == "backend");
  CHECK(t.port == 80);
  CHECK(t.base_path.empty());
  // A lone trailing slash is no base path.
  auto slash = accept_url("http://backend/");
  CHECK(slash.host == "backend");
  CHECK(slash.base_path.empty());
}

TEST_CASE("parse_upstream_url reads a host and port", "[gateway_config]") {
  auto t = accept_url("http://api.internal:8080");
  CHECK(t.host == "api.internal");
  CHECK(t.port == 8080);
  CHECK(t.base_path.empty());
  CHECK(accept_url("http://10.0.0.7:65535").port == 65535);
  CHECK(accept_url("http://h:1").port == 1);
}

TEST_CASE("parse_upstream_url reads a base path without its trailing slash",
          "[gateway_config]") {
  auto t = accept_url("http://host:8080/base/");
  CHECK(t.url == "http://host:8080/base/");
  CHECK(t.host == "host");
  CHECK(t.port == 8080);
  CHECK(t.base_path == "/base");
  CHECK(accept_url("http://host/a/b").base_path == "/a/b");
  CHECK(accept_url("http://host/a/b//").base_path == "/a/b");
}

TEST_CASE("parse_upstream_url reads a bracketed IPv6 address", "[gateway_config]") {
  auto t = accept_url("http://[::1]:9000");
  CHECK(t.host == "::1");
  CHECK(t.port == 9000);
  CHECK(t.base_path.empty());
  auto no_port = accept_url("http://[fe80::1:2]/v1/");
  CHECK(no_port.host == "fe80::1:2");
  CHECK(no_port.port == 80);
  CHECK(no_port.base_path == "/v1");
  refuse_url("http://[::1");
  refuse_url("http://[::1]x:80");
  refuse_url("http://[]:80");
}

TEST_CASE("parse_upstream_url refuses https with a message about https", "[gateway_config]") {
  auto error = refuse_url("https://backend:8443");
  CHECK(contains(error, "https"));
  CHECK(contains(error, "https://backend:8443"));
}

TEST_CASE("parse_upstream_url refuses other schemes and no scheme", "[gateway_config]") {
  CHECK(contains(refuse_url("ftp://backend"), "http://"));
  refuse_url("backend:8080");
  refuse_url("//backend");
  refuse_url("");
  refuse_url("http:/backend");
}

TEST_CASE("parse_upstream_url refuses a bad port", "[gateway_config]") {
  for (std::string_view url : {"http://host:0", "http://host:70000", "http://host:65536",
                               "http://host:abc", "http://host:", "http://host:-1",
                               "http://host:80x", "http://[::1]:0", "http://[::1]:"}) {
    auto error = refuse_url(url);
    CHECK(contains(error, "port"));
  }
}

TEST_CASE("parse_upstream_url refuses a missing host", "[gateway_config]") {
  for (std::string_view url : {"http://", "http:///base", "http://:8080", "http://:8080/x"}) {
    refuse_url(url);
  }
  CHECK(contains(refuse_url("http:///base"), "host"));
}

TEST_CASE("parse_upstream_url refuses credentials", "[gateway_config]") {
  CHECK(contains(refuse_url("http://user:secret@backend:8080"), "credentials"));
  refuse_url("http://user@backend");
}

TEST_CASE("parse_upstream_url refuses a query or a fragment", "[gateway_config]") {
  for (std::string_view url : {"http://host/base?x=1", "http://host:8080/?x=1",
                               "http://host/base#top", "http://host?x=1", "http://host#top",
                               "http://[::1]:9000?x=1"}) {
    refuse_url(url);
  }
  CHECK(contains(refuse_url("http://host/base?x=1"), "query"));
  CHECK(contains(refuse_url("http://host?x=1"), "query"));
}

// parse_cache_rule

TEST_CASE("parse_cache_rule reads a route template and its ttl", "[gateway_config]") {
  std::string error;
  auto rule = parse_cache_rule("/api/v1/media/:id=30", error);
  REQUIRE(rule);
  CHECK(error.empty());
  CHECK(rule->route == "/api/v1/media/:id");
  CHECK(rule->ttl == 30s);

  auto longest = parse_cache_rule("/=604800", error);
  REQUIRE(longest);
  CHECK(longest->route == "/");
  CHECK(longest->ttl == 604800s);
}

TEST_CASE("parse_cache_rule splits at the last equals sign", "[gateway_config]") {
  std::string error;
  auto rule = parse_cache_rule("/search/q=x=5", error);
  REQUIRE(rule);
  CHECK(rule->route == "/search/q=x");
  CHECK(rule->ttl == 5s);
}

TEST_CASE("parse_cache_rule refuses malformed rules", "[gateway_config]") {
  for (std::string_view text : {"/api/v1/media", "", "=30", "/api=", "/api=0", "api/v1=30",
                                "/api=-1", "/api=3x", "/api=604801",
                                "/api=99999999999999999999999", "/api= 30"}) {
    INFO(text);
    std::string error;
    CHECK_FALSE(parse_cache_rule(text, error));
    CHECK(contains(error, "ROUTE=SECONDS"));
  }
}

// parse_rate_limit

TEST_CASE("parse_rate_limit reads requests seconds and a burst", "[gateway_config]") {
  rate_limit_config cfg;
  cfg.max_clients = 1234;
  CHECK(parse_rate_limit("600/60+100", cfg).empty());
  CHECK(cfg.limit == 600);
  CHECK(cfg.window == 60s);
  CHECK(cfg.burst == 100);
  CHECK(cfg.max_clients == 1234); // not part of the text: left alone
}

TEST_CASE("parse_rate_limit without a burst sets the burst to 0", "[gateway_config]") {
  rate_limit_config cfg;
  cfg.burst = 50;
  CHECK(parse_rate_limit("10/1", cfg).empty());
  CHECK(cfg.limit == 10);
  CHECK(cfg.window == 1s);
  CHECK(cfg.burst == 0);
}

TEST_CASE("parse_rate_limit refuses bad forms and leaves the config alone", "[gateway_config]") {
  for (std::string_view text : {"600", "0/60", "10/0", "a/b", "10/60+x", "10/60+", "/60",
                                "10/", "", "10+5/60", "-1/60", "10/86401", "10000001/60"}) {
    INFO(text);
    rate_limit_config cfg;
    cfg.limit = 7;
    cfg.window = 9s;
    cfg.burst = 3;
    auto error = parse_rate_limit(text, cfg);
    CHECK_FALSE(error.empty());
    CHECK(contains(error, std::string{text}));
    CHECK(cfg.limit == 7);
    CHECK(cfg.window == 9s);
    CHECK(cfg.burst == 3);
  }
}
