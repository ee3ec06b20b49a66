#include "http/dashboard_endpoint.hpp"

#include <string>
#include <vector>

#include "http/dashboard_assets.hpp"

namespace medianest::http {

namespace {

/// An embedded file with what its responses carry, computed once.
struct asset {
  std::string_view name;
  std::string_view bytes;
  std::string content_type;
};

std::string_view content_type_for(std::string_view name) {
  struct ext_type {
    std::string_view ext;
    std::string_view type;
  };
  static constexpr ext_type types[] = {{".html", "text/html; charset=utf-8"},
                                       {".js", "text/javascript; charset=utf-8"},
                                       {".css", "text/css; charset=utf-8"},
                                       {".svg", "image/svg+xml"},
                                       {".png", "image/png"},
                                       {".json", "application/json"},
                                       {".txt", "text/plain; charset=utf-8"}};
  for (const auto& t : types)
    if (name.size() > t.ext.size() && name.substr(name.size() - t.ext.size()) == t.ext)
      return t.type;
  return "application/octet-stream";
}

const std::vector<asset>& assets() {
  static const std::vector<asset> table = [] {
    std::vector<asset> out;
    for (const auto& f : embedded_dashboard_files())
      out.push_back({f.name, f.bytes, std::string{content_type_for(f.name)}});
    return out;
  }();
  return table;
}

const asset* find_asset(std::string_view name) {
  for (const auto& a : assets())
    if (a.name == name)
      return &a;
  return nullptr;
}

http_response serve(const asset& a) {
  http_response res;
  // The files change with the binary: a browser must ask again rather than keep an old page
  // next to a newer daemon. (No ETag: Beast would give a 304 a Content-Length of 0.)
  res.headers = {{"Cache-Control", "no-cache"},
                 {"Content-Security-Policy", std::string{dashboard_csp}},
                 {"X-Content-Type-Options", "nosniff"},
                 {"Referrer-Policy", "no-referrer"}};
  res.content_type = a.content_type;
  res.body.assign(a.bytes);
  return res;
}

} // namespace

handler dashboard_page() {
  return [](request_context, responder done) {
    if (const auto* page = find_asset("index.html"))
      return done(serve(*page));
    done(http_response::error({errc::not_found, "the dashboard is not built in", {}, std::nullopt}));
  };
}

handler dashboard_file() {
  return [](request_context ctx, responder done) {
    if (const auto* file = find_asset(ctx.param("file")))
      return done(serve(*file));
    done(http_response::error(
      {errc::not_found, "no dashboard file " + std::string{ctx.param("file")}, {}, std::nullopt}));
  };
}

} // namespace medianest::http
