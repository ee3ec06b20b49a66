#include "http/prometheus_endpoint.hpp"

#include "http/api_routes.hpp"
#include "model/prometheus.hpp"

namespace medianest::http {

handler prometheus_endpoint(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    auto latest = services->snapshots ? services->snapshots->latest() : nullptr;
    if (!latest) {
      done(http_response::error(
        {errc::resource_exhausted, "the first snapshot is not ready yet", {}, 1u}));
      return;
    }
    auto format = negotiate_exposition(ctx.request.header("Accept"));
    http_response res;
    res.content_type = std::string{content_type_of(format)};
    res.headers.emplace_back("Vary", "Accept");
    res.body = latest->get(format == exposition_format::openmetrics
                             ? snapshot_view::body::prometheus_openmetrics
                             : snapshot_view::body::prometheus_text);
    done(std::move(res));
  };
}

} // namespace medianest::http
