#include <catch2/catch.hpp>

#include <string>
#include <string_view>

#include "model/cached_response_codec.hpp"

using medianest::cached_response;
using medianest::decode_cached_response;
using medianest::encode_cached_response;
using namespace std::string_literals;

namespace {

using header_list = std::vector<std::pair<std::string, std::string>>;

cached_response sample() {
  cached_response r;
  r.status = 203;
  r.content_type = "image/png";
  // Binary, with line breaks and NUL bytes, and something that looks like the format's header.
  r.body = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR\n\nMNPGW1\n5\n\xff\xfe\0"s;
  r.headers = {{"ETag", "\"v1\""}, {"Cache-Control", "public, max-age=60"},
               {"Content-Encoding", "gzip"}, {"X-Empty", ""}};
  return r;
}

} // namespace

TEST_CASE("cached_response_codec round trips every field", "[cached_response_codec]") {
  auto original = sample();
  REQUIRE(original.body.size() == 30);
  auto bytes = encode_cached_response(original, 1'700'000'123'456);
  auto decoded = decode_cached_response(bytes);
  REQUIRE(decoded);
  CHECK(decoded->expires_unix_ms == 1'700'000'123'456);
  CHECK(decoded->response.status == 203);
  CHECK(decoded->response.content_type == "image/png");
  CHECK(decoded->response.body == original.body);
  CHECK(decoded->response.body.size() == original.body.size());
  CHECK(decoded->response.headers == original.headers);
}

TEST_CASE("cached_response_codec round trips empty and edge values", "[cached_response_codec]") {
  cached_response empty;
  empty.status = 200;
  auto decoded = decode_cached_response(encode_cached_response(empty, 0));
  REQUIRE(decoded);
  CHECK(decoded->expires_unix_ms == 0);
  CHECK(decoded->response.status == 200);
  CHECK(decoded->response.content_type.empty());
  CHECK(decoded->response.body.empty());
  CHECK(decoded->response.headers.empty());

  cached_response r;
  r.status = 599;
  r.body = "\n"; // a body that is only a line break
  auto negative = decode_cached_response(encode_cached_response(r, -42));
  REQUIRE(negative);
  CHECK(negative->expires_unix_ms == -42);
  CHECK(negative->response.status == 599);
  CHECK(negative->response.body == "\n");
}

TEST_CASE("cached_response_codec rejects bytes of another format", "[cached_response_codec]") {
  auto good = encode_cached_response(sample(), 1000);
  for (const std::string& bytes :
       {""s, "hello"s, "MNPGW1"s, "MNPGW2\n1000\n200\n\n0\n"s, "mnpgw1\n1000\n200\n\n0\n"s,
        "{\"status\":200}"s, "\0MNPGW1\n1000\n200\n\n0\n"s, good.substr(1)}) {
    INFO(bytes);
    CHECK_FALSE(decode_cached_response(bytes));
  }
  CHECK(decode_cached_response(good));
}

TEST_CASE("cached_response_codec rejects malformed numbers", "[cached_response_codec]") {
  for (const std::string& bytes :
       {"MNPGW1\nsoon\n200\ntext/plain\n0\nbody"s, "MNPGW1\n1000\nOK\ntext/plain\n0\nbody"s,
        "MNPGW1\n1000\n200\ntext/plain\nmany\nbody"s, "MNPGW1\n1000 \n200\ntext/plain\n0\n"s,
        "MNPGW1\n1000\n-200\ntext/plain\n0\n"s, "MNPGW1\n1000\n200\ntext/plain\n-1\n"s,
        "MNPGW1\n\n200\ntext/plain\n0\n"s}) {
    INFO(bytes);
    CHECK_FALSE(decode_cached_response(bytes));
  }
}

TEST_CASE("cached_response_codec rejects truncated header sections", "[cached_response_codec]") {
  auto original = sample();
  original.body = "body";
  auto bytes = encode_cached_response(original, 1000);
  // Where the body starts: everything before it is the header section.
  auto header_end = bytes.size() - original.body.size();
  REQUIRE(bytes.substr(header_end) == "body");
  REQUIRE(decode_cached_response(bytes));
  // Every cut inside the header section is refused (a cut right after the last header line is
  // an entry with an empty body, and so is not a truncated header section).
  for (size_t cut = 0; cut < header_end; ++cut) {
    INFO("cut at " << cut);
    CHECK_FALSE(decode_cached_response(std::string_view{bytes}.substr(0, cut)));
  }
  auto at_body = decode_cached_response(std::string_view{bytes}.substr(0, header_end));
  REQUIRE(at_body);
  CHECK(at_body->response.headers == original.headers);
  CHECK(at_body->response.body.empty());
}

TEST_CASE("cached_response_codec rejects a header count it cannot satisfy or over 1000",
          "[cached_response_codec]") {
  CHECK_FALSE(decode_cached_response("MNPGW1\n1000\n200\ntext/plain\n2\nA\n1\nbody"s));
  CHECK_FALSE(decode_cached_response("MNPGW1\n1000\n200\ntext/plain\n1001\n"s));
  CHECK_FALSE(decode_cached_response("MNPGW1\n1000\n200\ntext/plain\n18446744073709551615\n"s));
  CHECK_FALSE(decode_cached_response("MNPGW1\n1000\n200\ntext/plain\n99999999999999999999999\n"s));

  // 1000 headers are still fine; 1001, even if all present, are not.
  std::string thousand = "MNPGW1\n1000\n200\ntext/plain\n1000\n";
  std::string pairs;
  for (int i = 0; i < 1000; ++i)
    pairs += "H" + std::to_string(i) + "\nv\n";
  auto ok = decode_cached_response(thousand + pairs + "body");
  REQUIRE(ok);
  CHECK(ok->response.headers.size() == 1000);
  CHECK(ok->response.headers[999].first == "H999");
  CHECK(ok->response.body == "body");
  CHECK_FALSE(
    decode_cached_response("MNPGW1\n1000\n200\ntext/plain\n1001\n" + pairs + "H1000\nv\nbody"));
}

TEST_CASE("cached_response_codec drops a header with a line break on encode",
          "[cached_response_codec]") {
  cached_response r;
  r.status = 200;
  r.content_type = "text/plain";
  r.body = "ok";
  r.headers = {{"X-Good", "1"},
               {"X-Bad\nInjected", "2"},
               {"X-Forged", "3\n999\n200"},
               {"\n", ""},
               {"X-Also-Good", "4"}};
  auto bytes = encode_cached_response(r, 5000);
  // Neither the bad name nor the bad value made it into the bytes.
  CHECK(bytes.find("Injected") == std::string::npos);
  CHECK(bytes.find("X-Forged") == std::string::npos);
  CHECK(bytes.find("999") == std::string::npos);
  auto decoded = decode_cached_response(bytes);
  REQUIRE(decoded);
  CHECK(decoded->expires_unix_ms == 5000);
  CHECK(decoded->response.status == 200);
  CHECK(decoded->response.content_type == "text/plain");
  CHECK(decoded->response.body == "ok");
  CHECK(decoded->response.headers == header_list{{"X-Good", "1"}, {"X-Also-Good", "4"}});
}

TEST_CASE("cached_response_codec drops a content type with a line break on encode",
          "[cached_response_codec]") {
  cached_response r;
  r.content_type = "text/html\n0\n";
  r.body = "<p>";
  auto decoded = decode_cached_response(encode_cached_response(r, 1));
  REQUIRE(decoded);
  CHECK(decoded->response.content_type.empty());
  CHECK(decoded->response.headers.empty());
  CHECK(decoded->response.body == "<p>");
}
