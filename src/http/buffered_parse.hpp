#pragma once

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/error.hpp>

namespace medianest::http {

/// Feeds what `buffer` already holds to `parser` until `enough()` holds or the parser wants
/// bytes that have not arrived: a header (or a small body) that came in with the previous read
/// is parsed without a trip through the io_context. need_more and need_buffer are not errors
/// here; any other parser error is returned.
template <class Parser, class Enough>
boost::beast::error_code parse_buffered(Parser& parser, boost::beast::flat_buffer& buffer,
                                        Enough enough) {
  namespace bhttp = boost::beast::http;
  boost::beast::error_code ec;
  while (buffer.size() > 0 && !enough()) {
    auto used = parser.put(buffer.data(), ec);
    buffer.consume(used);
    if (ec == bhttp::error::need_more || ec == bhttp::error::need_buffer)
      return {};
    if (ec || used == 0)
      return ec;
  }
  return {};
}

} // namespace medianest::http
