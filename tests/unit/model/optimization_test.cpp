#include <catch2/catch.hpp>

#include <chrono>
#include <map>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include <boost/json.hpp>

#include "model/json.hpp"
#include "model/optimization.hpp"

using namespace medianest;
namespace json = boost::json;

namespace {

/// 2025-01-15T12:00:00.000Z
const sys_ms noon{std::chrono::milliseconds{1'736'942'400'000}};

/// Serializes like the HTTP layer does and parses the text back.
json::object round_trip(const json::object& o) {
  return json::parse(to_json(o)).as_object();
}

json::array round_trip(const json::array& a) {
  return json::parse(to_json(a)).as_array();
}

/// The error of a body that must be rejected.
api_error rejected(std::string_view body) {
  auto result = parse_optimize_request(body);
  REQUIRE(std::holds_alternative<api_error>(result));
  return std::get<api_error>(result);
}

void check_rejected(std::string_view body, std::string_view field) {
  INFO(body);
  auto err = rejected(body);
  CHECK(err.code == errc::validation_error);
  CHECK(code_name(err.code) == "VALIDATION_ERROR");
  REQUIRE(err.details.contains("field"));
  CHECK(err.details.at("field").as_string() == field);
  CHECK_FALSE(err.message.empty());
}

type_result completed_cache_result() {
  type_result r;
  r.type = optimization_type::cache_strategy;
  r.status = run_status::completed;
  r.actions = {"Set a 60s TTL for GET /api/v1/media/search", "Sized the cache to 64MB"};
  r.improvements = {compare_ratio("cacheHitRate", {100, 0.70}, {100, 0.752}),
                    compare_latency("responseTime", {3, 200}, {40, 180})};
  return r;
}

type_result failed_db_result() {
  type_result r;
  r.type = optimization_type::database_queries;
  r.status = run_status::failed;
  r.actions = {"ANALYZE started"};
  r.error_code = "OPTIMIZATION_FAILED";
  r.error_message = "database is locked";
  return r;
}

optimization_run finished_run() {
  optimization_run run;
  run.id = "opt-0123456789ab";
  run.status = run_status::failed;
  run.started_at = noon;
  run.completed_at = noon + std::chrono::milliseconds{30'250};
  run.results = {completed_cache_result(), failed_db_result()};
  return run;
}

} // namespace

// ---- Types ----------------------------------------------------------------------------------

TEST_CASE("optimization types have wire names and descriptions", "[optimization]") {
  CHECK(type_name(optimization_type::cache_strategy) == "cache_strategy");
  CHECK(type_name(optimization_type::database_queries) == "database_queries");
  CHECK(type_name(optimization_type::memory_cleanup) == "memory_cleanup");
  for (auto t : all_optimization_types) {
    CHECK(parse_type(type_name(t)) == t);
    CHECK_FALSE(type_description(t).empty());
  }
  CHECK_FALSE(parse_type("Cache_Strategy"));
  CHECK_FALSE(parse_type(""));
  CHECK(type_description(optimization_type::memory_cleanup) ==
        "Returning freed heap to the OS and dropping expired cache entries");
}

TEST_CASE("run status names", "[optimization]") {
  CHECK(status_name(run_status::started) == "started");
  CHECK(status_name(run_status::running) == "running");
  CHECK(status_name(run_status::completed) == "completed");
  CHECK(status_name(run_status::failed) == "failed");
  CHECK(is_done(run_status::completed));
  CHECK(is_done(run_status::failed));
  CHECK_FALSE(is_done(run_status::started));
  CHECK_FALSE(is_done(run_status::running));
}

// ---- The request ----------------------------------------------------------------------------

TEST_CASE("a valid optimize request keeps the types in order", "[optimization]") {
  auto result = parse_optimize_request(
    R"({"optimizations":["memory_cleanup","cache_strategy","database_queries"],"aggressive":true})");
  REQUIRE(std::holds_alternative<optimize_request>(result));
  const auto& req = std::get<optimize_request>(result);
  CHECK(req.types == std::vector<optimization_type>{optimization_type::memory_cleanup,
                                                    optimization_type::cache_strategy,
                                                    optimization_type::database_queries});
  CHECK(req.aggressive);
}

TEST_CASE("aggressive defaults to false", "[optimization]") {
  auto result = parse_optimize_request(R"({"optimizations":["cache_strategy"]})");
  REQUIRE(std::holds_alternative<optimize_request>(result));
  CHECK_FALSE(std::get<optimize_request>(result).aggressive);
  CHECK(std::get<optimize_request>(result).types.size() == 1);
}

TEST_CASE("a body that is not a JSON object is rejected as body", "[optimization]") {
  check_rejected("", "body");
  check_rejected("{", "body");
  check_rejected("not json", "body");
  check_rejected("[]", "body");
  check_rejected(R"("cache_strategy")", "body");
  check_rejected("null", "body");
}

TEST_CASE("optimizations must be a non-empty list", "[optimization]") {
  check_rejected("{}", "optimizations");
  check_rejected(R"({"aggressive":true})", "optimizations");
  check_rejected(R"({"optimizations":[]})", "optimizations");
  check_rejected(R"({"optimizations":"cache_strategy"})", "optimizations");
  check_rejected(R"({"optimizations":null})", "optimizations");
  check_rejected(R"({"optimizations":{"cache_strategy":true}})", "optimizations");
}

TEST_CASE("each optimization must be a known type given once", "[optimization]") {
  check_rejected(R"({"optimizations":["cache_strategy","memory_cleanup",3]})",
                 "optimizations[2]");
  check_rejected(R"({"optimizations":[null]})", "optimizations[0]");
  check_rejected(R"({"optimizations":["cache_strategy","defrag"]})", "optimizations[1]");
  check_rejected(
    R"({"optimizations":["cache_strategy","memory_cleanup","database_queries","memory_cleanup"]})",
    "optimizations[3]");
}

TEST_CASE("the unknown type message lists the known types", "[optimization]") {
  auto err = rejected(R"({"optimizations":["cache_strategy","defrag"]})");
  CHECK_THAT(err.message, Catch::Contains("defrag"));
  CHECK_THAT(err.message, Catch::Contains("cache_strategy, database_queries, memory_cleanup"));
  auto dup = rejected(R"({"optimizations":["memory_cleanup","memory_cleanup"]})");
  CHECK_THAT(dup.message, Catch::Contains("twice"));
}

TEST_CASE("aggressive must be a bool", "[optimization]") {
  check_rejected(R"({"optimizations":["cache_strategy"],"aggressive":"yes"})", "aggressive");
  check_rejected(R"({"optimizations":["cache_strategy"],"aggressive":1})", "aggressive");
  check_rejected(R"({"optimizations":["cache_strategy"],"aggressive":null})", "aggressive");
}

TEST_CASE("unknown top-level keys are rejected by name", "[optimization]") {
  check_rejected(R"({"optimizations":["cache_strategy"],"dryRun":true})", "dryRun");
  auto err = rejected(R"({"optimizations":["cache_strategy"],"dryRun":true})");
  CHECK_THAT(err.message, Catch::Contains("optimizations"));
  CHECK_THAT(err.message, Catch::Contains("aggressive"));
}

// ---- Ids, status, estimates -----------------------------------------------------------------

TEST_CASE("optimization ids are opt- and 12 lowercase hex digits", "[optimization]") {
  std::set<std::string> seen;
  for (int i = 0; i < 200; ++i) {
    auto id = make_optimization_id();
    REQUIRE(id.size() == 16);
    CHECK(id.rfind("opt-", 0) == 0);
    CHECK(id.find_first_not_of("0123456789abcdef", 4) == std::string::npos);
    seen.insert(id);
  }
  CHECK(seen.size() == 200);
}

TEST_CASE("overall status follows the type results", "[optimization]") {
  auto with = [](std::vector<run_status> statuses) {
    std::vector<type_result> results;
    for (auto s : statuses) {
      type_result r;
      r.status = s;
      results.push_back(r);
    }
    return overall_status(results);
  };
  using rs = run_status;
  CHECK(with({rs::completed, rs::completed}) == rs::completed);
  CHECK(with({rs::completed, rs::failed}) == rs::failed);
  CHECK(with({rs::failed, rs::running}) == rs::running);
  CHECK(with({rs::started, rs::started}) == rs::running);
  CHECK(with({rs::completed, rs::started}) == rs::running);
  CHECK(with({}) == rs::completed);
}

TEST_CASE("estimated duration uses defaults without history", "[optimization]") {
  using ot = optimization_type;
  CHECK(estimated_duration_seconds({ot::cache_strategy}, {}) == 5);
  CHECK(estimated_duration_seconds({ot::database_queries}, {}) == 30);
  CHECK(estimated_duration_seconds({ot::memory_cleanup}, {}) == 2);
  // The types work in parallel: the longest one counts.
  CHECK(estimated_duration_seconds({ot::cache_strategy, ot::database_queries, ot::memory_cleanup},
                                   {}) == 30);
  CHECK(estimated_duration_seconds({}, {}) == 1);
}

TEST_CASE("estimated duration uses past means and rounds up", "[optimization]") {
  using ot = optimization_type;
  std::map<ot, double> past{{ot::database_queries, 12.2}, {ot::memory_cleanup, 0.1}};
  CHECK(estimated_duration_seconds({ot::database_queries}, past) == 13);
  CHECK(estimated_duration_seconds({ot::database_queries, ot::cache_strategy}, past) == 13);
  CHECK(estimated_duration_seconds({ot::memory_cleanup}, past) == 1);
  std::map<ot, double> bogus{{ot::memory_cleanup, -3}, {ot::cache_strategy, 0}};
  CHECK(estimated_duration_seconds({ot::memory_cleanup, ot::cache_strategy}, bogus) == 5);
}

TEST_CASE("estimated duration adds the measurement window to the types that measure it",
          "[optimization]") {
  using ot = optimization_type;
  CHECK(estimated_duration_seconds({ot::memory_cleanup}, {}, 60) == 2);
  CHECK(estimated_duration_seconds({ot::cache_strategy}, {}, 60) == 65);
  CHECK(estimated_duration_seconds({ot::memory_cleanup, ot::database_queries}, {}, 2.5) == 33);
  CHECK(estimated_duration_seconds({ot::cache_strategy}, {}, -1) == 5);
}

TEST_CASE("past mean seconds averages the completed results that have a duration",
          "[optimization]") {
  using ot = optimization_type;
  optimization_run a, b;
  a.results = {{ot::database_queries, run_status::completed, {}, {}, "", "", 10.0},
               {ot::memory_cleanup, run_status::failed, {}, {}, "OPTIMIZATION_FAILED", "x", 50.0}};
  b.results = {{ot::database_queries, run_status::completed, {}, {}, "", "", 20.0},
               {ot::cache_strategy, run_status::running, {}, {}, "", "", std::nullopt}};
  auto means = past_mean_seconds({a, b});
  CHECK(means.size() == 1);
  CHECK(means.at(ot::database_queries) == Approx(15.0));
}

TEST_CASE("measure_window sums the points inside the window only", "[optimization]") {
  std::vector<measurement_point> points{
    {1000, 10, 10 * 200'000, 0, 0},   // at the window's start: outside
    {2000, 10, 10 * 100'000, 20, 10}, // inside
    {3000, 30, 30 * 50'000, 20, 20},  // inside, at its end
    {4000, 99, 99, 99, 99},           // after
  };
  auto m = measure_window(points, 1000, 3000);
  CHECK(m.latency.samples == 40);
  CHECK(m.latency.mean == Approx((10 * 100.0 + 30 * 50.0) / 40));
  CHECK(m.hit_ratio.samples == 40);
  CHECK(m.hit_ratio.mean == Approx(0.75));
  auto empty = measure_window(points, 5000, 6000);
  CHECK(empty.latency.samples == 0);
  CHECK(empty.hit_ratio.samples == 0);
}

TEST_CASE("run_from_json reads back what run_json writes", "[optimization]") {
  optimization_run run;
  run.id = "opt-0123456789ab";
  run.status = run_status::failed;
  run.trigger = "automatic";
  run.triggered_by = "alt-42";
  run.aggressive = true;
  run.started_at = sys_ms{std::chrono::milliseconds{1'800'000'000'123}};
  run.completed_at = run.started_at + std::chrono::milliseconds{4'500};
  type_result ok{optimization_type::cache_strategy, run_status::completed,
                 {"Cached GET /a for 60s"},
                 {{"responseTime", "-12ms", ""},
                  {"cacheHitRate", std::nullopt, "insufficient traffic: 1 lookups before"}},
                 "", "", 1.25};
  type_result bad{optimization_type::database_queries, run_status::failed, {}, {},
                  "OPTIMIZATION_FAILED", "cannot connect", 0.5};
  run.results = {ok, bad};
  auto doc = to_json(run_json(run));
  auto back = run_from_json(doc);
  REQUIRE(back);
  CHECK(to_json(run_json(*back)) == doc);
  CHECK(back->results[0].improvements[1].note == "insufficient traffic: 1 lookups before");
  CHECK(back->results[1].error_message == "cannot connect");
  CHECK(*back->completed_at == *run.completed_at);
}

TEST_CASE("run_from_json refuses what is not a run", "[optimization]") {
  CHECK_FALSE(run_from_json("not json"));
  CHECK_FALSE(run_from_json("[]"));
  CHECK_FALSE(run_from_json(R"({"optimizationId":"opt-1","status":"done","startedAt":"x"})"));
  CHECK_FALSE(run_from_json(
    R"({"optimizationId":"opt-1","status":"running","startedAt":"2026-01-01T00:00:00.000Z",)"
    R"("results":[{"type":"nope","status":"running"}]})"));
  CHECK(run_from_json(
    R"({"optimizationId":"opt-1","status":"running","startedAt":"2026-01-01T00:00:00.000Z"})"));
}

// ---- Improvements ---------------------------------------------------------------------------

TEST_CASE("compare_latency rounds to whole ms and always shows the sign", "[optimization]") {
  auto value = [](double before, double after) {
    return compare_latency("responseTime", {100, before}, {100, after}).value;
  };
  CHECK(value(200, 188) == "-12ms");
  CHECK(value(200, 203) == "+3ms");
  CHECK(value(200, 200.4) == "0ms");
  CHECK(value(200, 199.6) == "0ms");
  CHECK(value(200, 200.5) == "+1ms");
  CHECK(value(200, 187.5) == "-13ms");
  auto imp = compare_latency("responseTime", {30, 200}, {30, 150});
  CHECK(imp.metric == "responseTime");
  CHECK(imp.value == "-50ms");
  CHECK(imp.note.empty());
}

TEST_CASE("compare_latency needs enough samples on both sides", "[optimization]") {
  auto imp = compare_latency("responseTime", {3, 200}, {40, 150});
  CHECK_FALSE(imp.value);
  CHECK(imp.note == "insufficient traffic: 3 samples before, 40 after, 30 needed");
  auto after_short = compare_latency("databaseQueryTime", {100, 20}, {5, 10}, 10);
  CHECK_FALSE(after_short.value);
  CHECK(after_short.metric == "databaseQueryTime");
  CHECK(after_short.note == "insufficient traffic: 100 samples before, 5 after, 10 needed");
  CHECK(min_latency_samples == 30);
}

TEST_CASE("compare_ratio gives percentage points with one decimal", "[optimization]") {
  auto value = [](double before, double after) {
    return compare_ratio("cacheHitRate", {100, before}, {100, after}).value;
  };
  CHECK(value(0.70, 0.752) == "+5.2%");
  CHECK(value(0.80, 0.75) == "-5.0%");
  CHECK(value(0.5, 0.5) == "0.0%");
  CHECK(value(0.5, 0.50004) == "0.0%");
  CHECK(value(0.0, 1.0) == "+100.0%");
  CHECK(value(0.9, 0.8994) == "-0.1%");
}

TEST_CASE("compare_ratio needs enough lookups on both sides", "[optimization]") {
  auto imp = compare_ratio("cacheHitRate", {29, 0.5}, {30, 0.9});
  CHECK_FALSE(imp.value);
  CHECK(imp.note == "insufficient traffic: 29 lookups before, 30 after, 30 needed");
  CHECK(min_ratio_lookups == 30);
}

TEST_CASE("compare_bytes uses human units and always shows the sign", "[optimization]") {
  constexpr uint64_t MB = 1024 * 1024;
  CHECK(compare_bytes("memoryUsage", 200 * MB, 152 * MB).value == "-48MB");
  CHECK(compare_bytes("memoryUsage", 100 * MB, 100 * MB + MB + MB / 5).value == "+1.2MB");
  CHECK(compare_bytes("memoryUsage", 100, 100).value == "0B");
  CHECK(compare_bytes("memoryUsage", 0, 512).value == "+512B");
  auto imp = compare_bytes("memoryUsage", 1, 0);
  CHECK(imp.metric == "memoryUsage");
  CHECK(imp.value == "-1B");
  CHECK(imp.note.empty());
}

// ---- Wire forms -----------------------------------------------------------------------------

TEST_CASE("started_json has the POST answer shape", "[optimization]") {
  optimization_run run;
  run.id = "opt-abcdef012345";
  run.started_at = noon;
  type_result a;
  a.type = optimization_type::cache_strategy;
  type_result b;
  b.type = optimization_type::memory_cleanup;
  b.status = run_status::running;
  run.results = {a, b};
  auto o = round_trip(started_json(run, 7));
  CHECK(o.size() == 4);
  CHECK(o.at("optimizationId").as_string() == "opt-abcdef012345");
  CHECK(o.at("status").as_string() == "started");
  CHECK(o.at("estimatedDuration").to_number<int64_t>() == 7);
  const auto& list = o.at("optimizations").as_array();
  REQUIRE(list.size() == 2);
  CHECK(list[0].as_object().size() == 3);
  CHECK(list[0].at("type").as_string() == "cache_strategy");
  CHECK(list[0].at("status").as_string() == "started");
  CHECK(list[0].at("description").as_string() ==
        type_description(optimization_type::cache_strategy));
  CHECK(list[1].at("type").as_string() == "memory_cleanup");
  CHECK(list[1].at("status").as_string() == "running");
}

TEST_CASE("run_json of a running manual run has null completedAt and duration", "[optimization]") {
  optimization_run run;
  run.id = "opt-000000000001";
  run.status = run_status::running;
  run.started_at = noon;
  type_result r;
  r.type = optimization_type::memory_cleanup;
  r.status = run_status::running;
  run.results = {r};
  auto o = round_trip(run_json(run));
  CHECK(o.at("optimizationId").as_string() == "opt-000000000001");
  CHECK(o.at("status").as_string() == "running");
  CHECK(o.at("trigger").as_string() == "manual");
  CHECK_FALSE(o.contains("triggeredBy"));
  CHECK(o.at("aggressive").as_bool() == false);
  CHECK(o.at("startedAt").as_string() == "2025-01-15T12:00:00.000Z");
  CHECK(o.at("completedAt").is_null());
  CHECK(o.at("duration").is_null());
  const auto& results = o.at("results").as_array();
  REQUIRE(results.size() == 1);
  const auto& res = results[0].as_object();
  CHECK(res.at("type").as_string() == "memory_cleanup");
  CHECK(res.at("status").as_string() == "running");
  CHECK(res.at("improvements").as_object().empty());
  CHECK(res.at("actions").as_array().empty());
  CHECK_FALSE(res.contains("notes"));
  CHECK_FALSE(res.contains("error"));
}

TEST_CASE("run_json of a finished automatic run shows results notes and errors",
          "[optimization]") {
  auto run = finished_run();
  run.trigger = "automatic";
  run.triggered_by = "alert-42";
  run.aggressive = true;
  auto text = to_json(run_json(run));
  CHECK_THAT(text, Catch::Contains(R"("duration":30.25)"));
  auto o = json::parse(text).as_object();
  CHECK(o.at("status").as_string() == "failed");
  CHECK(o.at("trigger").as_string() == "automatic");
  CHECK(o.at("triggeredBy").as_string() == "alert-42");
  CHECK(o.at("aggressive").as_bool());
  CHECK(o.at("completedAt").as_string() == "2025-01-15T12:00:30.250Z");
  CHECK(o.at("duration").to_number<double>() == Approx(30.25));
  const auto& results = o.at("results").as_array();
  REQUIRE(results.size() == 2);

  const auto& cache = results[0].as_object();
  CHECK(cache.at("status").as_string() == "completed");
  const auto& imps = cache.at("improvements").as_object();
  CHECK(imps.size() == 2);
  CHECK(imps.at("cacheHitRate").as_string() == "+5.2%");
  CHECK(imps.at("responseTime").is_null());
  const auto& notes = cache.at("notes").as_object();
  CHECK(notes.size() == 1);
  CHECK(notes.at("responseTime").as_string() ==
        "insufficient traffic: 3 samples before, 40 after, 30 needed");
  CHECK(cache.at("actions").as_array().size() == 2);
  CHECK(cache.at("actions").as_array()[0].as_string() ==
        "Set a 60s TTL for GET /api/v1/media/search");
  CHECK_FALSE(cache.contains("error"));

  const auto& db = results[1].as_object();
  CHECK(db.at("type").as_string() == "database_queries");
  CHECK(db.at("status").as_string() == "failed");
  CHECK_FALSE(db.contains("notes"));
  const auto& error = db.at("error").as_object();
  CHECK(error.size() == 2);
  CHECK(error.at("code").as_string() == "OPTIMIZATION_FAILED");
  CHECK(error.at("message").as_string() == "database is locked");
}

TEST_CASE("a failed type without an error code reports OPTIMIZATION_FAILED", "[optimization]") {
  auto run = finished_run();
  run.results[1].error_code.clear();
  auto o = round_trip(run_json(run));
  CHECK(o.at("results").as_array()[1].at("error").at("code").as_string() ==
        "OPTIMIZATION_FAILED");
}

TEST_CASE("run_json duration has millisecond precision and never goes negative",
          "[optimization]") {
  auto run = finished_run();
  run.completed_at = noon + std::chrono::milliseconds{1234};
  CHECK(round_trip(run_json(run)).at("duration").to_number<double>() == Approx(1.234));
  run.completed_at = noon - std::chrono::milliseconds{5};
  CHECK(round_trip(run_json(run)).at("duration").to_number<double>() == 0);
}

TEST_CASE("runs_list_json wraps run_json in order", "[optimization]") {
  auto a = finished_run();
  auto b = finished_run();
  b.id = "opt-bbbbbbbbbbbb";
  auto o = round_trip(runs_list_json({a, b}));
  CHECK(o.size() == 1);
  const auto& list = o.at("optimizations").as_array();
  REQUIRE(list.size() == 2);
  CHECK(list[0].at("optimizationId").as_string() == "opt-0123456789ab");
  CHECK(list[1].at("optimizationId").as_string() == "opt-bbbbbbbbbbbb");
  CHECK(list[1].as_object() == round_trip(run_json(b)));
  CHECK(round_trip(runs_list_json({})).at("optimizations").as_array().empty());
}

TEST_CASE("recent optimization entries are newest first from finished runs", "[optimization]") {
  auto older = finished_run();  // cache completed, database failed
  optimization_run newer;
  newer.id = "opt-newnewnewnew";
  newer.status = run_status::completed;
  newer.started_at = noon + std::chrono::hours{1};
  newer.completed_at = newer.started_at + std::chrono::seconds{2};
  type_result mem;
  mem.type = optimization_type::memory_cleanup;
  mem.status = run_status::completed;
  mem.improvements = {compare_bytes("memoryUsage", 200u << 20, 152u << 20)};
  newer.results = {mem};
  optimization_run running;
  running.status = run_status::running;
  running.started_at = noon + std::chrono::hours{2};
  type_result done_early = completed_cache_result();
  running.results = {done_early};

  auto list = round_trip(recent_optimization_entries({older, running, newer}));
  REQUIRE(list.size() == 3);
  const auto& first = list[0].as_object();
  CHECK(first.size() == 4);
  CHECK(first.at("timestamp").as_string() == "2025-01-15T13:00:02.000Z");
  CHECK(first.at("action").as_string() == "memory_cleanup");
  CHECK(first.at("description").as_string() ==
        type_description(optimization_type::memory_cleanup));
  CHECK(first.at("impact").as_string() == "Memory usage -48MB");

  CHECK(list[1].at("timestamp").as_string() == "2025-01-15T12:00:30.250Z");
  CHECK(list[1].at("action").as_string() == "cache_strategy");
  CHECK(list[1].at("description").as_string() == "Set a 60s TTL for GET /api/v1/media/search");
  CHECK(list[1].at("impact").as_string() == "Cache hit rate +5.2%");
  CHECK(list[2].at("action").as_string() == "database_queries");
  CHECK(list[2].at("impact").as_string() == "Failed: database is locked");
}

TEST_CASE("recent optimization impact wording", "[optimization]") {
  auto impact_of = [](std::vector<improvement> imps) {
    optimization_run run = finished_run();
    run.results = {completed_cache_result()};
    run.results[0].improvements = std::move(imps);
    auto list = round_trip(recent_optimization_entries({run}));
    REQUIRE(list.size() == 1);
    return std::string(list[0].at("impact").as_string());
  };
  auto faster = compare_latency("responseTime", {100, 200}, {100, 188});
  auto slower = compare_latency("responseTime", {100, 200}, {100, 203});
  auto same = compare_latency("responseTime", {100, 200}, {100, 200});
  auto hit = compare_ratio("cacheHitRate", {100, 0.70}, {100, 0.752});
  auto flat_hit = compare_ratio("cacheHitRate", {100, 0.70}, {100, 0.70});
  auto unknown = compare_latency("responseTime", {1, 200}, {1, 100});

  CHECK(impact_of({hit, faster}) == "Improved response time by 12ms");
  CHECK(impact_of({faster}) == "Improved response time by 12ms");
  CHECK(impact_of({slower, hit}) == "Response time +3ms");
  CHECK(impact_of({same, hit}) == "Cache hit rate +5.2%");
  CHECK(impact_of({same, flat_hit}) == "No measurable change");
  CHECK(impact_of({}) == "No measurable change");
  CHECK(impact_of({unknown}) == "Not measured: too little data");
  CHECK(impact_of({unknown, flat_hit}) == "No measurable change");
  CHECK(impact_of({compare_latency("databaseQueryTime", {50, 20}, {50, 16})}) ==
        "Database query time -4ms");
}

TEST_CASE("recent optimization entries skip runs that have not finished", "[optimization]") {
  optimization_run running;
  running.status = run_status::running;
  running.started_at = noon;
  running.results = {completed_cache_result()};
  CHECK(recent_optimization_entries({running}).empty());
  CHECK(recent_optimization_entries({}).empty());
}

TEST_CASE("alerts map to the optimization that addresses them", "[optimization]") {
  CHECK(optimization_for_alert("responseTime") == optimization_type::cache_strategy);
  CHECK(optimization_for_alert("responseTime:Search") == optimization_type::cache_strategy);
  CHECK(optimization_for_alert("cacheHitRate") == optimization_type::cache_strategy);
  CHECK(optimization_for_alert("memoryUsage") == optimization_type::memory_cleanup);
  CHECK(optimization_for_alert("queryTime") == optimization_type::database_queries);
  CHECK_FALSE(optimization_for_alert("cpuUsage"));
  CHECK_FALSE(optimization_for_alert("errorRate"));
  CHECK_FALSE(optimization_for_alert("responseTimeX"));
}
