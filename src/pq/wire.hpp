#pragma once
// Framing of PostgreSQL's frontend/backend protocol 3.0: building the messages we send and
// taking apart the ones the server sends, every read bounds-checked.
// https://www.postgresql.org/docs/current/protocol-message-formats.html

#include <cstdint>
#include <string>
#include <string_view>

namespace medianest::pq {

/// Appends one message to `out`: a type byte (none for the startup packets), a length, and
/// the fields; the length is filled in by the destructor.
class message_writer {
public:
  message_writer(std::string& out, char type);
  message_writer(const message_writer&) = delete;
  message_writer& operator=(const message_writer&) = delete;
  ~message_writer();

  message_writer& int32(int32_t value);
  message_writer& int16(int16_t value);
  message_writer& cstring(std::string_view value); ///< with its terminating NUL
  message_writer& bytes(std::string_view value);

private:
  std::string& out_;
  size_t length_at_;
};

/// A whole backend message: its type byte and the body after the length.
struct backend_message {
  char type = 0;
  std::string_view body;
};

/// Largest message accepted from a server: libpq's limit for anything but a DataRow is 30000
/// bytes; rows may be large, but a length past this is a broken or hostile stream.
constexpr size_t max_backend_message = size_t{1} << 30;

enum class frame_status { complete, need_more, invalid };

/// The first complete message at the front of `buffer`, and how many bytes it took.
frame_status next_message(std::string_view buffer, backend_message& out, size_t& consumed);

/// Reads the fields of a message body in order. A read past the end yields zero or empty and
/// marks the reader failed, so a caller checks `ok()` once after reading everything.
class message_reader {
public:
  explicit message_reader(std::string_view body) : body_(body) {}
  int32_t int32();
  int16_t int16();
  char byte();
  std::string_view cstring();
  std::string_view bytes(size_t size);
  bool ok() const { return ok_; }
  bool at_end() const { return pos_ == body_.size(); }

private:
  bool take(size_t size, std::string_view& out);

  std::string_view body_;
  size_t pos_ = 0;
  bool ok_ = true;
};

} // namespace medianest::pq
