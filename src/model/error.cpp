#include "model/error.hpp"

#include "model/json.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <caf/message.hpp>
#include <caf/sec.hpp>

namespace medianest {

namespace {

struct code_info {
  std::string_view name;
  unsigned status;
};

code_info info(errc code) noexcept {
  switch (code) {
    case errc::unauthorized: return {"UNAUTHORIZED", 401};
    case errc::forbidden: return {"FORBIDDEN", 403};
    case errc::not_found: return {"NOT_FOUND", 404};
    case errc::method_not_allowed: return {"METHOD_NOT_ALLOWED", 405};
    case errc::validation_error: return {"VALIDATION_ERROR", 400};
    case errc::conflict: return {"CONFLICT", 409};
    case errc::payload_too_large: return {"PAYLOAD_TOO_LARGE", 413};
    case errc::rate_limited: return {"RATE_LIMITED", 429};
    case errc::internal_error: return {"INTERNAL_ERROR", 500};
    case errc::not_implemented: return {"NOT_IMPLEMENTED", 501};
    case errc::bad_gateway: return {"BAD_GATEWAY", 502};
    case errc::gateway_timeout: return {"GATEWAY_TIMEOUT", 504};
    case errc::performance_degraded: return {"PERFORMANCE_DEGRADED", 503};
    case errc::resource_exhausted: return {"RESOURCE_EXHAUSTED", 503};
    case errc::circuit_breaker_open: return {"CIRCUIT_BREAKER_OPEN", 503};
    case errc::optimization_failed: return {"OPTIMIZATION_FAILED", 500};
  }
  return {"INTERNAL_ERROR", 500};
}

} // namespace

std::string_view code_name(errc code) noexcept {
  return info(code).name;
}

unsigned http_status(errc code) noexcept {
  return info(code).status;
}

api_error validation_error(std::string_view field, std::string message) {
  api_error err{errc::validation_error, std::move(message), {}, std::nullopt};
  err.details["field"] = field;
  return err;
}

std::string error_envelope(const api_error& err) {
  boost::json::object error;
  error["code"] = code_name(err.code);
  error["message"] = err.message;
  error["statusCode"] = http_status(err.code);
  if (!err.details.empty())
    error["details"] = err.details;
  boost::json::object envelope;
  envelope["success"] = false;
  envelope["error"] = std::move(error);
  return to_json(envelope);
}

std::string success_envelope(std::string_view data_json) {
  std::string out;
  out.reserve(data_json.size() + 26);
  out += R"({"success":true,"data":)";
  out += data_json;
  out += '}';
  return out;
}

caf::error to_caf_error(const api_error& err) {
  std::string details = err.details.empty() ? std::string{} : to_json(err.details);
  return caf::make_error(err.code, err.message, std::move(details),
                         static_cast<uint32_t>(err.retry_after.value_or(0)));
}

api_error from_caf_error(const caf::error& err) {
  if (err.category() == caf::atom("medianest")) {
    api_error out{static_cast<errc>(err.code()), {}, {}, std::nullopt};
    const auto& ctx = err.context();
    if (ctx.match_elements<std::string, std::string, uint32_t>()) {
      out.message = ctx.get_as<std::string>(0);
      const auto& details = ctx.get_as<std::string>(1);
      if (!details.empty()) {
        boost::system::error_code ec;
        auto parsed = boost::json::parse(details, ec);
        if (!ec && parsed.is_object())
          out.details = parsed.as_object();
      }
      if (auto retry = ctx.get_as<uint32_t>(2); retry > 0)
        out.retry_after = retry;
    }
    if (out.message.empty())
      out.message = std::string{code_name(out.code)};
    return out;
  }
  if (err == caf::sec::request_timeout)
    return {errc::resource_exhausted, "the daemon did not answer in time; retry shortly", {}, 1u};
  return {errc::internal_error, "internal error: " + caf::to_string(err), {}, std::nullopt};
}

} // namespace medianest
