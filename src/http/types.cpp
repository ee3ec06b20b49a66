#include "http/types.hpp"

#include <boost/algorithm/string/predicate.hpp>

namespace medianest::http {

std::string_view http_request::header(std::string_view name) const noexcept {
  for (const auto& [key, value] : headers)
    if (boost::algorithm::iequals(key, name))
      return value;
  return {};
}

http_response http_response::ok(std::string_view data_json) {
  http_response res;
  res.body = success_envelope(data_json);
  return res;
}

http_response http_response::error(const api_error& err) {
  http_response res;
  res.status = http_status(err.code);
  res.body = error_envelope(err);
  if (err.retry_after)
    res.headers.emplace_back("Retry-After", std::to_string(*err.retry_after));
  return res;
}

std::string_view request_context::param(std::string_view name) const noexcept {
  for (const auto& [key, value] : params)
    if (key == name)
      return value;
  return {};
}

} // namespace medianest::http
