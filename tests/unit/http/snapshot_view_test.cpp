#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "http/snapshot_view.hpp"
#include "model/metrics.hpp"

using medianest::http::snapshot_view;
using namespace medianest;

namespace {

snapshot_ptr snapshot_with_cpu(double usage) {
  auto s = std::make_shared<snapshot>();
  system_sample sys;
  sys.cpu.usage = usage;
  sys.cpu.cores = 2;
  s->system.value = sys;
  return s;
}

} // namespace

TEST_CASE("each body of a publication is rendered once and from that snapshot") {
  snapshot_view view;
  CHECK(view.latest() == nullptr);
  view.publish(snapshot_with_cpu(37.5));
  auto first = view.latest();
  REQUIRE(first != nullptr);
  const auto& metrics = first->get(snapshot_view::body::metrics);
  CHECK(metrics.find("\"success\":true") != std::string::npos);
  CHECK(metrics.find("37.5") != std::string::npos);
  // The same object on the second read: rendered once, not per request.
  CHECK(&first->get(snapshot_view::body::metrics) == &metrics);
  CHECK(first->get(snapshot_view::body::prometheus_text).find("# TYPE") != std::string::npos);
  CHECK(first->get(snapshot_view::body::prometheus_openmetrics).find("# EOF")
        != std::string::npos);
  CHECK(first->get(snapshot_view::body::resources).find("\"success\":true") != std::string::npos);

  // A later publication is rendered from its own snapshot; the earlier one stays as it was.
  view.publish(snapshot_with_cpu(81.25));
  auto second = view.latest();
  CHECK(second != first);
  CHECK(second->get(snapshot_view::body::metrics).find("81.25") != std::string::npos);
  CHECK(first->get(snapshot_view::body::metrics).find("37.5") != std::string::npos);
}

TEST_CASE("concurrent first readers of a publication all get the one rendering") {
  snapshot_view view;
  view.set_prometheus_families("test", {{"medianest_test_things", "Things.",
                                         metric_kind::gauge, {{{}, 3}}}});
  view.publish(snapshot_with_cpu(12));
  auto latest = view.latest();
  constexpr int readers = 8;
  std::vector<const std::string*> seen(readers, nullptr);
  {
    std::vector<std::jthread> threads;
    for (int i = 0; i < readers; ++i)
      threads.emplace_back(
        [&, i] { seen[i] = &latest->get(snapshot_view::body::prometheus_text); });
  }
  for (int i = 0; i < readers; ++i)
    CHECK(seen[i] == seen[0]);
  // Families handed over before the publication are in its rendering.
  CHECK(seen[0]->find("medianest_test_things 3") != std::string::npos);
}
