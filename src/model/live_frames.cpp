#include "model/live_frames.hpp"

#include <boost/json/parse.hpp>
#include <fmt/format.h>

#include "model/alert_log_json.hpp"
#include "model/json.hpp"
#include "model/metrics_json.hpp"
#include "model/summary.hpp"

namespace medianest {

namespace {

namespace json = boost::json;

std::string frame(std::string_view type, double at_ms, json::value data) {
  json::object out{{"type", type}, {"at", at_ms}, {"data", std::move(data)}};
  return to_json(out);
}

} // namespace

double live_now_ms() {
  auto us = std::chrono::duration_cast<std::chrono::microseconds>(
              std::chrono::system_clock::now().time_since_epoch())
              .count();
  return static_cast<double>(us) / 1000.0;
}

std::string metrics_frame(const snapshot& s, bool admin, double at_ms) {
  if (admin)
    return frame("metrics", at_ms, metrics_data(s));
  return frame("metrics", at_ms, json::object{{"currentMetrics", current_metrics_json(s)}});
}

std::string alert_frame(const alert_event& e, double at_ms) {
  return frame("alert", at_ms, alert_event_json(e));
}

std::string optimization_frame(const optimization_run& run, double at_ms) {
  return frame("optimization", at_ms, run_json(run));
}

std::string hello_frame(bool admin, std::chrono::milliseconds interval, double at_ms) {
  return frame("hello", at_ms,
               json::object{{"role", admin ? "admin" : "user"},
                            {"interval", interval.count()},
                            {"minInterval", min_live_interval.count()},
                            {"maxInterval", max_live_interval.count()}});
}

std::string error_frame(const api_error& err, double at_ms) {
  json::object data{{"code", code_name(err.code)}, {"message", err.message}};
  if (auto it = err.details.find("field"); it != err.details.end())
    data["field"] = it->value();
  return frame("error", at_ms, std::move(data));
}

std::variant<std::chrono::milliseconds, api_error> parse_client_message(std::string_view text) {
  boost::system::error_code ec;
  auto doc = json::parse(text, ec);
  auto obj = ec ? nullptr : doc.if_object();
  if (!obj)
    return validation_error("message", "a message must be a JSON object like "
                                       R"({"type":"subscribe","interval":1000})");
  auto type = obj->if_contains("type");
  if (!type || !type->is_string() || type->get_string() != "subscribe")
    return validation_error("type", R"(the only message is {"type":"subscribe","interval":MS})");
  auto interval = obj->if_contains("interval");
  auto range = fmt::format("interval must be an integer number of ms from {} to {}",
                           min_live_interval.count(), max_live_interval.count());
  if (!interval || !(interval->is_int64() || interval->is_uint64()))
    return validation_error("interval", range);
  auto ms = interval->is_int64() ? interval->get_int64()
                                 : static_cast<int64_t>(std::min<uint64_t>(
                                     interval->get_uint64(), INT64_MAX));
  if (ms < min_live_interval.count() || ms > max_live_interval.count())
    return validation_error("interval", range);
  return std::chrono::milliseconds{ms};
}

} // namespace medianest
