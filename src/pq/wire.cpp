#include "pq/wire.hpp"

namespace medianest::pq {

namespace {

void put_be32(char* at, uint32_t value) {
  at[0] = static_cast<char>(value >> 24);
  at[1] = static_cast<char>(value >> 16);
  at[2] = static_cast<char>(value >> 8);
  at[3] = static_cast<char>(value);
}

uint32_t get_be32(const char* at) {
  auto b = [&](int i) { return static_cast<uint32_t>(static_cast<unsigned char>(at[i])); };
  return b(0) << 24 | b(1) << 16 | b(2) << 8 | b(3);
}

} // namespace

message_writer::message_writer(std::string& out, char type) : out_(out) {
  if (type != 0)
    out_ += type;
  length_at_ = out_.size();
  out_.append(4, '\0');
}

message_writer::~message_writer() {
  put_be32(out_.data() + length_at_, static_cast<uint32_t>(out_.size() - length_at_));
}

message_writer& message_writer::int32(int32_t value) {
  char b[4];
  put_be32(b, static_cast<uint32_t>(value));
  out_.append(b, 4);
  return *this;
}

message_writer& message_writer::int16(int16_t value) {
  auto v = static_cast<uint16_t>(value);
  out_ += static_cast<char>(v >> 8);
  out_ += static_cast<char>(v);
  return *this;
}

message_writer& message_writer::cstring(std::string_view value) {
  out_.append(value);
  out_ += '\0';
  return *this;
}

message_writer& message_writer::bytes(std::string_view value) {
  out_.append(value);
  return *this;
}

frame_status next_message(std::string_view buffer, backend_message& out, size_t& consumed) {
  if (buffer.size() < 5)
    return frame_status::need_more;
  auto length = get_be32(buffer.data() + 1);
  if (length < 4 || length > max_backend_message)
    return frame_status::invalid;
  if (buffer.size() < size_t{length} + 1)
    return frame_status::need_more;
  out.type = buffer[0];
  out.body = buffer.substr(5, length - 4);
  consumed = size_t{length} + 1;
  return frame_status::complete;
}

bool message_reader::take(size_t size, std::string_view& out) {
  if (!ok_ || body_.size() - pos_ < size) {
    ok_ = false;
    out = {};
    return false;
  }
  out = body_.substr(pos_, size);
  pos_ += size;
  return true;
}

int32_t message_reader::int32() {
  std::string_view b;
  return take(4, b) ? static_cast<int32_t>(get_be32(b.data())) : 0;
}

int16_t message_reader::int16() {
  std::string_view b;
  if (!take(2, b))
    return 0;
  return static_cast<int16_t>(static_cast<unsigned char>(b[0]) << 8 | static_cast<unsigned char>(b[1]));
}

char message_reader::byte() {
  std::string_view b;
  return take(1, b) ? b[0] : '\0';
}

std::string_view message_reader::cstring() {
  if (!ok_)
    return {};
  auto nul = body_.find('\0', pos_);
  if (nul == std::string_view::npos) {
    ok_ = false;
    return {};
  }
  auto out = body_.substr(pos_, nul - pos_);
  pos_ = nul + 1;
  return out;
}

std::string_view message_reader::bytes(size_t size) {
  std::string_view b;
  take(size, b);
  return b;
}

} // namespace medianest::pq
