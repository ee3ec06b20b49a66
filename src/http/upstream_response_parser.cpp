#include "http/upstream_response_parser.hpp"

#include <charconv>
#include <cstring>

#include <boost/beast/http/error.hpp>
#include <boost/beast/http/status.hpp>

#include "http/hop_by_hop.hpp"

namespace medianest::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;

upstream_response_parser::upstream_response_parser(std::string& head, bool rate_headers_replaced,
                                                   bool cache_header_replaced)
  : head_(head),
    rate_headers_replaced_(rate_headers_replaced),
    cache_header_replaced_(cache_header_replaced) {
  head_.clear();
}

void upstream_response_parser::on_response_impl(int code, beast::string_view reason, int,
                                                beast::error_code& ec) {
  // Three digits, but 000-099 is no status (RFC 9110 15): such an answer is a bad gateway, not
  // something to relay (found by the upstream_response fuzzer: "099" became "99").
  if (code < 100) {
    ec = bhttp::error::bad_status;
    return;
  }
  status_ = static_cast<unsigned>(code);
  char digits[4];
  auto written = std::to_chars(digits, digits + sizeof digits, code);
  head_.append("HTTP/1.1 ").append(digits, written.ptr).push_back(' ');
  if (reason.empty())
    head_.append(bhttp::obsolete_reason(static_cast<bhttp::status>(code)));
  else
    head_.append(reason);
  head_.append("\r\n");
  fields_begin_ = head_.size();
}

void upstream_response_parser::on_field_impl(bhttp::field name, beast::string_view name_string,
                                             beast::string_view value, beast::error_code&) {
  // Fields after the header are a chunked body's trailer: the head may be on the wire already,
  // and the gateway frames the body again without trailers (found by the fuzzer: they were
  // appended after the head's blank line).
  if (header_done_)
    return;
  if (name == bhttp::field::connection)
    for_each_connection_listed(value, [this](std::string_view token) {
      connection_listed_.append(token).push_back(',');
    });
  if (is_hop_by_hop(name) || replaced_by_gateway(name_string))
    return;
  head_.append(name_string).append(": ");
  remember(name, {head_.size(), value.size()});
  head_.append(value).append("\r\n");
}

void upstream_response_parser::remember(bhttp::field name, span value) {
  switch (name) {
    case bhttp::field::cache_control:
      if (cache_control_.len == 0)
        cache_control_ = value;
      break;
    case bhttp::field::vary:
      if (vary_.len == 0)
        vary_ = value;
      break;
    case bhttp::field::content_type:
      if (content_type_.len == 0)
        content_type_ = value;
      break;
    case bhttp::field::set_cookie:
      sets_cookie_ = true;
      break;
    default:
      break;
  }
}

bool upstream_response_parser::replaced_by_gateway(std::string_view name) const {
  if (name.empty() || (name[0] != 'X' && name[0] != 'x'))
    return false;
  if (beast::iequals(name, "X-Correlation-ID"))
    return true;
  if (rate_headers_replaced_
      && (beast::iequals(name, "X-RateLimit-Limit") || beast::iequals(name, "X-RateLimit-Remaining")
          || beast::iequals(name, "X-RateLimit-Reset")))
    return true;
  return cache_header_replaced_ && beast::iequals(name, "X-Cache");
}

void upstream_response_parser::on_header_impl(beast::error_code&) {
  header_done_ = true;
  if (!connection_listed_.empty())
    drop_connection_listed();
}

void upstream_response_parser::drop_connection_listed() {
  std::string kept{head().substr(0, fields_begin_)};
  cache_control_ = vary_ = content_type_ = {};
  sets_cookie_ = false;
  for_each_field([&](std::string_view name, std::string_view value) {
    if (is_listed(connection_listed_, name))
      return;
    kept.append(name).append(": ");
    remember(bhttp::string_to_field(name), {kept.size(), value.size()});
    kept.append(value).append("\r\n");
  });
  head_.swap(kept);
}

std::size_t upstream_response_parser::on_body_impl(beast::string_view body, beast::error_code& ec) {
  if (!data) {
    ec = bhttp::error::need_buffer;
    return 0;
  }
  auto n = std::min(size, body.size());
  std::memcpy(data, body.data(), n);
  data += n;
  size -= n;
  if (n < body.size())
    ec = bhttp::error::need_buffer;
  return n;
}

std::size_t upstream_response_parser::on_chunk_body_impl(std::uint64_t, beast::string_view body,
                                                         beast::error_code& ec) {
  return on_body_impl(body, ec);
}

} // namespace medianest::http
