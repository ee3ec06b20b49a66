#include <catch2/catch.hpp>

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>

#include "model/error.hpp"
#include "model/json.hpp"

using namespace medianest;

TEST_CASE("to_json keeps well-formed UTF-8 and replaces malformed bytes with U+FFFD") {
  auto text = [](std::string s) { return to_json(boost::json::value(boost::json::string(s))); };
  CHECK(text("plain") == R"("plain")");
  CHECK(text("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80") == "\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"");
  CHECK(text("\xff") == R"("\ufffd")");
  CHECK(text("a\xc3(b") == R"("a\ufffd(b")");        // truncated sequence
  CHECK(text("\xc0\xaf") == R"("\ufffd\ufffd")");    // overlong '/'
  CHECK(text("\xed\xa0\x80") == R"("\ufffd\ufffd\ufffd")"); // a UTF-16 surrogate
  CHECK(text("\xf4\x90\x80\x80") == R"("\ufffd\ufffd\ufffd\ufffd")"); // past U+10FFFF
  CHECK(text("\xe2\x82") == R"("\ufffd\ufffd")");    // cut at the end
  CHECK(text(std::string("nul\0", 4)) == R"("nul\u0000")");
}

TEST_CASE("an error envelope quoting request bytes is valid JSON") {
  auto body = error_envelope(validation_error("\xff\xfe", "got '\xc3\x28' and \"\\\""));
  boost::system::error_code ec;
  auto doc = boost::json::parse(body, ec); // Boost.JSON refuses invalid UTF-8
  REQUIRE_FALSE(ec);
  CHECK(doc.at("error").at("details").at("field").as_string() == "\xef\xbf\xbd\xef\xbf\xbd");
  CHECK(doc.at("error").at("message").as_string() == "got '\xef\xbf\xbd(' and \"\\\"");
}
