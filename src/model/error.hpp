#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp> // CAF_ERROR_CODE_ENUM below calls make_message
#include <caf/message.hpp>

namespace medianest {

/// Every error the API can answer with: the spec's four codes plus the conventions of
/// DESIGN.md. One place maps each to its HTTP status and wire name.
enum class errc : uint8_t {
  unauthorized = 1,
  forbidden,
  not_found,
  method_not_allowed,
  validation_error,
  conflict,
  payload_too_large,
  rate_limited,
  internal_error,
  not_implemented,
  bad_gateway,
  gateway_timeout,
  performance_degraded,
  resource_exhausted,
  circuit_breaker_open,
  optimization_failed,
};

/// The wire name of a code, e.g. "VALIDATION_ERROR".
std::string_view code_name(errc code) noexcept;

/// The HTTP status a code travels with.
unsigned http_status(errc code) noexcept;

/// An error on its way to the edge: code, human message, optional structured details.
struct api_error {
  errc code = errc::internal_error;
  std::string message;
  boost::json::object details;
  /// Seconds for a Retry-After header (503 and 429 always carry one).
  std::optional<unsigned> retry_after;
};

/// Builds an api_error whose details name the offending field, as VALIDATION_ERROR requires.
api_error validation_error(std::string_view field, std::string message);

/// Serializes `{"success":false,"error":{code,message,statusCode,details?}}`.
std::string error_envelope(const api_error& err);

/// Serializes `{"success":true,"data":...}` around already-serialized JSON.
std::string success_envelope(std::string_view data_json);

/// Wraps an api_error into a caf::error so that it can travel as an actor's reply.
caf::error to_caf_error(const api_error& err);

/// Recovers the api_error from a caf::error; errors of other categories (timeouts, dead
/// actors) become INTERNAL_ERROR or RESOURCE_EXHAUSTED with a generic message.
api_error from_caf_error(const caf::error& err);

} // namespace medianest

CAF_ERROR_CODE_ENUM(medianest::errc, "medianest")
