#include "http/snapshot_view.hpp"

#include "model/error.hpp"
#include "model/json.hpp"
#include "model/metrics_json.hpp"

namespace medianest::http {

const std::string& snapshot_view::rendered::get(body which) const {
  auto& slot = bodies_[static_cast<size_t>(which)];
  std::call_once(slot.once, [&] {
    switch (which) {
      case body::metrics: slot.text = success_envelope(to_json(metrics_data(*data_))); break;
      case body::resources: slot.text = success_envelope(to_json(resources_data(*data_))); break;
      case body::prometheus_text:
        slot.text = render_prometheus(*data_, exposition_format::text, extras_);
        break;
      case body::prometheus_openmetrics:
        slot.text = render_prometheus(*data_, exposition_format::openmetrics, extras_);
        break;
    }
  });
  return slot.text;
}

void snapshot_view::publish(snapshot_ptr s) {
  current_.store(std::make_shared<const rendered>(std::move(s), extras()));
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
