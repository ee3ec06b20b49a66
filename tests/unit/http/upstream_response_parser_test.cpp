#include <catch2/catch.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>

#include "http/upstream_response_parser.hpp"

using medianest::http::upstream_response_parser;
namespace bhttp = boost::beast::http;

namespace {

/// Feeds `wire` to the parser the way the gateway does, all at once; returns the error.
boost::beast::error_code feed(upstream_response_parser& p, std::string_view& wire) {
  boost::beast::error_code ec;
  while (!wire.empty()) {
    auto used = p.put(boost::asio::buffer(wire.data(), wire.size()), ec);
    wire.remove_prefix(used);
    if (ec || used == 0)
      break;
  }
  return ec;
}

std::vector<std::pair<std::string, std::string>> fields_of(const upstream_response_parser& p) {
  std::vector<std::pair<std::string, std::string>> out;
  p.for_each_field([&](std::string_view name, std::string_view value) {
    out.emplace_back(name, value);
  });
  return out;
}

} // namespace

TEST_CASE("the upstream head becomes the client's head without hop-by-hop fields") {
  std::string head = "left over from the last response";
  upstream_response_parser p{head, false, false};
  char body[16];
  p.data = body;
  p.size = sizeof body;
  std::string_view wire = "HTTP/1.1 200 Fine\r\n"
                          "Server: up\r\n"
                          "Connection: keep-alive\r\n"
                          "Keep-Alive: timeout=5\r\n"
                          "Proxy-Connection: keep-alive\r\n"
                          "Cache-Control: max-age=60\r\n"
                          "Content-Type: text/plain\r\n"
                          "X-Correlation-ID: from-upstream\r\n"
                          "X-Cache: upstream-said\r\n"
                          "X-RateLimit-Limit: 7\r\n"
                          "Content-Length: 5\r\n"
                          "\r\n"
                          "hello";
  CHECK_FALSE(feed(p, wire));
  REQUIRE(p.is_header_done());
  CHECK(p.status() == 200);
  CHECK(p.head()
        == "HTTP/1.1 200 Fine\r\nServer: up\r\nCache-Control: max-age=60\r\n"
           "Content-Type: text/plain\r\nX-Cache: upstream-said\r\nX-RateLimit-Limit: 7\r\n"
           "Content-Length: 5\r\n");
  CHECK(p.cache_control() == "max-age=60");
  CHECK(p.content_type() == "text/plain");
  CHECK(p.vary().empty());
  CHECK_FALSE(p.sets_cookie());
  CHECK(p.keep_alive());
  REQUIRE(p.content_length().has_value());
  CHECK(*p.content_length() == 5);
  CHECK(std::string(body, sizeof body - p.size) == "hello");
  auto fields = fields_of(p);
  REQUIRE(fields.size() == 6);
  CHECK(fields.front() == std::pair<std::string, std::string>{"Server", "up"});
  CHECK(fields.back() == std::pair<std::string, std::string>{"Content-Length", "5"});
}

TEST_CASE("the fields the gateway sets itself are dropped when it sets them") {
  std::string head;
  upstream_response_parser p{head, true, true};
  std::string_view wire = "HTTP/1.1 200 OK\r\n"
                          "x-cache: HIT\r\n"
                          "X-RateLimit-Limit: 7\r\n"
                          "X-RateLimit-Remaining: 6\r\n"
                          "X-RateLimit-Reset: 1\r\n"
                          "X-Ratelimit-Other: kept\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n";
  CHECK_FALSE(feed(p, wire));
  CHECK(p.is_done());
  CHECK(p.head() == "HTTP/1.1 200 OK\r\nX-Ratelimit-Other: kept\r\nContent-Length: 0\r\n");
}

TEST_CASE("fields named by the upstream's Connection header are dropped, values found again") {
  std::string head;
  upstream_response_parser p{head, false, false};
  std::string_view wire = "HTTP/1.1 200 OK\r\n"
                          "X-Secret: 1\r\n"
                          "Vary: Accept\r\n"
                          "Connection: x-secret, close, X-Other, content-length\r\n"
                          "Set-Cookie: a=b\r\n"
                          "x-other: 2\r\n"
                          "Cache-Control: private\r\n"
                          "Content-Length: 0\r\n"
                          "\r\n";
  CHECK_FALSE(feed(p, wire));
  // Content-Length stays whatever the Connection header says: the body is relayed with it
  CHECK(p.head()
        == "HTTP/1.1 200 OK\r\nVary: Accept\r\nSet-Cookie: a=b\r\nCache-Control: private\r\n"
           "Content-Length: 0\r\n");
  CHECK(p.vary() == "Accept");
  CHECK(p.cache_control() == "private");
  CHECK(p.sets_cookie());
  CHECK_FALSE(p.keep_alive());
  CHECK(p.header_complete());
}

TEST_CASE("a header that ends in an error is never complete, though Beast counts it done") {
  // Beast checks Content-Length against body_limit after the last field and before
  // on_header_impl: the head still holds the field the Connection header named.
  std::string head;
  upstream_response_parser p{head, false, false};
  p.body_limit(100);
  std::string_view wire = "HTTP/1.1 200 OK\r\n"
                          "X-Secret: 1\r\n"
                          "Connection: X-Secret\r\n"
                          "Content-Length: 1000\r\n"
                          "\r\n";
  CHECK(feed(p, wire) == bhttp::error::body_limit);
  CHECK(p.is_header_done());
  CHECK_FALSE(p.header_complete());
}

TEST_CASE("a status line without a reason gets the standard one; the first value counts") {
  std::string head;
  upstream_response_parser p{head, false, false};
  std::string_view wire = "HTTP/1.0 404 \r\n"
                          "Cache-Control: no-store\r\n"
                          "Cache-Control: max-age=5\r\n"
                          "\r\n";
  CHECK_FALSE(feed(p, wire));
  CHECK(p.head().substr(0, p.head().find("\r\n")) == "HTTP/1.1 404 Not Found");
  CHECK(p.cache_control() == "no-store");
  CHECK_FALSE(p.keep_alive()); // HTTP/1.0 without keep-alive
}

TEST_CASE("a status under 100 is a bad upstream answer, not relayed") {
  std::string head;
  upstream_response_parser p{head, false, false};
  std::string_view wire = "HTTP/1.1 099 Odd\r\nContent-Length: 0\r\n\r\n";
  CHECK(feed(p, wire) == bhttp::error::bad_status);
  CHECK(head.empty());
}

TEST_CASE("a body is delivered into the caller's buffer piece by piece, chunked or not") {
  SECTION("content-length") {
    std::string head;
    upstream_response_parser p{head, false, false};
    std::string_view wire = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789";
    char piece[4];
    std::string body;
    boost::beast::error_code ec;
    while (!p.is_done()) {
      p.data = piece;
      p.size = sizeof piece;
      ec = feed(p, wire);
      if (ec == bhttp::error::need_buffer)
        ec = {};
      REQUIRE_FALSE(ec);
      body.append(piece, sizeof piece - p.size);
    }
    CHECK(body == "0123456789");
  }
  SECTION("chunked") {
    std::string head;
    upstream_response_parser p{head, false, false};
    std::string_view wire =
      "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n5\r\ndefgh\r\n0\r\n\r\n";
    char piece[64];
    p.data = piece;
    p.size = sizeof piece;
    CHECK_FALSE(feed(p, wire));
    CHECK(p.is_done());
    CHECK(p.chunked());
    CHECK(std::string(piece, sizeof piece - p.size) == "abcdefgh");
    CHECK(p.head() == "HTTP/1.1 200 OK\r\n"); // Transfer-Encoding is the gateway's to set
  }
  SECTION("chunked, with a trailer, which is not added to the head") {
    std::string head;
    upstream_response_parser p{head, false, false};
    std::string_view wire = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                            "3\r\nabc\r\n0\r\nX-Trailer: injected\r\nSet-Cookie: t=1\r\n\r\n";
    char piece[64];
    p.data = piece;
    p.size = sizeof piece;
    CHECK_FALSE(feed(p, wire));
    CHECK(p.is_done());
    CHECK(std::string(piece, sizeof piece - p.size) == "abc");
    CHECK(p.head() == "HTTP/1.1 200 OK\r\n");
    CHECK_FALSE(p.sets_cookie());
  }
  SECTION("no buffer yet") {
    std::string head;
    upstream_response_parser p{head, false, false};
    std::string_view wire = "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc";
    CHECK(feed(p, wire) == bhttp::error::need_buffer);
    CHECK(p.is_header_done());
    CHECK(wire == "abc");
  }
}
