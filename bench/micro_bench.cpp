// Micro-benchmarks of the hot paths of the collectors: what one finished request costs the
// api collector, and what building the /metrics snapshot costs the hub.
#include <benchmark/benchmark.h>

#include <random>

#include "actors/api_window.hpp"
#include "http/request_recorder.hpp"
#include "http/snapshot_view.hpp"
#include "model/json.hpp"
#include "model/latency_histogram.hpp"
#include "model/metrics_json.hpp"
#include "model/prometheus.hpp"

using namespace medianest;

namespace {

std::vector<const std::string*> routes(size_t n) {
  std::vector<const std::string*> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back(intern_route("/api/v1/bench/route" + std::to_string(i) + "/:id"));
  return out;
}

std::vector<request_record> traffic(size_t n) {
  std::mt19937_64 rng{1};
  std::lognormal_distribution<double> latency{std::log(2000.0), 1.0};
  auto rs = routes(20);
  std::vector<request_record> out;
  for (size_t i = 0; i < n; ++i)
    out.push_back({rs[i % rs.size()], http_method::get, static_cast<uint16_t>(i % 50 ? 200 : 503),
                   static_cast<uint32_t>(latency(rng)), static_cast<int64_t>(1'000'000 + i / 10)});
  return out;
}

/// One request event folded into the sliding window (the api collector's per-event cost).
void api_window_add(benchmark::State& state) {
  auto events = traffic(1 << 16);
  api_window window;
  size_t i = 0;
  for (auto _ : state) {
    window.add(events[i++ & (events.size() - 1)]);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(api_window_add);

/// One request event handed over by an asio thread (the HTTP layer's per-request cost).
void recorder_record(benchmark::State& state) {
  auto events = traffic(1024);
  http::request_recorder recorder;
  size_t i = 0;
  for (auto _ : state) {
    recorder.record(events[i++ & 1023]);
    if ((i & 0xFFF) == 0)
      benchmark::DoNotOptimize(recorder.drain());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(recorder_record);

void histogram_record(benchmark::State& state) {
  auto events = traffic(1 << 16);
  latency_histogram h;
  size_t i = 0;
  for (auto _ : state)
    h.record(events[i++ & (events.size() - 1)].duration_us);
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(histogram_record);

/// The api sample the collector builds every tick from a busy window (20 routes).
void api_window_sample(benchmark::State& state) {
  api_window window;
  for (const auto& e : traffic(100'000))
    window.add(e);
  for (auto _ : state)
    benchmark::DoNotOptimize(window.sample(1'000'000 + 10'000, 12));
}
BENCHMARK(api_window_sample);

snapshot full_snapshot() {
  snapshot s;
  s.timestamp = now_ms();
  api_window window;
  for (const auto& e : traffic(10'000))
    window.add(e);
  s.api.value = window.sample(1'000'000 + 1'000, 12);
  s.system.value = system_sample{{25.5, 8, {1.2, 1.5, 1.8}},
                                 {16'777'216'000, 8'388'608'000, 8'388'608'000, 50, 1, 2},
                                 {"/var/lib/medianest", 1'000'000'000'000, 1, 2, 50}};
  s.database.value = database_sample{"postgresql", 25, 2, 45.5, 8, 100, {1240, 45, 23, 8}, {}};
  s.cache.value = cache_sample{"redis", 0.85, 1245, "128MB", 134217728, 12, 5420, 234, 45, 4};
  resources_sample r;
  r.processes.push_back({"medianest-perf", 1234, 1.5, 12'000'000, 3600});
  s.resources.value = r;
  return s;
}

/// Building and rendering the snapshot the hub publishes (the /metrics and /resources bodies
/// and the Prometheus exposition in both formats).
void snapshot_publish(benchmark::State& state) {
  auto s = std::make_shared<const snapshot>(full_snapshot());
  http::snapshot_view view;
  for (auto _ : state) {
    view.publish(s);
    benchmark::DoNotOptimize(view.latest());
  }
}
BENCHMARK(snapshot_publish);

/// The Prometheus exposition of that snapshot (20 routes, 2 statuses on each), one format: the
/// hub's thread renders it twice (text and OpenMetrics) per publication.
void prometheus_render(benchmark::State& state) {
  auto s = full_snapshot();
  auto bytes = static_cast<int64_t>(render_prometheus(s, exposition_format::text).size());
  for (auto _ : state)
    benchmark::DoNotOptimize(render_prometheus(s, exposition_format::text));
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations()) * bytes);
}
BENCHMARK(prometheus_render);

} // namespace

#include "http/auth.hpp"

namespace {

/// Verifying the bearer token of a request: first sight (HMAC + JSON) and a repeat (cache).
void jwt_verify_first_sight(benchmark::State& state) {
  const std::string secret(64, 'k');
  http::jwt_verifier verifier{secret};
  std::vector<std::string> tokens;
  for (int i = 0; i < 4096; ++i)
    tokens.push_back(http::mint_token(secret, {"user" + std::to_string(i), http::role::admin,
                                               4'000'000'000}, 1'700'000'000));
  size_t i = 0;
  for (auto _ : state)
    benchmark::DoNotOptimize(verifier.verify(tokens[i++ & 4095], 1'700'000'001));
}
BENCHMARK(jwt_verify_first_sight);

void jwt_verify_repeat(benchmark::State& state) {
  const std::string secret(64, 'k');
  http::jwt_verifier verifier{secret};
  auto token = http::mint_token(secret, {"admin", http::role::admin, 4'000'000'000},
                                1'700'000'000);
  for (auto _ : state)
    benchmark::DoNotOptimize(verifier.verify(token, 1'700'000'001));
}
BENCHMARK(jwt_verify_repeat);

} // namespace

#include "actors/series_buffer.hpp"

namespace {

/// Memory of the time-series store per series: an hour of 1-second samples of the system,
/// api and cache sections (7 built-in series plus 13 per-route series = 20).
void series_buffer_memory(benchmark::State& state) {
  for (auto _ : state) {
    series_buffer buffer;
    auto rs = routes(13);
    auto start = now_ms();
    api_window window;
    for (int s = 0; s < 3600; ++s) {
      snapshot snap;
      auto at = start + std::chrono::seconds(s);
      for (int i = 0; i < 20; ++i)
        window.add({rs[static_cast<size_t>(i) % rs.size()], http_method::get, 200,
                    static_cast<uint32_t>(1000 + (i * 97 + s) % 5000), s * 1000});
      auto api = window.sample(s * 1000, 4);
      api.slowest_endpoints.clear();
      for (size_t r = 0; r < rs.size(); ++r)
        api.slowest_endpoints.push_back({*rs[r], "GET", 10.0 + r, 100});
      snap.api.value = api;
      snap.api.updated = at;
      snap.system.value = system_sample{{20.0 + s % 7, 2, {}}, {1000, 500, 500, 50.0 + s % 3, 0, 0}, {"/", 1, 1, 1, 40}};
      snap.system.updated = at;
      snap.cache.value = cache_sample{"builtin", 0.9, 1, "1B", 1, 0, 10, 1, 0, 0};
      snap.cache.updated = at;
      buffer.ingest(snap);
      if (s % 10 == 0)
        buffer.take_dirty(std::chrono::duration_cast<std::chrono::seconds>(at.time_since_epoch()).count());
    }
    auto names = buffer.series_names();
    state.counters["series"] = static_cast<double>(names.size());
    state.counters["bytes_per_series"] =
      static_cast<double>(buffer.memory_bytes()) / static_cast<double>(names.size());
  }
}
BENCHMARK(series_buffer_memory)->Iterations(1)->Unit(benchmark::kMillisecond);

} // namespace
