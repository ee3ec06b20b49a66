#include <catch2/catch.hpp>

#include "model/activity_counts.hpp"
#include "model/metrics.hpp"

using namespace medianest;

namespace {

const metric_family& family(const std::vector<metric_family>& fs, const std::string& name) {
  for (const auto& f : fs)
    if (f.name == name)
      return f;
  FAIL("no family " << name);
  throw std::logic_error("unreachable");
}

double value(const metric_family& f, const metric_labels& labels) {
  for (const auto& p : f.points)
    if (p.labels == labels)
      return p.value;
  return -1;
}

alert_event event(std::string id, std::string severity, std::string state) {
  alert_event e;
  e.id = std::move(id);
  e.metric = "memoryUsage";
  e.severity = std::move(severity);
  e.state = std::move(state);
  return e;
}

} // namespace

TEST_CASE("active alerts follow firing escalation and resolution by severity", "[activity]") {
  activity_counts c;
  auto active = [&](const char* severity) {
    return value(family(c.families(), "medianest_alerts_active"), {{"severity", severity}});
  };
  CHECK(active("warning") == 0);
  CHECK(active("critical") == 0);
  c.on_alert(event("alt-1", "warning", "firing"));
  c.on_alert(event("alt-2", "warning", "firing"));
  CHECK(active("warning") == 2);
  c.on_alert(event("alt-1", "critical", "firing")); // escalated
  CHECK(active("warning") == 1);
  CHECK(active("critical") == 1);
  c.on_alert(event("alt-1", "critical", "resolved"));
  c.on_alert(event("alt-2", "warning", "resolved"));
  CHECK(active("warning") == 0);
  CHECK(active("critical") == 0);
  auto fs = c.families();
  auto& events = family(fs, "medianest_alert_events_total");
  CHECK(events.kind == metric_kind::counter);
  CHECK(value(events, {{"state", "firing"}, {"severity", "warning"}}) == 2);
  CHECK(value(events, {{"state", "resolved"}, {"severity", "critical"}}) == 1);
}

TEST_CASE("optimization runs are counted once when they finish", "[activity]") {
  activity_counts c;
  optimization_run run;
  run.id = "opt-1";
  run.trigger = "automatic";
  run.status = run_status::running;
  run.results = {{optimization_type::memory_cleanup, run_status::running, {}, {}, "", "", {}}};
  c.on_run(run);
  CHECK(family(c.families(), "medianest_optimizations_running").points.at(0).value == 1);
  run.status = run_status::failed;
  run.results[0].status = run_status::failed;
  c.on_run(run);
  c.on_run(run); // published again: not counted twice
  auto fs = c.families();
  CHECK(family(fs, "medianest_optimizations_running").points.at(0).value == 0);
  CHECK(value(family(fs, "medianest_optimization_runs_total"),
              {{"trigger", "automatic"}, {"status", "failed"}})
        == 1);
  CHECK(value(family(fs, "medianest_optimization_types_total"),
              {{"type", "memory_cleanup"}, {"status", "failed"}})
        == 1);
}

TEST_CASE("notification deliveries are counted by channel and outcome", "[activity]") {
  activity_counts c;
  delivery_record ok, bad;
  ok.channel = "webhook";
  ok.ok = true;
  bad.channel = "webhook";
  bad.ok = false;
  c.on_delivery(ok);
  c.on_delivery(bad);
  c.on_delivery(bad);
  auto fs = c.families();
  auto& f = family(fs, "medianest_notification_deliveries_total");
  CHECK(value(f, {{"channel", "webhook"}, {"outcome", "delivered"}}) == 1);
  CHECK(value(f, {{"channel", "webhook"}, {"outcome", "failed"}}) == 2);
}

TEST_CASE("the activity families render as a valid exposition", "[activity]") {
  activity_counts c;
  c.on_alert(event("alt-1", "warning", "firing"));
  prometheus_extras extras{c.families()};
  snapshot s;
  auto text = render_prometheus(s, exposition_format::text, extras);
  CHECK(text.find("# TYPE medianest_alerts_active gauge") != std::string::npos);
  CHECK(text.find("medianest_alert_events_total{state=\"firing\",severity=\"warning\"} 1")
        != std::string::npos);
  auto om = render_prometheus(s, exposition_format::openmetrics, extras);
  CHECK(om.find("# TYPE medianest_alert_events counter") != std::string::npos);
}
