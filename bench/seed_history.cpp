// Writes synthetic history into a daemon's database: `days` of 1h and 5m buckets and up to
// 7 days of 1m buckets for `metrics` series (the 7 built-in ones, then per-route series),
// each bucket holding `samples` values, owned by the daemon named INSTANCE (--instance).
// Usage: seed_history DB_FILE INSTANCE DAYS METRICS [SAMPLES]
#include <cmath>
#include <cstdio>
#include <random>
#include <string>

#include "model/series.hpp"
#include "sources/sql_session.hpp"
#include "sources/timeseries_sql.hpp"

using namespace medianest;

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: seed_history DB_FILE INSTANCE DAYS METRICS [SAMPLES]\n");
    return 2;
  }
  std::string path = argv[1];
  std::string instance = argv[2];
  int64_t days = std::stoll(argv[3]);
  size_t metric_count = std::stoul(argv[4]);
  int samples = argc > 5 ? std::stoi(argv[5]) : 30;
  sources::sql_session db{{database_target::kind::sqlite, path}};
  std::string error;
  if (!db.open(error) || !sources::migrate(db, error)) {
    std::fprintf(stderr, "seed_history: %s\n", error.c_str());
    return 1;
  }
  std::vector<std::string> names;
  for (const auto& m : builtin_metrics())
    names.emplace_back(m.name);
  for (size_t i = 0; names.size() < metric_count; ++i)
    names.push_back(route_metric_name("GET", "/api/v1/bench/route" + std::to_string(i)));
  names.resize(metric_count);
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch()).count();
  std::mt19937_64 rng{7};
  std::lognormal_distribution<double> noise{0.0, 0.3};
  size_t rows_written = 0;
  for (const auto& name : names) {
    auto info = *find_metric(name);
    for (auto res : resolutions) {
      auto span = res == resolution_1m ? std::min<int64_t>(days, 7) * 86400 : days * 86400;
      std::vector<rollup_row> rows;
      for (auto t = bucket_start(now - span, res); t < bucket_start(now, res); t += res) {
        rollup r;
        r.start = t;
        double base = info.unit == "ms" ? 120.0 : info.unit == "fraction" ? 0.5 : 40.0;
        for (int i = 0; i < samples; ++i)
          r.add(std::min(base * noise(rng), info.unit == "fraction" ? 1.0 : 1e9), info.scale);
        rows.push_back(to_row(name, res, r, info.scale));
      }
      if (!sources::upsert_rollups(db, instance, rows, error)) {
        std::fprintf(stderr, "seed_history: %s\n", error.c_str());
        return 1;
      }
      rows_written += rows.size();
    }
  }
  std::printf("%zu rows for %zu series\n", rows_written, names.size());
  return 0;
}
