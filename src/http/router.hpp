#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "http/types.hpp"

namespace medianest::http {

/// One entry of the route table: a method on a template like "/api/v1/performance/optimize/:id".
struct route {
  std::string method;
  std::string pattern;
  http::access access = access::admin;
  http::handler handler;
  std::vector<std::string> segments;
  /// The pattern, interned: what request records and logs carry.
  const std::string* name = nullptr;
};

/// What matching a method and a path against the table found.
struct route_match {
  /// The matching route, or nullptr.
  const route* found = nullptr;
  /// Values of the template's ":name" segments.
  std::vector<std::pair<std::string, std::string>> params;
  /// True if some route has this path under another method (→ 405 rather than 404).
  bool path_known = false;
  /// The methods the path accepts, for the Allow header of a 405.
  std::string allowed;
  /// The interned template of the first route whose path matched, whatever its method.
  const std::string* pattern = nullptr;
};

/// Matches requests against route templates. Built once at start, then read-only and shared
/// by all sessions.
class router {
public:
  /// Adds a route; a template segment starting with ':' matches any one non-empty segment.
  void add(std::string method, std::string pattern, access level, handler fn);

  /// Finds the route for a method and a path (without query string). A single trailing slash
  /// is ignored.
  route_match match(std::string_view method, std::string_view path) const;

  /// Every route, in the order added (for documentation checks).
  const std::vector<route>& routes() const noexcept {
    return routes_;
  }

private:
  std::vector<route> routes_;
};

/// Splits a path into its segments; empty segments are dropped.
std::vector<std::string_view> split_path(std::string_view path);

} // namespace medianest::http
