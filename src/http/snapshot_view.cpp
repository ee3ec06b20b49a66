#include "http/snapshot_view.hpp"

#include "model/error.hpp"
#include "model/json.hpp"
#include "model/metrics_json.hpp"

namespace medianest::http {

void snapshot_view::publish(snapshot_ptr s) {
  auto r = std::make_shared<rendered>();
  r->metrics_body = success_envelope(to_json(metrics_data(*s)));
  r->resources_body = success_envelope(to_json(resources_data(*s)));
  auto extra = extras();
  r->prometheus_text = render_prometheus(*s, exposition_format::text, extra);
  r->prometheus_openmetrics = render_prometheus(*s, exposition_format::openmetrics, extra);
  r->data = std::move(s);
  current_.store(std::move(r), std::memory_order_release);
}

void snapshot_view::set_prometheus_families(const std::string& source,
                                            std::vector<metric_family> families) {
  std::lock_guard guard{extras_mutex_};
  extras_[source] = std::move(families);
}

prometheus_extras snapshot_view::extras() const {
  prometheus_extras out;
  std::lock_guard guard{extras_mutex_};
  for (const auto& [source, families] : extras_)
    out.families.insert(out.families.end(), families.begin(), families.end());
  return out;
}

} // namespace medianest::http
