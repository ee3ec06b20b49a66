#include <catch2/catch.hpp>

#include <string>

#include "pq/wire.hpp"

using namespace medianest::pq;

TEST_CASE("messages are framed with a type byte and a length that counts itself") {
  std::string out;
  { message_writer{out, 'Q'}.cstring("SELECT 1"); }
  CHECK(out == std::string{"Q\0\0\0\x0dSELECT 1\0", 14});
  out.clear();
  { message_writer{out, 0}.int32(80877103); } // SSLRequest: no type byte
  CHECK(out == std::string{"\0\0\0\x08\x04\xd2\x16\x2f", 8});
  out.clear();
  { message_writer{out, 'B'}.int16(-1).int32(-1); }
  CHECK(out == std::string{"B\0\0\0\x0a\xff\xff\xff\xff\xff\xff", 11});
}

TEST_CASE("backend messages are split off only when whole, and absurd lengths are refused") {
  std::string stream{"Z\0\0\0\x05I" "C\0\0\0\x0bSELECT", 17};
  backend_message msg;
  size_t used = 0;
  REQUIRE(next_message(stream, msg, used) == frame_status::complete);
  CHECK(msg.type == 'Z');
  CHECK(msg.body == "I");
  CHECK(used == 6);
  // The CommandComplete announces 11 bytes but 10 arrived so far.
  CHECK(next_message(std::string_view{stream}.substr(used), msg, used) == frame_status::need_more);
  CHECK(next_message(std::string_view{"Z\0\0", 3}, msg, used) == frame_status::need_more);
  CHECK(next_message(std::string_view{"E\0\0\0\x03", 5}, msg, used) == frame_status::invalid);
  CHECK(next_message(std::string_view{"D\x7f\xff\xff\xff", 5}, msg, used) == frame_status::invalid);
}

TEST_CASE("a message reader fails, instead of reading past the end, on a truncated body") {
  message_reader ok{std::string_view{"\0\x02" "ab\0" "\0\0\0\x07", 9}};
  CHECK(ok.int16() == 2);
  CHECK(ok.cstring() == "ab");
  CHECK(ok.int32() == 7);
  CHECK(ok.ok());
  CHECK(ok.at_end());

  message_reader no_nul{"abc"};
  CHECK(no_nul.cstring().empty());
  CHECK_FALSE(no_nul.ok());

  message_reader short_int{std::string_view{"\0\0\0", 3}};
  CHECK(short_int.int32() == 0);
  CHECK_FALSE(short_int.ok());
  CHECK(short_int.bytes(1).empty()); // stays failed

  message_reader short_bytes{"ab"};
  CHECK(short_bytes.bytes(5).empty());
  CHECK_FALSE(short_bytes.ok());
}
