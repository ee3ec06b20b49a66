#include "actors/timeseries_db.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/forecast.hpp"

namespace medianest {

namespace {

constexpr auto tick_interval = std::chrono::seconds(10);
/// Retention runs every this many ticks: every 10 minutes.
constexpr unsigned retention_every = 60;
constexpr size_t max_forecast_points = 500;

caf::error unavailable(const std::string& what) {
  return to_caf_error({errc::resource_exhausted, "history database unavailable: " + what, {}, 5u});
}

bool ensure_ready(timeseries_db_state& st, std::string& error) {
  if (!sources::ensure_schema(*st.session, st.migrated, error))
    return false;
  if (st.maintains && !st.claimed_unowned && !st.instance.empty()) {
    uint64_t claimed = 0;
    if (!sources::claim_unowned_rollups(*st.session, st.instance, claimed, error))
      return false;
    st.claimed_unowned = true;
    if (claimed)
      spdlog::info("{} roll-up rows without an owner now belong to instance '{}'", claimed,
                   st.instance);
  }
  return true;
}

/// Merged sketch of [from, to): 1h buckets for whole hours, the query's resolution at the
/// edges, pending buckets over stored ones.
bool summary_sketch(sources::sql_session& db, const std::string& instance,
                    const history_request& req, int64_t from, int64_t to, rollup& merged,
                    std::string& error) {
  const auto& q = req.query;
  auto first_hour = bucket_start(from + resolution_1h - 1, resolution_1h);
  auto last_hour = bucket_start(to, resolution_1h);
  auto add_rows = [&](const std::vector<rollup_row>& rows) {
    for (const auto& row : rows) {
      rollup r;
      if (row.count && from_row(row, r))
        merged.merge(r);
    }
  };
  if (q.resolution == resolution_1h || first_hour >= last_hour) {
    std::vector<rollup_row> rows;
    if (!sources::read_rollups(db, instance, q.metric, q.resolution, from, to, true, rows, error))
      return false;
    add_rows(merge_rows(std::move(rows), req.pending, from));
    return true;
  }
  std::vector<rollup_row> hours, left, right;
  auto read = [&](int64_t resolution, int64_t lo, int64_t hi, std::vector<rollup_row>& rows) {
    return sources::read_rollups(db, instance, q.metric, resolution, lo, hi, true, rows, error);
  };
  if (!read(resolution_1h, first_hour, last_hour, hours)
      || !read(q.resolution, from, first_hour, left) || !read(q.resolution, last_hour, to, right))
    return false;
  auto in_range = [](std::vector<rollup_row> rows, int64_t lo, int64_t hi) {
    rows.erase(std::remove_if(rows.begin(), rows.end(),
                              [&](const rollup_row& r) { return r.start < lo || r.start >= hi; }),
               rows.end());
    return rows;
  };
  add_rows(in_range(merge_rows(std::move(hours), req.pending_hours, first_hour), first_hour,
                    last_hour));
  add_rows(in_range(merge_rows(std::move(left), req.pending, from), from, first_hour));
  add_rows(merge_rows(std::move(right), req.pending, last_hour));
  return true;
}

} // namespace

caf::expected<std::string> answer_history(sources::sql_session& db, const std::string& instance,
                                          const history_request& req) {
  const auto& q = req.query;
  auto info = find_metric(q.metric);
  if (!info)
    return to_caf_error(validation_error("metric", "unknown metric '" + q.metric + "'"));
  auto from = history_from(q, req.now_unix);
  auto to = req.now_unix + q.resolution;
  std::string error;
  std::vector<rollup_row> stored;
  if (!sources::read_rollups(db, instance, q.metric, q.resolution, from, to, false, stored, error))
    return unavailable(error);
  auto points = merge_rows(std::move(stored), req.pending, from);
  history_summary summary;
  for (const auto& p : points) {
    summary.min = summary.count ? std::min(summary.min, p.min) : p.min;
    summary.max = summary.count ? std::max(summary.max, p.max) : p.max;
    summary.count += p.count;
    summary.average += p.sum;
  }
  if (summary.count)
    summary.average /= static_cast<double>(summary.count);
  rollup merged;
  if (!summary_sketch(db, instance, req, from, to, merged, error))
    return unavailable(error);
  summary.p95 = merged.quantile(0.95, info->scale);
  summary.p99 = merged.quantile(0.99, info->scale);
  std::optional<forecast_result> forecast;
  if (q.forecast) {
    std::vector<forecast_point> series;
    series.reserve(points.size());
    for (const auto& p : points)
      series.push_back({p.start, p.sum / static_cast<double>(p.count)});
    forecast = holt_forecast(series, q.resolution,
                             static_cast<size_t>(q.period_seconds / q.resolution),
                             max_forecast_points, info->warning, info->critical,
                             info->lower_is_worse);
  }
  return render_history(q, *info, points, summary, forecast);
}

caf::expected<summary_sql_data> read_summary_data(sources::sql_session& db,
                                                  const std::string& instance, int64_t now_unix) {
  summary_sql_data out;
  std::string error;
  auto day = int64_t{86400};
  auto current_hour = bucket_start(now_unix, resolution_1h);
  auto window = [&](const std::string& metric, summary_sql_data::window_average& w) {
    double sum = 0;
    uint64_t count = 0;
    if (!sources::sum_and_count(db, instance, metric, current_hour - day,
                                current_hour + resolution_1h, sum, count, error))
      return false;
    if (count)
      w.last = sum / static_cast<double>(count);
    if (!sources::sum_and_count(db, instance, metric, current_hour - 2 * day,
                                current_hour - day, sum, count, error))
      return false;
    if (count)
      w.previous = sum / static_cast<double>(count);
    return true;
  };
  if (!window("response_time", out.response_time) || !window("memory", out.memory)
      || !window("cache_hit_rate", out.cache_hit_rate)
      || !sources::read_rollups(db, instance, "memory", resolution_1h, current_hour - day,
                                current_hour + resolution_1h, false, out.memory_hours, error))
    return unavailable(error);
  return out;
}

timeseries_db_actor::behavior_type
timeseries_db(timeseries_db_actor::stateful_pointer<timeseries_db_state> self,
              database_target target, std::string instance, retention_policy keep,
              database_collector_actor usage_sink, std::chrono::milliseconds slow_query,
              bool maintains) {
  auto& st = self->state;
  st.maintains = maintains;
  st.instance = std::move(instance);
  st.session.emplace(std::move(target), slow_query);
  st.keep = keep;
  st.usage_sink = std::move(usage_sink);
  st.health = source_health{"time-series database", std::chrono::seconds(1)};
  self->delayed_send(self, std::chrono::seconds(1), caf::tick_atom::value);
  auto now_unix = [] {
    return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
  };
  return {
    [self, now_unix](load_atom) -> caf::result<rollup_rows> {
      auto& st = self->state;
      std::string error;
      rollup_rows rows;
      if (!ensure_ready(st, error)
          || !sources::load_open_rollups(*st.session, st.instance, now_unix(), rows, error)) {
        st.health.failed(error);
        return unavailable(error);
      }
      return rows;
    },
    [self](caf::put_atom, const rollup_rows& rows) -> caf::result<uint64_t> {
      auto& st = self->state;
      std::string error;
      if (!ensure_ready(st, error)
          || !sources::upsert_rollups(*st.session, st.instance, rows, error)) {
        st.health.failed(error);
        return unavailable(error);
      }
      st.health.succeeded();
      return static_cast<uint64_t>(rows.size());
    },
    [self](history_atom, const history_request& req) -> caf::result<std::string> {
      auto& st = self->state;
      std::string error;
      if (!ensure_ready(st, error))
        return unavailable(error);
      auto body = answer_history(*st.session, st.instance, req);
      if (!body)
        return body.error();
      return std::move(*body);
    },
    [self](summary_atom, int64_t now) -> caf::result<summary_sql_data> {
      auto& st = self->state;
      std::string error;
      if (!ensure_ready(st, error))
        return unavailable(error);
      auto data = read_summary_data(*st.session, st.instance, now);
      if (!data)
        return data.error();
      return std::move(*data);
    },
    [self, now_unix](caf::tick_atom) {
      auto& st = self->state;
      std::string error;
      if (st.maintains && st.ticks++ % retention_every == 0 && ensure_ready(st, error)) {
        uint64_t deleted = 0;
        if (sources::apply_retention(*st.session, st.keep, now_unix(), deleted, error)) {
          if (deleted)
            spdlog::info("retention removed {} expired roll-up rows", deleted);
        } else {
          st.health.failed(error);
        }
      }
      if (st.usage_sink && st.session->is_open())
        self->send(st.usage_sink, sql_usage_atom::value, st.session->take_usage());
      self->delayed_send(self, tick_interval, caf::tick_atom::value);
    },
  };
}

} // namespace medianest
