#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <boost/beast/http/basic_parser.hpp>

namespace medianest::http {

/// Parses an upstream response straight into the header the client will get. The status line
/// and every end-to-end field are appended to `head` as Beast's parser reports them; hop-by-hop
/// fields (RFC 9110 7.6.1), those the Connection header names, and those the gateway sets
/// itself are left out. The few values the gateway decides on are kept as positions in `head`.
/// Beast's own response parser stores every field in a heap node of its basic_fields and the
/// gateway then copied them out again; this parser allocates nothing per field.
///
/// The body is delivered as Beast's buffer_body delivers it: into [data, data + size), which
/// the caller points at its relay buffer; `size` is what is left of it.
class upstream_response_parser : public boost::beast::http::basic_parser<false> {
public:
  /// Upstream fields that the gateway replaces are dropped: always X-Correlation-ID; the
  /// X-RateLimit-* fields when `rate_headers_replaced`, X-Cache when `cache_header_replaced`.
  upstream_response_parser(std::string& head, bool rate_headers_replaced,
                           bool cache_header_replaced);

  /// Whether the head is complete and final: its Connection-listed fields removed. Use this,
  /// not Beast's is_header_done(), which turns true also when the header ends in an error
  /// (a Content-Length over body_limit) before on_header_impl ran: the head then still holds
  /// the fields the Connection header named (found by the upstream_response fuzzer).
  bool header_complete() const noexcept { return header_done_; }

  /// The status line and the fields, each ending in CRLF, without the blank line.
  std::string_view head() const { return head_; }
  unsigned status() const { return status_; }
  /// The first value of each, "" when absent.
  std::string_view cache_control() const { return value(cache_control_); }
  std::string_view vary() const { return value(vary_); }
  std::string_view content_type() const { return value(content_type_); }
  bool sets_cookie() const { return sets_cookie_; }

  /// Calls f(name, value) for every field kept in the head, in order.
  template <class F>
  void for_each_field(F&& f) const {
    auto rest = head().substr(fields_begin_);
    while (!rest.empty()) {
      auto end = rest.find("\r\n");
      auto line = rest.substr(0, end);
      auto colon = line.find(':');
      f(line.substr(0, colon), line.substr(colon + 2));
      rest.remove_prefix(end + 2);
    }
  }

  char* data = nullptr;
  std::size_t size = 0;

private:
  struct span {
    std::size_t pos = 0;
    std::size_t len = 0;
  };
  std::string_view value(span s) const { return head().substr(s.pos, s.len); }

  void on_request_impl(boost::beast::http::verb, boost::beast::string_view,
                       boost::beast::string_view, int, boost::beast::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view reason, int version,
                        boost::beast::error_code& ec) override;
  void on_field_impl(boost::beast::http::field name, boost::beast::string_view name_string,
                     boost::beast::string_view value, boost::beast::error_code& ec) override;
  void on_header_impl(boost::beast::error_code& ec) override;
  void on_body_init_impl(const boost::optional<std::uint64_t>&,
                         boost::beast::error_code&) override {}
  std::size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code& ec) override;
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view,
                            boost::beast::error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body,
                                 boost::beast::error_code& ec) override;
  void on_finish_impl(boost::beast::error_code&) override {}

  bool replaced_by_gateway(std::string_view name) const;
  /// Removes the fields the Connection header named (rare: usually it says only keep-alive or
  /// close) and finds the remembered values again in what is left.
  void drop_connection_listed();
  void remember(boost::beast::http::field name, span value);

  std::string& head_;
  bool rate_headers_replaced_;
  bool cache_header_replaced_;
  unsigned status_ = 0;
  std::size_t fields_begin_ = 0;
  span cache_control_;
  span vary_;
  span content_type_;
  bool sets_cookie_ = false;
  bool header_done_ = false;
  /// Comma-separated field names the Connection header listed beyond keep-alive and close.
  std::string connection_listed_;
};

} // namespace medianest::http
