#include "actors/optimization_supervisor.hpp"

#include <algorithm>

#include <caf/actor_system.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "model/json.hpp"

namespace medianest {

namespace {

using self_ptr = optimization_supervisor_actor::stateful_pointer<optimization_supervisor_state>;
using run_key = std::pair<std::string, optimization_type>;

/// The after-window closes a little after its end, so that its last sample has arrived.
constexpr auto measure_margin = std::chrono::milliseconds(1'500);
constexpr uint64_t runs_loaded_at_start = max_runs_in_memory;

int64_t unix_ms(sys_ms t) {
  return t.time_since_epoch().count();
}

optimization_run* find_run(optimization_supervisor_state& st, const std::string& id) {
  auto it = std::find_if(st.runs.begin(), st.runs.end(),
                         [&](const optimization_run& r) { return r.id == id; });
  return it == st.runs.end() ? nullptr : &*it;
}

type_result* find_result(optimization_run& run, optimization_type type) {
  auto it = std::find_if(run.results.begin(), run.results.end(),
                         [&](const type_result& r) { return r.type == type; });
  return it == run.results.end() ? nullptr : &*it;
}

/// Stores the run's new state and tells the listeners.
void save(self_ptr self, const optimization_run& run) {
  if (self->state.db)
    self->send(self->state.db, caf::put_atom::value, run);
  for (const auto& listener : self->state.listeners)
    caf::anon_send(listener, optimize_atom::value, run);
}

void publish_recent(self_ptr self) {
  auto& st = self->state;
  if (!st.store)
    return;
  auto entries = recent_optimization_entries({st.runs.begin(), st.runs.end()});
  if (entries.size() > max_recent_entries)
    entries.resize(max_recent_entries);
  self->send(st.store, caf::put_atom::value, optimize_atom::value, std::move(entries));
}

/// Drops the oldest finished runs past the bound (they stay in SQL).
void trim_runs(optimization_supervisor_state& st) {
  for (auto it = st.runs.end(); st.runs.size() > max_runs_in_memory && it != st.runs.begin();) {
    --it;
    if (is_done(it->status))
      it = st.runs.erase(it);
  }
}

void release(optimization_supervisor_state& st, const std::string& id, optimization_type type) {
  auto it = st.running.find(type);
  if (it != st.running.end() && it->second == id)
    st.running.erase(it);
  st.measuring.erase({id, type});
}

/// Completes the run once every type is done: status, completion time, SQL, /summary.
void settle(self_ptr self, optimization_run& run) {
  auto status = overall_status(run.results);
  if (!is_done(status)) {
    run.status = run_status::running;
    save(self, run);
    return;
  }
  run.status = status;
  run.completed_at = now_ms();
  self->state.before.erase(run.id);
  spdlog::info("optimization {} {} after {} ms", run.id, status_name(status),
               (*run.completed_at - run.started_at).count());
  save(self, run);
  trim_runs(self->state);
  publish_recent(self);
}

void fail_type(self_ptr self, optimization_run& run, type_result& result, std::string message) {
  spdlog::warn("optimization {} {} failed: {}", run.id, type_name(result.type), message);
  result.status = run_status::failed;
  result.error_code = std::string{code_name(errc::optimization_failed)};
  result.error_message = std::move(message);
  release(self->state, run.id, result.type);
  settle(self, run);
}

void start_worker(self_ptr self, const optimization_run& run, optimization_type type) {
  auto& st = self->state;
  optimization_job job;
  job.run_id = run.id;
  job.type = type;
  job.aggressive = run.aggressive;
  job.context = st.context;
  job.supervisor = caf::actor_cast<caf::actor>(self);
  job.usage_baseline = st.usage_baseline;
  job.cache_baseline = st.cache_baseline;
  job.database = st.database;
  auto worker = st.spawn_worker(self->system(), std::move(job));
  st.workers[worker.address()] = {run.id, type};
  st.running[type] = run.id;
  self->monitor(worker);
  self->delayed_send(self, st.settings.timeout, timeout_atom::value, run.id, type);
}

std::string start_run(self_ptr self, const optimize_request& req, std::string trigger,
                      std::string triggered_by) {
  auto& st = self->state;
  optimization_run run;
  run.id = make_optimization_id();
  run.status = run_status::running;
  run.trigger = std::move(trigger);
  run.triggered_by = std::move(triggered_by);
  run.aggressive = req.aggressive;
  run.started_at = now_ms();
  for (auto type : req.types) {
    type_result r;
    r.type = type;
    r.status = run_status::running;
    run.results.push_back(std::move(r));
  }
  auto window = st.settings.window.count();
  st.before[run.id] =
    measure_window(st.points, unix_ms(run.started_at) - window, unix_ms(run.started_at));
  st.runs.push_front(run);
  for (auto type : req.types)
    start_worker(self, run, type);
  save(self, run);
  std::vector<optimization_run> history{st.runs.begin(), st.runs.end()};
  auto estimate = estimated_duration_seconds(req.types, past_mean_seconds(history),
                                             static_cast<double>(window) / 1000.0);
  spdlog::info("optimization {} started ({}): {} types, aggressive {}", run.id, run.trigger,
               req.types.size(), req.aggressive);
  return to_json(started_json(run, estimate));
}

/// The work of one type is over: a failure is final; a success is final too unless the type
/// measures the traffic after it, which closes one window later.
void on_outcome(self_ptr self, const std::string& id, optimization_type type,
                worker_outcome& outcome) {
  auto& st = self->state;
  auto* run = find_run(st, id);
  auto* result = run ? find_result(*run, type) : nullptr;
  if (!result || is_done(result->status) || st.measuring.count({id, type})) {
    spdlog::info("optimization {} {}: a late result ignored (the type already ended)", id,
                 type_name(type));
    return;
  }
  result->seconds = outcome.result.seconds;
  result->actions = std::move(outcome.result.actions);
  result->improvements = std::move(outcome.result.improvements);
  if (outcome.result.status == run_status::failed)
    return fail_type(self, *run, *result, std::move(outcome.result.error_message));
  if (type == optimization_type::cache_strategy) {
    st.usage_baseline = std::move(outcome.usage);
    st.cache_baseline = outcome.cache;
  }
  if (!measures_window(type)) {
    result->status = run_status::completed;
    release(st, id, type);
    return settle(self, *run);
  }
  st.measuring[{id, type}] = unix_ms(now_ms());
  self->delayed_send(self, st.settings.window + measure_margin, measure_atom::value, id, type);
  save(self, *run); // the actions are visible while the window runs
}

void on_measured(self_ptr self, const std::string& id, optimization_type type) {
  auto& st = self->state;
  auto it = st.measuring.find({id, type});
  auto* run = find_run(st, id);
  auto* result = run ? find_result(*run, type) : nullptr;
  if (it == st.measuring.end() || !result)
    return;
  auto done_at = it->second;
  auto after = measure_window(st.points, done_at, done_at + st.settings.window.count());
  auto before = st.before[id];
  result->improvements.insert(result->improvements.begin(),
                              compare_latency("responseTime", before.latency, after.latency));
  if (type == optimization_type::cache_strategy)
    result->improvements.insert(result->improvements.begin() + 1,
                                compare_ratio("cacheHitRate", before.hit_ratio, after.hit_ratio));
  result->status = run_status::completed;
  release(st, id, type);
  settle(self, *run);
}

void on_timeout(self_ptr self, const std::string& id, optimization_type type) {
  auto& st = self->state;
  auto* run = find_run(st, id);
  auto* result = run ? find_result(*run, type) : nullptr;
  if (!result || is_done(result->status) || st.measuring.count({id, type}))
    return;
  for (const auto& [addr, job] : st.workers)
    if (job == run_key{id, type})
      self->send_exit(addr, caf::exit_reason::kill);
  fail_type(self, *run, *result,
            fmt::format("timed out after {:g} s (--optimization-timeout)",
                        static_cast<double>(st.settings.timeout.count()) / 1000.0));
}

void on_worker_down(self_ptr self, const caf::down_msg& dm) {
  auto& st = self->state;
  auto it = st.workers.find(dm.source);
  if (it == st.workers.end())
    return;
  auto [id, type] = it->second;
  st.workers.erase(it);
  auto* run = find_run(st, id);
  auto* result = run ? find_result(*run, type) : nullptr;
  if (!result || is_done(result->status) || st.measuring.count({id, type}))
    return; // its outcome arrived first
  fail_type(self, *run, *result,
            "the worker stopped without a result: " + caf::to_string(dm.reason));
}

/// Keeps the traffic of each new api and cache sample, and the latest database sample.
void on_snapshot(self_ptr self, const snapshot& s) {
  auto& st = self->state;
  if (s.api.available() && s.api.updated != st.api_seen) {
    st.api_seen = s.api.updated;
    const auto& api = *s.api.value;
    st.points.push_back({unix_ms(s.api.updated), api.interval_requests,
                         api.interval_latency.sum(), 0, 0});
  }
  if (s.cache.available() && s.cache.updated != st.cache_seen) {
    st.cache_seen = s.cache.updated;
    const auto& c = *s.cache.value;
    st.points.push_back({unix_ms(s.cache.updated), 0, 0, c.gets,
                         c.hit_rate * static_cast<double>(c.gets)});
  }
  if (s.database.available())
    st.database = s.database.value;
  // Kept: one window before now (the next run's "before") and every after-window still open.
  auto horizon = unix_ms(now_ms()) - st.settings.window.count() - 10'000;
  for (const auto& [key, done_at] : st.measuring)
    horizon = std::min(horizon, done_at - 1);
  while (!st.points.empty() && (st.points.front().at_ms < horizon || st.points.size() > 100'000))
    st.points.pop_front();
}

void on_alert(self_ptr self, const alert_event& e) {
  auto& st = self->state;
  if (e.state != "firing")
    return;
  auto type = optimization_for_alert(e.metric);
  if (!type)
    return;
  if (!st.settings.automatic) {
    spdlog::debug("alert {} ({}) could start {}, but automatic optimizations are off", e.id,
                  e.metric, type_name(*type));
    return;
  }
  if (auto it = st.running.find(*type); it != st.running.end()) {
    spdlog::info("alert {} ({}): {} is already running in {}", e.id, e.metric, type_name(*type),
                 it->second);
    return;
  }
  auto now = std::chrono::steady_clock::now();
  if (auto it = st.last_automatic.find(*type);
      it != st.last_automatic.end() && now - it->second < st.settings.cooldown) {
    spdlog::info("alert {} ({}): {} ran automatically {} s ago, within its cooldown", e.id,
                 e.metric, type_name(*type),
                 std::chrono::duration_cast<std::chrono::seconds>(now - it->second).count());
    return;
  }
  st.last_automatic[*type] = now;
  start_run(self, optimize_request{{*type}, false}, "automatic", e.id);
}

caf::error not_found(const std::string& id) {
  return to_caf_error({errc::not_found, "no optimization run '" + id + "'", {}, std::nullopt});
}

void load_runs(self_ptr self) {
  auto& st = self->state;
  if (!st.db)
    return;
  self->request(st.db, std::chrono::seconds(30), load_atom::value, runs_loaded_at_start)
    .then(
      [self](optimization_runs& loaded) {
        auto& st = self->state;
        for (auto& run : loaded)
          if (!find_run(st, run.id))
            st.runs.push_back(std::move(run));
        trim_runs(st);
        publish_recent(self);
        spdlog::info("{} optimization run(s) loaded", loaded.size());
      },
      [](const caf::error& err) {
        spdlog::warn("optimization runs not loaded: {}", from_caf_error(err).message);
      });
}

} // namespace

worker_factory default_worker_factory() {
  return [](caf::actor_system& sys, optimization_job job) {
    return sys.spawn(optimization_worker, std::move(job));
  };
}

optimization_supervisor_actor::behavior_type
optimization_supervisor(self_ptr self, optimization_settings settings,
                        std::shared_ptr<const optimization_context> context,
                        optimization_db_actor db, metrics_hub_actor hub,
                        timeseries_store_actor store, worker_factory spawn_worker) {
  auto& st = self->state;
  st.settings = settings;
  st.context = std::move(context);
  st.db = std::move(db);
  st.store = std::move(store);
  st.spawn_worker = spawn_worker ? std::move(spawn_worker) : default_worker_factory();
  self->set_down_handler([self](caf::down_msg& dm) {
    auto& xs = self->state.listeners;
    xs.erase(std::remove_if(xs.begin(), xs.end(),
                            [&](const caf::actor& a) { return a.address() == dm.source; }),
             xs.end());
    on_worker_down(self, dm);
  });
  if (hub)
    self->send(hub, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(self));
  load_runs(self);
  return {
    [self](optimize_atom, const std::string& body) -> caf::result<std::string> {
      auto parsed = parse_optimize_request(body);
      if (auto* err = std::get_if<api_error>(&parsed))
        return to_caf_error(*err);
      const auto& req = std::get<optimize_request>(parsed);
      for (auto type : req.types)
        if (auto it = self->state.running.find(type); it != self->state.running.end()) {
          boost::json::object details{{"type", type_name(type)}, {"optimizationId", it->second}};
          return to_caf_error({errc::conflict,
                               std::string{type_name(type)} + " is already running in "
                                 + it->second,
                               std::move(details), std::nullopt});
        }
      return start_run(self, req, "manual", "");
    },
    [self](caf::get_atom, optimize_atom, const std::string& id) -> caf::result<std::string> {
      if (auto* run = find_run(self->state, id))
        return to_json(run_json(*run));
      if (!self->state.db)
        return not_found(id);
      auto rp = self->make_response_promise<std::string>();
      self->request(self->state.db, std::chrono::seconds(10), caf::get_atom::value,
                    optimize_atom::value, id)
        .then(
          [rp, id](std::string& doc) mutable {
            if (doc.empty())
              rp.deliver(not_found(id));
            else
              rp.deliver(std::move(doc));
          },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
      return rp;
    },
    [self](caf::get_atom, optimize_atom, uint64_t limit) -> std::string {
      auto& runs = self->state.runs;
      auto n = std::min<size_t>(limit, runs.size());
      return to_json(runs_list_json({runs.begin(), runs.begin() + static_cast<ptrdiff_t>(n)}));
    },
    [self](const alert_event& e) { on_alert(self, e); },
    [self](snapshot_atom, const snapshot_ptr& snap) {
      if (snap)
        on_snapshot(self, *snap);
    },
    [self](optimize_atom, const std::string& id, optimization_type type, worker_outcome& out) {
      on_outcome(self, id, type, out);
    },
    [self](measure_atom, const std::string& id, optimization_type type) {
      on_measured(self, id, type);
    },
    [self](timeout_atom, const std::string& id, optimization_type type) {
      on_timeout(self, id, type);
    },
    [self](caf::subscribe_atom, caf::actor& listener) {
      self->monitor(listener);
      self->state.listeners.push_back(std::move(listener));
    },
  };
}

} // namespace medianest
