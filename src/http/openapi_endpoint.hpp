#pragma once

#include <string_view>

#include "http/types.hpp"

namespace medianest::http {

/// docs/openapi.yaml, byte for byte, embedded at build time (cmake/embed_document.cmake
/// generates the definition into the build directory).
std::string_view openapi_document() noexcept;

/// GET /api/v1/performance/openapi.yaml: the API's OpenAPI description. Open access.
handler openapi_endpoint();

} // namespace medianest::http
