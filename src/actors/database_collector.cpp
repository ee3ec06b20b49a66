#include "actors/database_collector.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

namespace medianest {

namespace {

/// Whether pg_stat_statements is installed is checked again every this many samples.
constexpr unsigned extension_recheck = 60;
constexpr size_t statement_text_limit = 200;

bool read_postgresql(database_collector_state& st, database_sample& out, std::string& error) {
  auto& session = *st.session;
  long long active = 0;
  std::string max_conn;
  if (!session.run(
        "SELECT count(*) FROM pg_stat_activity",
        [&](soci::session& s) {
          s << "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
               "AND backend_type = 'client backend'",
            soci::into(active);
        },
        error))
    return false;
  if (!session.run("SHOW max_connections",
                   [&](soci::session& s) { s << "SHOW max_connections", soci::into(max_conn); },
                   error))
    return false;
  out.active_connections = static_cast<uint64_t>(active);
  out.max_connections = std::strtoull(max_conn.c_str(), nullptr, 10);
  if (!st.has_pg_stat_statements || st.ticks % extension_recheck == 0) {
    long long present = 0;
    if (!session.run("SELECT count(*) FROM pg_extension",
                     [&](soci::session& s) {
                       s << "SELECT count(*) FROM pg_extension WHERE extname = "
                            "'pg_stat_statements'",
                         soci::into(present);
                     },
                     error))
      return false;
    st.has_pg_stat_statements = present > 0;
  }
  if (*st.has_pg_stat_statements) {
    std::string ignored; // the view errors until the library is preloaded: not fatal
    session.run(
      "SELECT query, calls, mean_exec_time FROM pg_stat_statements",
      [&](soci::session& s) {
        soci::rowset<soci::row> rows = s.prepare
          << "SELECT query, calls::float8, mean_exec_time FROM pg_stat_statements "
             "WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) "
             "ORDER BY mean_exec_time DESC LIMIT 5";
        for (const auto& row : rows) {
          statement_stats st;
          st.query = row.get<std::string>(0).substr(0, statement_text_limit);
          st.calls = static_cast<uint64_t>(row.get<double>(1));
          st.mean_time = row.get<double>(2);
          out.top_statements.push_back(std::move(st));
        }
      },
      ignored);
  }
  return true;
}

bool read_sqlite(database_collector_state& st, database_sample& out, std::string& error) {
  long long tables = 0;
  if (!st.session->run("SELECT count(*) FROM sqlite_master",
                       [&](soci::session& s) {
                         s << "SELECT count(*) FROM sqlite_master", soci::into(tables);
                       },
                       error))
    return false;
  out.active_connections = st.pool_size;
  out.max_connections = st.pool_size;
  return true;
}

std::optional<database_sample> sample_database(database_collector_state& st, std::string& error) {
  st.session->close_if_stale();
  if (!st.session->is_open() && !st.session->open(error))
    return std::nullopt;
  database_sample out;
  out.backend = st.session->is_postgresql() ? "postgresql" : "sqlite";
  bool ok = st.session->is_postgresql() ? read_postgresql(st, out, error)
                                        : read_sqlite(st, out, error);
  auto own = st.session->take_usage();
  accumulate(st.totals, own);
  st.busy_us_interval += own.busy_us;
  st.queries_interval += own.queries;
  st.query_us_interval += own.total_time_us;
  if (!ok)
    return std::nullopt;
  auto now = std::chrono::steady_clock::now();
  auto elapsed_us = std::chrono::duration_cast<std::chrono::microseconds>(now - st.last_sample)
                      .count();
  st.last_sample = now;
  if (elapsed_us > 0)
    out.connection_pool_usage = std::min(
      100.0, 100.0 * static_cast<double>(st.busy_us_interval)
               / (static_cast<double>(elapsed_us) * static_cast<double>(st.pool_size)));
  st.busy_us_interval = 0;
  out.query_stats = st.totals.counts;
  out.slow_queries = st.totals.slow_queries;
  st.recent.emplace_back(now, st.queries_interval, st.query_us_interval);
  st.queries_interval = st.query_us_interval = 0;
  while (now - std::get<0>(st.recent.front()) > query_time_window)
    st.recent.pop_front();
  uint64_t queries = 0, time_us = 0;
  for (const auto& [at, n, us] : st.recent) {
    queries += n;
    time_us += us;
  }
  if (queries == 0) {
    queries = st.totals.queries;
    time_us = st.totals.total_time_us;
  }
  if (queries > 0)
    out.average_query_time = static_cast<double>(time_us) / static_cast<double>(queries) / 1000.0;
  return out;
}

} // namespace

void accumulate(sql_usage& totals, const sql_usage& delta) noexcept {
  totals.counts.selects += delta.counts.selects;
  totals.counts.inserts += delta.counts.inserts;
  totals.counts.updates += delta.counts.updates;
  totals.counts.deletes += delta.counts.deletes;
  totals.total_time_us += delta.total_time_us;
  totals.queries += delta.queries;
  totals.slow_queries += delta.slow_queries;
  totals.busy_us += delta.busy_us;
}

database_collector_actor::behavior_type
database_collector(database_collector_actor::stateful_pointer<database_collector_state> self,
                   metrics_hub_actor hub, database_target target, uint64_t pool_size,
                   std::chrono::milliseconds slow_query, std::chrono::milliseconds interval) {
  auto& st = self->state;
  st.hub = std::move(hub);
  st.pool_size = std::max<uint64_t>(pool_size, 1);
  st.session.emplace(std::move(target), slow_query);
  st.health = source_health{"database collector", interval};
  self->send(self, caf::tick_atom::value);
  return {
    [self](caf::tick_atom) {
      auto& st = self->state;
      ++st.ticks;
      std::string error;
      auto sample = sample_database(st, error);
      if (!sample)
        st.session->close();
      report_sample(self, st.hub, st.health, section_kind::database, std::move(sample), error);
    },
    [self](sql_usage_atom, const sql_usage& usage) {
      accumulate(self->state.totals, usage);
      self->state.busy_us_interval += usage.busy_us;
      self->state.queries_interval += usage.queries;
      self->state.query_us_interval += usage.total_time_us;
    },
  };
}

} // namespace medianest
