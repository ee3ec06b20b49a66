// The gateway's upstream response parser (src/http/upstream_response_parser.cpp): the bytes an
// upstream sends, which the gateway turns into the head its client gets.
//
// The first input byte picks how the rest arrives (pieces of 1–64 bytes, the size of the body
// buffer) and which fields the gateway replaces; the rest is the response. Fed as the gateway
// feeds it: whatever has arrived, a new body buffer whenever the parser asks for one, end of
// stream at the end.
//
// Invariants, once the header is parsed: the head is "HTTP/1.1 <3 digits> <reason>" and lines
// "Name: value", each ending in CRLF, with no CR or LF inside; no hop-by-hop field, no field the
// Connection header listed (but Content-Length, which frames the body), no X-Correlation-ID, and no X-Cache / X-RateLimit-* when the gateway
// replaces them; the remembered Cache-Control, Vary and Content-Type are the first such fields
// of the head and Set-Cookie is noticed. The body never overruns its buffer, and a complete body
// with a Content-Length has exactly that many bytes (but for 1xx, 204 and 304, which have none).

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>

#include <algorithm>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "http/upstream_response_parser.hpp"

using medianest::http::upstream_response_parser;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

namespace {

bool iequal(std::string_view a, std::string_view b) {
  return beast::iequals(a, b);
}

bool never_forwarded(std::string_view name, bool rate_replaced, bool cache_replaced) {
  for (std::string_view hop : {"Connection", "Keep-Alive", "Transfer-Encoding", "TE", "Trailer",
                               "Upgrade", "Proxy-Connection", "Proxy-Authenticate",
                               "Proxy-Authorization", "Expect", "X-Correlation-ID"})
    if (iequal(name, hop))
      return true;
  if (rate_replaced)
    for (std::string_view rate : {"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset"})
      if (iequal(name, rate))
        return true;
  return cache_replaced && iequal(name, "X-Cache");
}

/// The field names the Connection headers of `wire`'s header list, found by the fuzzer's own
/// scan of the raw bytes (lines up to the first empty one).
std::vector<std::string> connection_listed(std::string_view wire) {
  std::vector<std::string> out;
  auto end = wire.find("\r\n\r\n");
  auto header = wire.substr(0, end);
  size_t pos = header.find("\r\n");
  while (pos != std::string_view::npos && pos < header.size()) {
    pos += 2;
    auto next = header.find("\r\n", pos);
    auto line = header.substr(pos, next == std::string_view::npos ? header.npos : next - pos);
    auto colon = line.find(':');
    if (colon != line.npos && iequal(line.substr(0, colon), "Connection")) {
      auto value = line.substr(colon + 1);
      size_t start = 0;
      while (start <= value.size()) {
        auto comma = std::min(value.find(',', start), value.size());
        auto token = value.substr(start, comma - start);
        while (!token.empty() && (token.front() == ' ' || token.front() == '\t'))
          token.remove_prefix(1);
        while (!token.empty() && (token.back() == ' ' || token.back() == '\t'))
          token.remove_suffix(1);
        if (!token.empty() && !iequal(token, "close") && !iequal(token, "keep-alive")
            && !iequal(token, "content-length"))
          out.emplace_back(token);
        start = comma + 1;
      }
    }
    pos = next;
  }
  return out;
}

void check_head(const upstream_response_parser& p, std::string_view wire, bool rate_replaced,
                bool cache_replaced) {
  auto head = p.head();
  FUZZ_CHECK(head.size() >= 15 && head.substr(0, 9) == "HTTP/1.1 ");
  FUZZ_CHECK(std::all_of(head.begin() + 9, head.begin() + 12, [](char c) { return c >= '0' && c <= '9'; }));
  FUZZ_CHECK(head[12] == ' ' && head.substr(head.size() - 2) == "\r\n");
  auto listed = connection_listed(wire);
  std::string_view first_cache_control, first_vary, first_content_type;
  bool cookie = false;
  p.for_each_field([&](std::string_view name, std::string_view value) {
    FUZZ_CHECK(!name.empty());
    FUZZ_CHECK(name.find_first_of("\r\n: ") == name.npos);
    FUZZ_CHECK(value.find_first_of("\r\n") == value.npos);
    FUZZ_CHECK(!never_forwarded(name, rate_replaced, cache_replaced));
    for (const auto& l : listed)
      FUZZ_CHECK(!iequal(name, l));
    if (first_cache_control.empty() && iequal(name, "Cache-Control"))
      first_cache_control = value;
    if (first_vary.empty() && iequal(name, "Vary"))
      first_vary = value;
    if (first_content_type.empty() && iequal(name, "Content-Type"))
      first_content_type = value;
    cookie = cookie || iequal(name, "Set-Cookie");
  });
  FUZZ_CHECK(p.cache_control() == first_cache_control);
  FUZZ_CHECK(p.vary() == first_vary);
  FUZZ_CHECK(p.content_type() == first_content_type);
  FUZZ_CHECK(p.sets_cookie() == cookie);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1)
    return 0;
  const uint8_t mode = data[0];
  const size_t piece_bytes = 1 + (mode & 0x3F);
  const bool rate_replaced = mode & 0x40;
  const bool cache_replaced = mode & 0x80;
  std::string_view wire(reinterpret_cast<const char*>(data + 1), size - 1);

  std::string head = "stale";
  upstream_response_parser p{head, rate_replaced, cache_replaced};
  p.body_limit(1 << 20);
  std::vector<char> piece(piece_bytes);
  p.data = piece.data();
  p.size = piece.size();
  uint64_t body_bytes = 0;
  auto take_body = [&] {
    body_bytes += piece.size() - p.size;
    p.data = piece.data();
    p.size = piece.size();
  };
  // `arrived` is the connection's buffer: what came in and the parser has not consumed yet.
  std::string arrived;
  beast::error_code ec;
  size_t offset = 0;
  while (!ec && !p.is_done()) {
    if (offset == wire.size()) { // the upstream closed the connection
      if (p.got_some())
        p.put_eof(ec);
      break;
    }
    auto n = std::min(piece_bytes, wire.size() - offset);
    arrived.append(wire.substr(offset, n));
    offset += n;
    while (!arrived.empty() && !p.is_done()) {
      auto used = p.put(boost::asio::buffer(arrived.data(), arrived.size()), ec);
      FUZZ_CHECK(used <= arrived.size());
      FUZZ_CHECK(p.size <= piece.size());
      arrived.erase(0, used);
      if (ec == bhttp::error::need_buffer) {
        ec = {};
        take_body();
        continue;
      }
      if (ec == bhttp::error::need_more) {
        ec = {};
        break;
      }
      if (ec || used == 0)
        break;
    }
  }
  take_body();
  // A header that ended in an error (a Content-Length over the body limit) is never complete,
  // even where Beast counts it done: the gateway relays only a complete one.
  FUZZ_CHECK(!p.header_complete() || p.is_header_done());
  if (p.is_header_done() && !p.header_complete())
    FUZZ_CHECK(ec);
  if (p.header_complete())
    check_head(p, wire, rate_replaced, cache_replaced);
  // 1xx, 204 and 304 answers have no body whatever their Content-Length says (RFC 9112 6.3)
  bool bodiless = p.status() / 100 == 1 || p.status() == 204 || p.status() == 304;
  if (!ec && p.is_done() && !p.chunked() && p.content_length() && !bodiless)
    FUZZ_CHECK(body_bytes == *p.content_length());
  return 0;
}
