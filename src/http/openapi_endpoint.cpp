#include "http/openapi_endpoint.hpp"

namespace medianest::http {

handler openapi_endpoint() {
  return [](request_context, responder done) {
    http_response res;
    res.content_type = "application/yaml";
    // The document changes with the binary: a client may keep it, but must ask again.
    res.headers = {{"Cache-Control", "no-cache"}, {"X-Content-Type-Options", "nosniff"}};
    res.body.assign(openapi_document());
    done(std::move(res));
  };
}

} // namespace medianest::http
