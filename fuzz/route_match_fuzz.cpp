// Route matching: router::match on the daemon's own route table (make_api_router), and
// fold_route, which turns every path the gateway proxies into the route template its metrics
// and cache rules are keyed by. The input is "METHOD /path" (or just a path, as GET).
//
// Invariants: a match is a route of that method whose template, filled with the captured
// parameters, spells the path; a path known under other methods is a 405 with an Allow list
// that does not name the method; the handlers of the routes that need no actor answer with a
// valid JSON envelope for every parameter (a dashboard file only when it is embedded). A
// folded route starts with '/', has no empty segment, no query, at most max_route_segments
// segments (then "/*"), and folding it again changes nothing.

#include <algorithm>
#include <memory>
#include <string>

#include "fuzz_check.hpp"
#include "http/api_routes.hpp"
#include "http/dashboard_assets.hpp"
#include "model/route_template.hpp"

using namespace medianest;
using namespace medianest::http;

namespace {

const router& api_router() {
  static const auto r = make_api_router(std::make_shared<api_services>());
  return *r;
}

/// The template with its ":name" segments replaced by the captured values.
std::string fill(const route& r, const route_match& m) {
  std::string out;
  size_t param = 0;
  for (const auto& seg : r.segments) {
    out += '/';
    if (seg.front() == ':') {
      FUZZ_CHECK(param < m.params.size() && m.params[param].first == seg.substr(1));
      out += m.params[param++].second;
    } else {
      out += seg;
    }
  }
  FUZZ_CHECK(param == m.params.size());
  return out.empty() ? "/" : out;
}

bool lists(std::string_view allowed, std::string_view method) {
  size_t pos = 0;
  while (pos <= allowed.size()) {
    auto end = std::min(allowed.find(", ", pos), allowed.size());
    if (allowed.substr(pos, end - pos) == method)
      return true;
    pos = end + 2;
  }
  return false;
}

/// Runs the handler of a route that answers without asking an actor.
void check_handler(const route& r, const route_match& m, std::string_view path) {
  static const std::string prefix{api_prefix};
  static const std::vector<std::string> actorless{"/health",
                                                  "/dashboard",
                                                  "/dashboard/:file",
                                                  prefix + "/metrics",
                                                  prefix + "/resources",
                                                  prefix + "/prometheus",
                                                  prefix + "/live"};
  if (std::find(actorless.begin(), actorless.end(), r.pattern) == actorless.end())
    return;
  request_context ctx;
  ctx.request.method = r.method;
  ctx.request.path = std::string{path};
  ctx.params = m.params;
  ctx.route = r.pattern;
  int calls = 0;
  http_response res;
  r.handler(std::move(ctx), [&](http_response x) {
    ++calls;
    res = std::move(x);
  });
  FUZZ_CHECK(calls == 1);
  if (res.content_type == "application/json")
    FUZZ_CHECK(fuzz::is_json(res.body));
  if (r.pattern == "/dashboard/:file" && res.status == 200) {
    auto files = embedded_dashboard_files();
    FUZZ_CHECK(std::any_of(files.begin(), files.end(),
                           [&](const embedded_file& f) { return f.name == m.params[0].second; }));
  }
}

void check_match(std::string_view method, std::string_view path) {
  const auto& table = api_router();
  auto m = table.match(method, path);
  if (!m.path_known) {
    FUZZ_CHECK(!m.found && m.allowed.empty() && !m.pattern && m.params.empty());
    return;
  }
  FUZZ_CHECK(m.pattern && !m.allowed.empty());
  if (!m.found) {
    FUZZ_CHECK(!lists(m.allowed, method));
    FUZZ_CHECK(m.params.empty());
    return;
  }
  const auto& r = *m.found;
  FUZZ_CHECK(r.method == method);
  FUZZ_CHECK(lists(m.allowed, method));
  auto spelled = fill(r, m);
  auto expected = path.size() > 1 && path.back() == '/' ? path.substr(0, path.size() - 1) : path;
  FUZZ_CHECK(spelled == expected);
  for (const auto& [name, value] : m.params)
    FUZZ_CHECK(!value.empty() && value.find('/') == std::string::npos);
  // Whether a path is known and what it allows does not depend on the method asked with.
  auto other = table.match("OPTIONS", path);
  FUZZ_CHECK(other.path_known && other.allowed == m.allowed && other.pattern == m.pattern);
  check_handler(r, m, path);
}

/// What holds for any folded route; `fold` folds again, as the gateway would.
template <class Fold>
void check_folded(const std::string& folded, Fold fold) {
  FUZZ_CHECK(!folded.empty() && folded.front() == '/');
  FUZZ_CHECK(folded.find("//") == std::string::npos);
  FUZZ_CHECK(folded.size() == 1 || folded.back() != '/');
  FUZZ_CHECK(folded.find_first_of("?#") == std::string::npos);
  auto segments = split_path(folded);
  FUZZ_CHECK(segments.size() <= max_route_segments + 1);
  if (segments.size() == max_route_segments + 1)
    FUZZ_CHECK(segments.back() == "*");
  for (auto seg : segments)
    FUZZ_CHECK(seg.size() <= max_route_segment_length);
  FUZZ_CHECK(fold(folded) == folded);
}

void check_fold(std::string_view path) {
  // Explicit templates as --cache-route gives them; neither matches what the other folds to.
  static const std::vector<route_pattern> explicit_patterns{
    {"/api/v1/media/:id/seasons/:season"}, {"/api/v1/search/*"}};
  check_folded(fold_route(path), [](std::string_view p) { return fold_route(p); });
  check_folded(fold_route(path, explicit_patterns),
               [](std::string_view p) { return fold_route(p, explicit_patterns); });
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  std::string_view method = "GET";
  std::string_view path = text;
  if (auto sp = text.find(' '); sp != std::string_view::npos && sp < text.find('/')) {
    method = text.substr(0, sp);
    path = text.substr(sp + 1);
  }
  check_match(method, path);
  check_fold(path);
  for (auto seg : split_path(path))
    FUZZ_CHECK(!seg.empty() && seg.find('/') == std::string_view::npos);
  return 0;
}
