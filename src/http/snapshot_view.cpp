#include "http/snapshot_view.hpp"

#include "model/error.hpp"
#include "model/json.hpp"
#include "model/metrics_json.hpp"

namespace medianest::http {

void snapshot_view::publish(snapshot_ptr s) {
  auto r = std::make_shared<rendered>();
  r->metrics_body = success_envelope(to_json(metrics_data(*s)));
  r->resources_body = success_envelope(to_json(resources_data(*s)));
  r->data = std::move(s);
  current_.store(std::move(r), std::memory_order_release);
}

} // namespace medianest::http
