// The gateway's test upstream (medianest-test-upstream) on its own, before anything is put in
// front of it.

#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <string>

#include "support/http_client.hpp"
#include "support/upstream_process.hpp"

using namespace medianest::test;

namespace {

boost::json::object json_of(const http_result& r) {
  INFO("body: " << r.body);
  return boost::json::parse(r.body).as_object();
}

/// Byte i of /large is i % 251.
bool is_large_pattern(const std::string& body) {
  for (size_t i = 0; i < body.size(); ++i)
    if (body[i] != static_cast<char>(i % 251))
      return false;
  return true;
}

} // namespace

TEST_CASE("upstream server: /fast answers ok and unknown paths get a JSON 404") {
  upstream_process up;
  http_client c;
  auto r = c.get(up.base_url() + "/fast");
  REQUIRE(r.status == 200);
  CHECK(r.body == "ok");
  CHECK(r.header("content-type") == "text/plain");
  CHECK(r.header("server") == "medianest-test-upstream");

  auto missing = c.get(up.base_url() + "/nope");
  CHECK(missing.status == 404);
  CHECK(json_of(missing).at("error").as_string() == "not found");

  auto fail = c.get(up.base_url() + "/fail");
  CHECK(fail.status == 500);
  CHECK(json_of(fail).at("error").as_string() == "fail");

  auto teapot = c.request("DELETE", up.base_url() + "/status/418");
  CHECK(teapot.status == 418);
  CHECK(json_of(teapot).at("status").as_int64() == 418);

  auto id = c.get(up.base_url() + "/api/v1/users/7/items/abc");
  CHECK(id.status == 200);
  CHECK(json_of(id).at("id").as_string() == "abc");
}

TEST_CASE("upstream server: /slow waits at least the asked milliseconds") {
  upstream_process up;
  http_client c;
  auto start = std::chrono::steady_clock::now();
  auto r = c.get(up.base_url() + "/slow?ms=200");
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(r.status == 200);
  CHECK(r.body == "slow");
  CHECK(elapsed >= std::chrono::milliseconds(200));
  CHECK(elapsed < std::chrono::milliseconds(1500));
}

TEST_CASE("upstream server: /large streams the byte pattern with and without chunking") {
  upstream_process up;
  http_client c;
  auto sized = c.get(up.base_url() + "/large?mb=1");
  REQUIRE(sized.status == 200);
  CHECK(sized.header("content-length") == "1048576");
  CHECK(sized.header("transfer-encoding").empty());
  CHECK(sized.header("content-type") == "application/octet-stream");
  REQUIRE(sized.body.size() == 1048576);
  CHECK(is_large_pattern(sized.body));

  auto chunked = c.get(up.base_url() + "/large?mb=1&chunked=1");
  REQUIRE(chunked.status == 200);
  CHECK(chunked.header("content-length").empty());
  CHECK(chunked.header("transfer-encoding") == "chunked");
  REQUIRE(chunked.body.size() == 1048576);
  CHECK(is_large_pattern(chunked.body));

  auto half = c.get(up.base_url() + "/large?mb=0.5");
  CHECK(half.body.size() == 524288);
  CHECK(is_large_pattern(half.body));
}

TEST_CASE("upstream server: HEAD /large sends the headers only and Connection close is honoured") {
  upstream_process up;
  auto reply = raw_exchange(up.port(), "HEAD /large?mb=1 HTTP/1.1\r\nHost: x\r\n"
                                       "Connection: close\r\n\r\n");
  INFO(reply);
  CHECK(reply.starts_with("HTTP/1.1 200 OK\r\n"));
  CHECK(reply.find("Content-Length: 1048576\r\n") != std::string::npos);
  CHECK(reply.find("Connection: close\r\n") != std::string::npos);
  // Nothing after the header block, and the server closed (raw_exchange returned before 3 s).
  CHECK(reply.ends_with("\r\n\r\n"));
}

TEST_CASE("upstream server: pipelined requests are answered in order") {
  upstream_process up;
  auto reply = raw_exchange(up.port(), "GET /slow?ms=50 HTTP/1.1\r\nHost: x\r\n\r\n"
                                       "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n"
                                       "GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
  INFO(reply);
  auto slow = reply.find("\r\n\r\nslow");
  auto fast = reply.find("\r\n\r\nok");
  auto bye = reply.find("\r\n\r\nbye");
  REQUIRE(slow != std::string::npos);
  REQUIRE(fast != std::string::npos);
  REQUIRE(bye != std::string::npos);
  CHECK(slow < fast);
  CHECK(fast < bye);
  CHECK(reply.ends_with("bye"));
}

TEST_CASE("upstream server: /cache counts hits per target and sets Cache-Control") {
  upstream_process up;
  http_client c;
  auto url = up.base_url() + "/cache/public?max-age=30";
  auto first = c.get(url);
  REQUIRE(first.status == 200);
  CHECK(first.header("cache-control") == "public, max-age=30");
  auto doc = json_of(first);
  CHECK(doc.at("path").as_string() == "/cache/public");
  CHECK(doc.at("n").as_int64() == 1);
  CHECK(doc.at("auth").as_string() == "");

  auto second = c.get(url, {"Authorization: Bearer abc"});
  CHECK(json_of(second).at("n").as_int64() == 2);
  CHECK(json_of(second).at("auth").as_string() == "Bearer abc");

  // Another query is another target.
  CHECK(json_of(c.get(up.base_url() + "/cache/public?max-age=31")).at("n").as_int64() == 1);

  CHECK(c.get(up.base_url() + "/cache/private").header("cache-control") == "private, max-age=60");
  CHECK(c.get(up.base_url() + "/cache/no-store").header("cache-control") == "no-store");
  auto plain = c.get(up.base_url() + "/cache/plain");
  CHECK(plain.status == 200);
  CHECK(plain.headers.count("cache-control") == 0);
}

TEST_CASE("upstream server: /echo returns method target headers and body") {
  upstream_process up;
  http_client c;
  auto r = c.request("PUT", up.base_url() + "/echo/a/b?x=1",
                     {"X-Test: Hello", "X-Multi: 1", "X-Multi: 2"}, "the body");
  REQUIRE(r.status == 200);
  auto doc = json_of(r);
  CHECK(doc.at("method").as_string() == "PUT");
  CHECK(doc.at("target").as_string() == "/echo/a/b?x=1");
  CHECK(doc.at("body").as_string() == "the body");
  auto headers = doc.at("headers").as_object();
  CHECK(headers.at("x-test").as_string() == "Hello");
  CHECK(headers.at("x-multi").as_string() == "1, 2");
  CHECK(headers.at("host").as_string() == "127.0.0.1:" + std::to_string(up.port()));
}

TEST_CASE("upstream server: /upload sums a 3 MiB body") {
  upstream_process up;
  http_client c;
  std::string body(3 * 1024 * 1024, '\0');
  uint32_t sum = 0;
  for (size_t i = 0; i < body.size(); ++i) {
    body[i] = static_cast<char>((i * 7 + i / 1000) & 0xff);
    sum += static_cast<unsigned char>(body[i]);
  }
  auto start = std::chrono::steady_clock::now();
  auto r = c.request("POST", up.base_url() + "/upload", {}, body);
  auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE(r.status == 200);
  auto doc = json_of(r);
  CHECK(doc.at("bytes").as_int64() == 3 * 1024 * 1024);
  CHECK(doc.at("sum").to_number<uint64_t>() == sum);
  // libcurl sends "Expect: 100-continue" for a body this size; the server's "100 Continue"
  // spares it the one-second wait.
  CHECK(elapsed < std::chrono::milliseconds(900));
}

TEST_CASE("upstream server: /count shows one keep-alive connection for one client") {
  upstream_process up{2};
  http_client c;
  for (int i = 0; i < 5; ++i)
    REQUIRE(c.get(up.base_url() + "/fast").status == 200);
  auto doc = json_of(c.get(up.base_url() + "/count"));
  CHECK(doc.at("requests").as_int64() == 6); // counts itself
  CHECK(doc.at("connections").as_int64() == 1);

  http_client other;
  other.get(up.base_url() + "/fast");
  CHECK(json_of(c.get(up.base_url() + "/count")).at("connections").as_int64() == 2);
}

TEST_CASE("upstream server: /hang never answers and SIGTERM stops the server cleanly") {
  upstream_process up;
  raw_connection conn{up.port()};
  REQUIRE(conn.send("GET /hang HTTP/1.1\r\nHost: x\r\n\r\n"));
  CHECK(conn.read_until_close(300).empty());
  CHECK(up.stop(SIGTERM) == 0);
}
