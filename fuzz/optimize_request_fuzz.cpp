// POST /api/v1/performance/optimize: parse_optimize_request, the validator the optimization
// supervisor runs on the request body. Invariants: the body is either a request (a non-empty
// list of known types without duplicates) or a VALIDATION_ERROR; the request, written back as
// a body, parses to the same request. The same bytes also go through run_from_json, which
// reads stored runs back from SQL (GET /optimize/{id} after a restart): what it accepts is
// written by run_json in a form that reads back the same (numbers to within a few ulps:
// see same_json).

#include <string>
#include <variant>

#include <boost/json/array.hpp>
#include <boost/json/object.hpp>

#include "fuzz_check.hpp"
#include "model/json.hpp"
#include "model/optimization.hpp"

using namespace medianest;

namespace {

std::string body_of(const optimize_request& req) {
  boost::json::array types;
  for (auto t : req.types)
    types.emplace_back(type_name(t));
  return to_json(boost::json::object{{"optimizations", std::move(types)},
                                     {"aggressive", req.aggressive}});
}

void check_request(std::string_view body) {
  auto parsed = parse_optimize_request(body);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    fuzz::check_validation_error(*err);
    return;
  }
  const auto& req = std::get<optimize_request>(parsed);
  FUZZ_CHECK(!req.types.empty());
  FUZZ_CHECK(req.types.size() <= std::size(all_optimization_types));
  for (size_t i = 0; i < req.types.size(); ++i) {
    FUZZ_CHECK(parse_type(type_name(req.types[i])) == req.types[i]);
    for (size_t j = 0; j < i; ++j)
      FUZZ_CHECK(req.types[i] != req.types[j]);
  }
  auto again = parse_optimize_request(body_of(req));
  FUZZ_CHECK(std::holds_alternative<optimize_request>(again));
  const auto& req2 = std::get<optimize_request>(again);
  FUZZ_CHECK(req2.types == req.types && req2.aggressive == req.aggressive);
  FUZZ_CHECK(estimated_duration_seconds(req.types, {}, 60) >= 1);
}

void check_stored_run(std::string_view document) {
  auto run = run_from_json(document);
  if (!run)
    return;
  auto written = to_json(run_json(*run));
  FUZZ_CHECK(fuzz::is_json(written));
  auto back = run_from_json(written);
  FUZZ_CHECK(back.has_value());
  FUZZ_CHECK(fuzz::same_json_text(to_json(run_json(*back)), written));
  // What GET /summary and the POST answer derive from a run must not trip either.
  std::vector<optimization_run> runs{*run};
  FUZZ_CHECK(fuzz::is_json(to_json(recent_optimization_entries(runs))));
  FUZZ_CHECK(fuzz::is_json(to_json(started_json(*run, 1))));
  (void) overall_status(run->results);
  (void) past_mean_seconds(runs);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  check_request(text);
  check_stored_run(text);
  return 0;
}
