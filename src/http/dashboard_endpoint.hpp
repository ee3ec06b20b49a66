#pragma once

#include <string_view>

#include "http/types.hpp"

namespace medianest::http {

/// The Content-Security-Policy of every dashboard file: only the daemon's own scripts, styles
/// and sockets; no inline code, no framing, no form posts (docs/dashboard.md).
inline constexpr std::string_view dashboard_csp =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
  "connect-src 'self' ws: wss:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// GET /dashboard: the page (index.html). Open access: the page asks for a token itself.
handler dashboard_page();

/// GET /dashboard/:file: one of the page's files (app.js, app.css, …) by name, or 404.
handler dashboard_file();

} // namespace medianest::http
