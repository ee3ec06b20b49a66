#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "model/error.hpp"

namespace medianest::http {

using header_list = std::vector<std::pair<std::string, std::string>>;

/// A parsed request, free of Beast types so that handlers and actors need no Beast headers.
struct http_request {
  std::string method;
  std::string target;
  std::string path;
  std::string query;
  header_list headers;
  std::string body;
  std::string remote_address;

  /// The first header of that name (case-insensitive), or an empty view.
  std::string_view header(std::string_view name) const noexcept;
};

/// A response on its way back to the session.
struct http_response {
  unsigned status = 200;
  std::string content_type = "application/json";
  std::string body;
  header_list headers;
  /// A replayed upstream response (gateway cache): the daemon's own defaults (Server,
  /// Cache-Control: no-store) are not added.
  bool from_upstream = false;

  /// `{"success":true,"data":<data_json>}` with status 200.
  static http_response ok(std::string_view data_json);
  /// The spec's error envelope, with Retry-After when the error carries one.
  static http_response error(const api_error& err);
};

/// Completes a request: posts the response back onto the session's strand. Call it once;
/// it may be called from any thread.
using responder = std::function<void(http_response)>;

/// Who may call a route.
enum class access : uint8_t { open, user, admin };

enum class role : uint8_t { user, admin };

/// What a verified token says about its bearer.
struct claims {
  std::string subject;
  http::role role = role::user;
  int64_t expires_at = 0;
};

/// Everything a handler needs about one request.
struct request_context {
  http_request request;
  std::vector<std::pair<std::string, std::string>> params;
  http::claims claims;
  std::string correlation_id;
  std::string route;

  /// A route parameter by name (":id" → "id"), or an empty view.
  std::string_view param(std::string_view name) const noexcept;
};

using handler = std::function<void(request_context, responder)>;


} // namespace medianest::http
