#include "model/optimization.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <random>
#include <utility>

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "model/human_bytes.hpp"

namespace medianest {

namespace {

namespace json = boost::json;

using failure = std::optional<api_error>;

constexpr std::string_view known_types = "cache_strategy, database_queries, memory_cleanup";

// ---- The request ----------------------------------------------------------------------------

failure read_type(const json::value& v, const std::string& path,
                  std::vector<optimization_type>& out) {
  auto s = v.if_string();
  if (!s)
    return validation_error(path, path + " must be a string naming an optimization type");
  auto t = parse_type(*s);
  if (!t)
    return validation_error(path, fmt::format("{}: unknown optimization type '{}'; known types "
                                              "are {}",
                                              path, std::string_view(*s), known_types));
  if (std::find(out.begin(), out.end(), *t) != out.end())
    return validation_error(path, fmt::format("{}: '{}' is given twice", path, type_name(*t)));
  out.push_back(*t);
  return std::nullopt;
}

failure read_types(const json::value& v, std::vector<optimization_type>& out) {
  auto arr = v.if_array();
  if (!arr || arr->empty())
    return validation_error("optimizations",
                            fmt::format("optimizations must be a non-empty list of optimization "
                                        "types ({})",
                                        known_types));
  for (std::size_t i = 0; i < arr->size(); ++i)
    if (auto err = read_type((*arr)[i], fmt::format("optimizations[{}]", i), out))
      return err;
  return std::nullopt;
}

failure read_aggressive(const json::value& v, bool& out) {
  auto b = v.if_bool();
  if (!b)
    return validation_error("aggressive", "aggressive must be true or false");
  out = *b;
  return std::nullopt;
}

// ---- Improvements ---------------------------------------------------------------------------

/// "+" for a positive change, "-" for a negative one and nothing for zero.
std::string_view sign_of(int64_t n) noexcept {
  return n > 0 ? "+" : n < 0 ? "-" : "";
}

improvement insufficient(std::string metric, window_stats before, window_stats after,
                         uint64_t min_samples, std::string_view unit) {
  return {std::move(metric), std::nullopt,
          fmt::format("insufficient traffic: {} {} before, {} after, {} needed", before.samples,
                      unit, after.samples, min_samples)};
}

bool too_few(window_stats before, window_stats after, uint64_t min_samples) noexcept {
  return before.samples < min_samples || after.samples < min_samples;
}

bool finite(window_stats before, window_stats after) noexcept {
  return std::isfinite(before.mean) && std::isfinite(after.mean);
}

improvement unusable(std::string metric) {
  return {std::move(metric), std::nullopt, "no usable measurement (non-finite mean)"};
}

// ---- Wire forms -----------------------------------------------------------------------------

json::object result_json(const type_result& r) {
  json::object improvements;
  json::object notes;
  for (const auto& imp : r.improvements) {
    improvements[imp.metric] = imp.value ? json::value(*imp.value) : json::value(nullptr);
    if (!imp.note.empty())
      notes[imp.metric] = imp.note;
  }
  json::object out{{"type", type_name(r.type)},
                   {"status", status_name(r.status)},
                   {"improvements", std::move(improvements)}};
  if (!notes.empty())
    out["notes"] = std::move(notes);
  out["actions"] = json::array(r.actions.begin(), r.actions.end());
  out["duration"] = r.seconds ? json::value(std::round(*r.seconds * 1000) / 1000)
                              : json::value(nullptr);
  if (r.status == run_status::failed) {
    auto code = r.error_code.empty() ? code_name(errc::optimization_failed)
                                     : std::string_view(r.error_code);
    out["error"] = {{"code", code}, {"message", r.error_message}};
  }
  return out;
}

/// Seconds with millisecond precision; never negative (the wall clock may step back).
double duration_seconds(sys_ms started, sys_ms completed) noexcept {
  auto ms = std::max<int64_t>(0, (completed - started).count());
  return static_cast<double>(ms) / 1000.0;
}

/// "cacheHitRate" -> "Cache hit rate".
std::string metric_words(std::string_view metric) {
  std::string out;
  for (char c : metric) {
    auto u = static_cast<unsigned char>(c);
    if (std::isupper(u) && !out.empty())
      out += ' ';
    out += static_cast<char>(std::tolower(u));
  }
  if (!out.empty())
    out[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(out[0])));
  return out;
}

/// Zero changes carry no sign (see the header), so a sign means a change.
bool nonzero(const improvement& imp) noexcept {
  return imp.value && !imp.value->empty() && (imp.value->front() == '+' ||
                                              imp.value->front() == '-');
}

const improvement* headline(const std::vector<improvement>& improvements) {
  for (const auto& imp : improvements)
    if (imp.metric == "responseTime" && nonzero(imp))
      return &imp;
  for (const auto& imp : improvements)
    if (nonzero(imp))
      return &imp;
  return nullptr;
}

std::string impact_of(const type_result& r) {
  if (r.status == run_status::failed)
    return "Failed: " + (r.error_message.empty() ? r.error_code : r.error_message);
  if (const auto* imp = headline(r.improvements)) {
    const auto& value = *imp->value;
    if (imp->metric == "responseTime" && value.front() == '-')
      return "Improved response time by " + value.substr(1);
    return metric_words(imp->metric) + " " + value;
  }
  auto measured = [](const improvement& imp) { return imp.value.has_value(); };
  if (!r.improvements.empty() && std::none_of(r.improvements.begin(), r.improvements.end(), measured))
    return "Not measured: too little data";
  return "No measurable change";
}

json::object entry_json(const optimization_run& run, const type_result& r) {
  std::string description =
    r.actions.empty() ? std::string(type_description(r.type)) : r.actions.front();
  return {{"timestamp", iso8601(*run.completed_at)},
          {"action", type_name(r.type)},
          {"description", std::move(description)},
          {"impact", impact_of(r)}};
}

} // namespace

// ---- Types ----------------------------------------------------------------------------------

std::string_view type_name(optimization_type t) noexcept {
  switch (t) {
    case optimization_type::cache_strategy: return "cache_strategy";
    case optimization_type::database_queries: return "database_queries";
    case optimization_type::memory_cleanup: return "memory_cleanup";
  }
  return "unknown";
}

std::optional<optimization_type> parse_type(std::string_view name) noexcept {
  for (auto t : all_optimization_types)
    if (type_name(t) == name)
      return t;
  return std::nullopt;
}

std::string_view type_description(optimization_type t) noexcept {
  switch (t) {
    case optimization_type::cache_strategy:
      return "Setting response-cache TTLs for frequent slow GET routes and sizing the cache";
    case optimization_type::database_queries:
      return "Refreshing planner statistics (ANALYZE / PRAGMA optimize), pruning expired "
             "roll-ups";
    case optimization_type::memory_cleanup:
      return "Returning freed heap to the OS and dropping expired cache entries";
  }
  return "";
}

std::variant<optimize_request, api_error> parse_optimize_request(std::string_view body) {
  boost::system::error_code ec;
  auto doc = json::parse(body, ec);
  if (ec)
    return validation_error("body", "the body is not valid JSON: " + ec.message());
  auto obj = doc.if_object();
  if (!obj)
    return validation_error("body", "the body must be a JSON object");
  optimize_request req;
  for (const auto& [key, value] : *obj) {
    failure err;
    if (key == "optimizations")
      err = read_types(value, req.types);
    else if (key == "aggressive")
      err = read_aggressive(value, req.aggressive);
    else
      err = validation_error(key, fmt::format("unknown field '{}'; allowed fields are "
                                              "'optimizations' and 'aggressive'",
                                              std::string_view(key)));
    if (err)
      return std::move(*err);
  }
  if (!obj->contains("optimizations"))
    return validation_error("optimizations",
                            fmt::format("optimizations is required: a non-empty list of "
                                        "optimization types ({})",
                                        known_types));
  return req;
}

// ---- Run state ------------------------------------------------------------------------------

std::string_view status_name(run_status s) noexcept {
  switch (s) {
    case run_status::started: return "started";
    case run_status::running: return "running";
    case run_status::completed: return "completed";
    case run_status::failed: return "failed";
  }
  return "unknown";
}

bool is_done(run_status s) noexcept {
  return s == run_status::completed || s == run_status::failed;
}

std::optional<optimization_type> optimization_for_alert(std::string_view metric) noexcept {
  if (metric == "responseTime" || metric.starts_with("responseTime:") || metric == "cacheHitRate")
    return optimization_type::cache_strategy;
  if (metric == "memoryUsage")
    return optimization_type::memory_cleanup;
  if (metric == "queryTime")
    return optimization_type::database_queries;
  return std::nullopt;
}

std::string make_optimization_id() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char hex[] = "0123456789abcdef";
  uint64_t bits = rng();
  std::string out = "opt-";
  for (int i = 0; i < 12; ++i, bits >>= 4)
    out += hex[bits & 0xF];
  return out;
}

run_status overall_status(const std::vector<type_result>& results) noexcept {
  auto done = [](const type_result& r) { return is_done(r.status); };
  auto failed = [](const type_result& r) { return r.status == run_status::failed; };
  if (!std::all_of(results.begin(), results.end(), done))
    return run_status::running;
  if (std::any_of(results.begin(), results.end(), failed))
    return run_status::failed;
  return run_status::completed;
}

// ---- Estimated duration ---------------------------------------------------------------------

bool measures_window(optimization_type t) noexcept {
  return t != optimization_type::memory_cleanup;
}

int64_t estimated_duration_seconds(const std::vector<optimization_type>& types,
                                   const std::map<optimization_type, double>& past_mean_seconds,
                                   double window_seconds) {
  auto fallback = [](optimization_type t) {
    switch (t) {
      case optimization_type::cache_strategy: return default_cache_strategy_seconds;
      case optimization_type::database_queries: return default_database_queries_seconds;
      case optimization_type::memory_cleanup: return default_memory_cleanup_seconds;
    }
    return 1.0;
  };
  const double window =
    std::isfinite(window_seconds) && window_seconds > 0 ? window_seconds : 0.0;
  double longest = 0;
  for (auto t : types) {
    auto it = past_mean_seconds.find(t);
    bool known = it != past_mean_seconds.end() && std::isfinite(it->second) && it->second > 0;
    longest = std::max(longest,
                       (known ? it->second : fallback(t)) + (measures_window(t) ? window : 0.0));
  }
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(longest)));
}

std::map<optimization_type, double> past_mean_seconds(const std::vector<optimization_run>& runs) {
  std::map<optimization_type, std::pair<double, int>> sums;
  for (const auto& run : runs)
    for (const auto& r : run.results)
      if (r.status == run_status::completed && r.seconds && std::isfinite(*r.seconds)) {
        sums[r.type].first += *r.seconds;
        sums[r.type].second += 1;
      }
  std::map<optimization_type, double> out;
  for (const auto& [type, sum] : sums)
    out[type] = sum.first / sum.second;
  return out;
}

// ---- Improvements ---------------------------------------------------------------------------

improvement compare_latency(std::string metric, window_stats before, window_stats after,
                            uint64_t min_samples) {
  if (too_few(before, after, min_samples))
    return insufficient(std::move(metric), before, after, min_samples, "samples");
  if (!finite(before, after))
    return unusable(std::move(metric));
  int64_t ms = std::llround(after.mean - before.mean);
  return {std::move(metric), fmt::format("{}{}ms", sign_of(ms), std::llabs(ms)), ""};
}

improvement compare_ratio(std::string metric, window_stats before, window_stats after,
                          uint64_t min_samples) {
  if (too_few(before, after, min_samples))
    return insufficient(std::move(metric), before, after, min_samples, "lookups");
  if (!finite(before, after))
    return unusable(std::move(metric));
  // Whole tenths of a percentage point, so that the decimal is exact.
  int64_t tenths = std::llround((after.mean - before.mean) * 1000.0);
  auto magnitude = std::llabs(tenths);
  return {std::move(metric),
          fmt::format("{}{}.{}%", sign_of(tenths), magnitude / 10, magnitude % 10), ""};
}

improvement compare_bytes(std::string metric, uint64_t before_bytes, uint64_t after_bytes) {
  std::string_view sign = after_bytes > before_bytes ? "+" : after_bytes < before_bytes ? "-" : "";
  uint64_t delta = after_bytes > before_bytes ? after_bytes - before_bytes
                                              : before_bytes - after_bytes;
  return {std::move(metric), fmt::format("{}{}", sign, human_bytes(delta)), ""};
}

// ---- Wire forms -----------------------------------------------------------------------------

boost::json::object started_json(const optimization_run& run, int64_t estimated_duration) {
  json::array types;
  for (const auto& r : run.results)
    types.push_back({{"type", type_name(r.type)},
                     {"status", status_name(r.status)},
                     {"description", type_description(r.type)}});
  return {{"optimizationId", run.id},
          {"status", status_name(run_status::started)},
          {"estimatedDuration", estimated_duration},
          {"optimizations", std::move(types)}};
}

boost::json::object run_json(const optimization_run& run) {
  json::object out{{"optimizationId", run.id},
                   {"status", status_name(run.status)},
                   {"trigger", run.trigger}};
  if (run.trigger == "automatic")
    out["triggeredBy"] = run.triggered_by;
  out["aggressive"] = run.aggressive;
  out["startedAt"] = iso8601(run.started_at);
  if (run.completed_at) {
    out["completedAt"] = iso8601(*run.completed_at);
    out["duration"] = duration_seconds(run.started_at, *run.completed_at);
  } else {
    out["completedAt"] = nullptr;
    out["duration"] = nullptr;
  }
  json::array results;
  for (const auto& r : run.results)
    results.push_back(result_json(r));
  out["results"] = std::move(results);
  return out;
}

namespace {

std::optional<sys_ms> time_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string())
    return std::nullopt;
  return parse_iso8601(it->value().get_string());
}

std::string string_field(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().get_string())
                                                  : std::string{};
}

std::optional<run_status> parse_status(std::string_view name) {
  for (auto s : {run_status::started, run_status::running, run_status::completed,
                 run_status::failed})
    if (status_name(s) == name)
      return s;
  return std::nullopt;
}

std::optional<type_result> result_from_json(const json::value& v) {
  auto o = v.if_object();
  if (!o)
    return std::nullopt;
  auto type = parse_type(string_field(*o, "type"));
  auto status = parse_status(string_field(*o, "status"));
  if (!type || !status)
    return std::nullopt;
  type_result r;
  r.type = *type;
  r.status = *status;
  if (auto actions = o->if_contains("actions"); actions && actions->is_array())
    for (const auto& a : actions->get_array())
      if (a.is_string())
        r.actions.emplace_back(a.get_string());
  const json::object* notes = nullptr;
  if (auto n = o->if_contains("notes"); n && n->is_object())
    notes = &n->get_object();
  if (auto imps = o->if_contains("improvements"); imps && imps->is_object())
    for (const auto& [metric, value] : imps->get_object()) {
      improvement imp{std::string(metric), std::nullopt, ""};
      if (value.is_string())
        imp.value = std::string(value.get_string());
      if (notes)
        imp.note = string_field(*notes, metric);
      r.improvements.push_back(std::move(imp));
    }
  if (auto d = o->if_contains("duration"); d && d->is_number())
    r.seconds = d->to_number<double>();
  if (auto e = o->if_contains("error"); e && e->is_object()) {
    r.error_code = string_field(e->get_object(), "code");
    r.error_message = string_field(e->get_object(), "message");
  }
  return r;
}

} // namespace

std::optional<optimization_run> run_from_json(std::string_view document) {
  boost::system::error_code ec;
  auto doc = json::parse(document, ec);
  auto o = ec ? nullptr : doc.if_object();
  if (!o)
    return std::nullopt;
  optimization_run run;
  run.id = string_field(*o, "optimizationId");
  auto status = parse_status(string_field(*o, "status"));
  auto started = time_field(*o, "startedAt");
  if (run.id.empty() || !status || !started)
    return std::nullopt;
  run.status = *status;
  run.started_at = *started;
  run.completed_at = time_field(*o, "completedAt");
  if (auto trigger = string_field(*o, "trigger"); !trigger.empty())
    run.trigger = std::move(trigger);
  run.triggered_by = string_field(*o, "triggeredBy");
  if (auto a = o->if_contains("aggressive"); a && a->is_bool())
    run.aggressive = a->get_bool();
  if (auto results = o->if_contains("results"); results && results->is_array())
    for (const auto& v : results->get_array()) {
      auto r = result_from_json(v);
      if (!r)
        return std::nullopt;
      run.results.push_back(std::move(*r));
    }
  return run;
}

boost::json::object runs_list_json(const std::vector<optimization_run>& runs) {
  json::array list;
  for (const auto& run : runs)
    list.push_back(run_json(run));
  return {{"optimizations", std::move(list)}};
}

boost::json::array recent_optimization_entries(const std::vector<optimization_run>& runs) {
  std::vector<const optimization_run*> finished;
  for (const auto& run : runs)
    if (run.completed_at)
      finished.push_back(&run);
  std::stable_sort(finished.begin(), finished.end(),
                   [](const auto* a, const auto* b) { return *a->completed_at > *b->completed_at; });
  json::array out;
  for (const auto* run : finished)
    for (const auto& r : run->results)
      if (is_done(r.status))
        out.push_back(entry_json(*run, r));
  return out;
}

} // namespace medianest
