#include "actors/timeseries_store.hpp"

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "model/summary.hpp"

namespace medianest {

namespace {

using self_ptr = timeseries_store_actor::stateful_pointer<timeseries_store_state>;

int64_t unix_now() {
  return std::chrono::duration_cast<std::chrono::seconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

void stash(timeseries_store_state& st, std::vector<rollup_row> rows) {
  auto dropped = st.unsent.add(std::move(rows));
  if (dropped > 0 && !st.drops_logged) {
    // Once per outage; /metrics keeps the running count.
    st.drops_logged = true;
    spdlog::error("time-series store: the database has been unavailable for longer than {} "
                  "buffered roll-up rows last: dropping the oldest ({} so far)",
                  st.unsent.capacity(), st.unsent.dropped());
  }
}

/// Tells the hub whether history reaches the database, so that /metrics shows it.
void report_writes(self_ptr self, const std::string& error) {
  auto& st = self->state;
  if (error.empty()) {
    if (st.writes_failing)
      self->send(st.hub, history_writes_atom::value, std::string{});
    st.writes_failing = false;
    st.drops_logged = false;
    return;
  }
  st.writes_failing = true;
  auto reason = "history writes failing (" + std::to_string(st.unsent.size())
                + " roll-up rows buffered in memory, at most " + std::to_string(max_unsent);
  if (st.unsent.dropped() > 0)
    reason += ", " + std::to_string(st.unsent.dropped()) + " oldest dropped";
  self->send(st.hub, history_writes_atom::value, reason + "): " + error);
}

/// Sends everything unsent in one batch; `done(ok)` runs when SQL answered.
template <class Done>
void write_unsent(self_ptr self, Done done) {
  auto& st = self->state;
  if (st.unsent.empty()) {
    done(true);
    return;
  }
  auto batch = st.unsent.batch();
  st.write_in_flight = true;
  self->request(st.db, std::chrono::seconds(30), caf::put_atom::value, batch)
    .then(
      [self, batch, done](uint64_t) mutable {
        auto& st = self->state;
        st.write_in_flight = false;
        st.unsent.written(batch);
        st.health.succeeded();
        report_writes(self, {});
        done(true);
      },
      [self, done](const caf::error& err) mutable {
        auto& st = self->state;
        st.write_in_flight = false;
        auto message = from_caf_error(err).message;
        // The reason without the growing row count: logged once, not once per new bucket.
        st.health.failed("cannot write roll-ups, buffering them: " + message);
        report_writes(self, message);
        done(false);
      });
}

/// How long a cached answer may still be served while a fresher one is being read.
std::chrono::milliseconds stale_window(std::chrono::milliseconds fresh) {
  return std::max(fresh * 10, std::chrono::milliseconds(10'000));
}

void flush(self_ptr self) {
  stash(self->state, self->state.buffer.take_dirty(unix_now()));
  if (!self->state.write_in_flight)
    write_unsent(self, [](bool) {});
}

rollup_rows pending_for(const timeseries_store_state& st, const std::string& metric,
                        int64_t resolution) {
  auto rows = st.buffer.pending(metric, resolution);
  // Buckets taken from the buffer but not yet written count too (memory wins).
  for (auto& row : st.unsent.rows_of(metric, resolution)) {
    bool newer_in_buffer = std::any_of(rows.begin(), rows.end(),
                                       [&](const rollup_row& r) { return r.start == row.start; });
    if (!newer_in_buffer)
      rows.push_back(std::move(row));
  }
  std::sort(rows.begin(), rows.end(),
            [](const rollup_row& a, const rollup_row& b) { return a.start < b.start; });
  return rows;
}

/// Reads a history answer from the database once for every caller waiting on the same
/// query (`rp` may be empty for a background refresh), and caches it.
void fetch_history(self_ptr self, history_query q,
                   std::optional<caf::typed_response_promise<std::string>> rp) {
  auto& st = self->state;
  auto key = q.key();
  auto [it, first] = st.inflight.try_emplace(key);
  if (rp)
    it->second.push_back(*rp);
  if (!first)
    return;
  history_request req{q, unix_now(), pending_for(st, q.metric, q.resolution),
                      pending_for(st, q.metric, resolution_1h)};
  self->request(st.reader, std::chrono::seconds(10), history_atom::value, std::move(req))
    .then(
      [self, key](std::string& body) {
        auto& st = self->state;
        if (st.cache_ttl.count() > 0) {
          auto entry = std::make_shared<cached_response>();
          entry->body = body;
          self->send(st.cache, caf::put_atom::value, key, cached_response_ptr{entry},
                     static_cast<int64_t>(stale_window(st.cache_ttl).count()));
        }
        auto waiting = std::move(st.inflight[key]);
        st.inflight.erase(key);
        for (auto& p : waiting)
          p.deliver(body);
      },
      [self, key](caf::error& err) {
        auto waiting = std::move(self->state.inflight[key]);
        self->state.inflight.erase(key);
        for (auto& p : waiting)
          p.deliver(err);
      });
}

} // namespace

timeseries_store_actor::behavior_type
timeseries_store(timeseries_store_actor::stateful_pointer<timeseries_store_state> self,
                 metrics_hub_actor hub, timeseries_db_actor db, timeseries_db_actor reader,
                 response_cache_actor cache, alert_evaluator_actor alerts, std::chrono::milliseconds flush_interval,
                 std::chrono::milliseconds cache_ttl) {
  auto& st = self->state;
  st.alerts = std::move(alerts);
  st.hub = std::move(hub);
  st.db = std::move(db);
  st.reader = std::move(reader);
  st.cache = std::move(cache);
  st.flush_interval = flush_interval;
  st.cache_ttl = cache_ttl;
  st.health = source_health{"time-series store", flush_interval};
  // Listen at once, and continue the buckets that were open when the daemon stopped before
  // ingesting anything.
  self->send(st.hub, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self));
  auto start_ingesting = [self] {
    auto& st = self->state;
    st.restored = true;
    for (const auto& snap : st.early)
      st.buffer.ingest(*snap);
    st.early.clear();
  };
  self->request(st.db, std::chrono::seconds(30), load_atom::value)
    .then(
      [self, start_ingesting](const rollup_rows& rows) {
        auto now = unix_now();
        for (const auto& row : rows)
          self->state.buffer.restore(row, now);
        if (!rows.empty())
          spdlog::info("time-series store: continued {} open bucket(s) from the database",
                       rows.size());
        start_ingesting();
      },
      [self, start_ingesting](const caf::error& err) {
        spdlog::warn("time-series store: cannot load open buckets: {}",
                     from_caf_error(err).message);
        start_ingesting();
      });
  self->delayed_send(self, flush_interval, caf::tick_atom::value);
  return {
    [self](snapshot_atom, const snapshot_ptr& snap) {
      auto& st = self->state;
      st.latest = snap;
      if (st.restored)
        st.buffer.ingest(*snap);
      else
        st.early.push_back(snap); // at most the load's 30 s of snapshots
    },
    [self](history_atom, history_query& q) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      if (self->state.cache_ttl.count() == 0) {
        fetch_history(self, std::move(q), rp);
        return rp;
      }
      // Fresh: served. Stale (within the stale window): served at once, refreshed in the
      // background. Missing: read, with every identical concurrent query waiting on one read.
      self->request(self->state.cache, std::chrono::seconds(1), caf::get_atom::value, q.key())
        .then(
          [self, q, rp](const cached_response_ptr& hit) mutable {
            if (!hit)
              return fetch_history(self, std::move(q), rp);
            rp.deliver(hit->body);
            if (std::chrono::steady_clock::now() - hit->produced >= self->state.cache_ttl)
              fetch_history(self, std::move(q), std::nullopt);
          },
          [self, q, rp](const caf::error&) mutable { fetch_history(self, std::move(q), rp); });
      return rp;
    },
    [self](summary_atom) -> caf::result<std::string> {
      auto rp = self->make_response_promise<std::string>();
      auto now = unix_now();
      self->request(self->state.reader, std::chrono::seconds(10), summary_atom::value, now)
        .then(
          [self, rp, now](summary_sql_data& data) mutable {
            self->request(self->state.alerts, std::chrono::seconds(5), caf::get_atom::value,
                          active_atom::value)
              .then(
                [self, rp, now, data](const alert_events& active) mutable {
                  rp.deliver(render_summary(self->state.latest, data, now, active,
                                            self->state.recent_optimizations));
                },
                [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](raw_atom, const std::string& metric) { return self->state.buffer.raw(metric); },
    [self](caf::flush_atom) -> caf::result<bool> {
      auto rp = self->make_response_promise<bool>();
      stash(self->state, self->state.buffer.take_dirty(unix_now()));
      write_unsent(self, [rp](bool ok) mutable { rp.deliver(ok); });
      return rp;
    },
    [self](compact_atom) -> uint64_t { return self->state.buffer.compact(); },
    [self](caf::put_atom, optimize_atom, boost::json::array& entries) {
      self->state.recent_optimizations = std::move(entries);
    },
    [self](caf::tick_atom) {
      flush(self);
      self->delayed_send(self, self->state.flush_interval, caf::tick_atom::value);
    },
  };
}

} // namespace medianest
