#include "app/daemon.hpp"

#include <csignal>
#include <unistd.h>
#include <cstdio>
#include <chrono>
#include <system_error>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <spdlog/spdlog.h>

#include "actors/alert_evaluator.hpp"
#include "actors/alerts_db.hpp"
#include "actors/activity_counter.hpp"
#include "actors/api_collector.hpp"
#include "actors/live_publisher.hpp"
#include "actors/notification_channel.hpp"
#include "actors/optimization_db.hpp"
#include "actors/optimization_supervisor.hpp"
#include "actors/notification_dispatcher.hpp"
#include "actors/cache_collector.hpp"
#include "actors/database_collector.hpp"
#include "actors/gateway_collector.hpp"
#include "actors/resources_collector.hpp"
#include "actors/response_cache_actor.hpp"
#include "actors/system_collector.hpp"
#include "actors/timeseries_db.hpp"
#include "actors/timeseries_store.hpp"
#include "actors/atoms.hpp"
#include "actors/metrics_hub.hpp"
#include "app/logging.hpp"
#include "app/secret.hpp"
#include "app/version.hpp"
#include "http/api_routes.hpp"
#include "http/auth.hpp"
#include "http/gateway.hpp"
#include "http/live_feed.hpp"
#include "http/request_recorder.hpp"
#include "http/snapshot_view.hpp"
#include "http/server.hpp"

namespace medianest {

namespace {

bool ensure_data_dir(const std::filesystem::path& dir, std::string& error) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) {
    error = "cannot create data directory " + dir.string() + ": " + ec.message();
    return false;
  }
  return true;
}

http::server_config server_config_of(const serve_config& cfg) {
  http::server_config out;
  out.host = cfg.host;
  out.port = cfg.port;
  out.threads = cfg.http_threads;
  out.max_connections = cfg.max_connections;
  out.auth_failures = cfg.auth_failures;
  out.header_timeout = cfg.header_timeout;
  out.idle_timeout = cfg.idle_timeout;
  out.shutdown_grace = cfg.shutdown_grace;
  return out;
}

/// The daemon's name in notifications: --instance, or the host name.
std::string instance_name(const serve_config& cfg) {
  if (!cfg.instance.empty())
    return cfg.instance;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  return host;
}

channel_settings channel_settings_of(const serve_config& cfg) {
  channel_settings out;
  out.instance = instance_name(cfg);
  out.smtp_url = cfg.smtp_url;
  out.smtp_from = cfg.smtp_from;
  out.retry_base = cfg.notify_retry_base;
  // A failing destination is probed again after a pause that grows with the retry base.
  out.breaker_cool_down = std::min<std::chrono::milliseconds>(cfg.notify_retry_base * 20,
                                                             std::chrono::seconds(30));
  return out;
}

optimization_settings optimization_settings_of(const serve_config& cfg) {
  optimization_settings out;
  out.window = cfg.optimization_window;
  out.timeout = cfg.optimization_timeout;
  out.automatic = cfg.auto_optimize;
  out.cooldown = cfg.auto_optimize_cooldown;
  return out;
}

/// What optimization workers may change: the database, the caches and, in gateway mode, the
/// gateway's response cache.
std::shared_ptr<const optimization_context>
optimization_context_of(const serve_config& cfg, const std::shared_ptr<http::gateway>& gw,
                        response_cache_actor cache, timeseries_store_actor store) {
  auto ctx = std::make_shared<optimization_context>();
  ctx->database = cfg.effective_database();
  ctx->retention = cfg.retention;
  ctx->redis = cfg.redis;
  ctx->cache = std::move(cache);
  ctx->store = std::move(store);
  if (gw) {
    auto& g = ctx->gateway;
    g.usage = [gw] { return gw->usage_by_route(); };
    g.rules = [gw] { return gw->cache_rules(); };
    g.set_ttl = [gw](const std::string& route, std::chrono::seconds ttl) {
      gw->set_cache_ttl(route, ttl);
    };
    g.counters = [gw] { return gw->cache_stats(); };
    g.resize = [gw](uint64_t bytes) { gw->resize_cache(bytes); };
    g.purge_expired = [gw] { return gw->purge_expired_cache(); };
    g.clear = [gw] { return gw->clear_cache(); };
  }
  return ctx;
}

live_sink live_sink_of(const std::shared_ptr<http::live_feed>& feed) {
  live_sink out;
  out.has_clients = [feed] { return feed->has_clients(); };
  out.publish_metrics = [feed](auto admin, auto user) {
    feed->publish_metrics(std::move(admin), std::move(user));
  };
  out.publish_event = [feed](auto frame, bool admin_only) {
    feed->publish_event(std::move(frame), admin_only);
  };
  return out;
}

/// Writes the store's pending roll-ups before the actors stop (bounded wait).
/// The hub publishes its first snapshot as it starts. Listening only once it has means that a
/// client that finds the port open (a health check, a first scrape) is never answered "the
/// first snapshot is not ready yet". The main thread waits, not an actor or HTTP thread; a hub
/// that does not publish in time does not keep the other endpoints from being served.
void await_first_snapshot(const http::snapshot_view& view, std::chrono::milliseconds limit) {
  auto until = std::chrono::steady_clock::now() + limit;
  while (!view.latest() && std::chrono::steady_clock::now() < until)
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (!view.latest())
    spdlog::warn("no metrics snapshot after {} ms; listening anyway", limit.count());
}

void flush_history(caf::actor_system& system, const timeseries_store_actor& store) {
  caf::scoped_actor self{system};
  self->request(store, std::chrono::seconds(5), caf::flush_atom::value)
    .receive(
      [](bool ok) {
        if (ok)
          spdlog::info("history flushed");
        else
          spdlog::error("history flush failed: the samples since the last flush are lost");
      },
             [](const caf::error& err) {
               spdlog::warn("history flush did not complete: {}", from_caf_error(err).message);
             });
}

/// The actors of a running daemon: every handle (to stop them) and the store (to flush it).
struct running_actors {
  std::vector<caf::actor> all;
  timeseries_store_actor store;
};

/// Spawns every actor of DESIGN.md's map and connects the HTTP services to them.
running_actors spawn_actors(caf::actor_system& system, const serve_config& cfg,
                            http::http_server& server,
                            const std::shared_ptr<http::snapshot_view>& view,
                            const std::shared_ptr<http::request_recorder>& recorder,
                            const std::shared_ptr<http::live_feed>& live,
                            http::api_services& services) {
  std::vector<caf::actor> actors;
  auto hub = system.spawn(metrics_hub, cfg.sample_interval,
                          [view](snapshot_ptr s) { view->publish(std::move(s)); });
  actors.push_back(caf::actor_cast<caf::actor>(hub));
  auto http_connections = [&server, live] {
    return uint64_t{server.active_connections()} + (live ? live->clients() : 0);
  };
  auto keep = [&actors](auto handle) {
    actors.push_back(caf::actor_cast<caf::actor>(handle));
    return handle;
  };
  auto cache = keep(system.spawn(response_cache_actor_impl, cfg.cache_bytes,
                                 std::chrono::milliseconds(10'000)));
  keep(system.spawn(api_collector, hub, recorder, http_connections, cfg.sample_interval));
  keep(system.spawn<caf::detached>(system_collector, hub, std::filesystem::absolute(cfg.data_dir),
                                   cfg.sample_interval));
  keep(system.spawn<caf::detached>(resources_collector, hub, cfg.watch_processes,
                                   connection_gauges{http_connections, nullptr},
                                   cfg.sample_interval));
  std::function<cache_counters()> gateway_cache;
  if (auto gw = server.gateway_handle()) {
    gateway_cache = [gw] { return gw->cache_stats(); };
    keep(system.spawn(gateway_collector, hub, [gw] { return gw->stats(); }, cfg.sample_interval));
  }
  keep(system.spawn<caf::detached>(cache_collector, hub, cfg.redis, cache, gateway_cache,
                                   cfg.sample_interval));
  // SQL sessions: the database collector's, the time-series writer's and reader's, the alerts'.
  constexpr uint64_t sql_pool_size = 4;
  auto db_collector = keep(system.spawn<caf::detached>(
    database_collector, hub, cfg.effective_database(), sql_pool_size, cfg.slow_query,
    cfg.sample_interval));
  // Roll-ups are owned by an --instance given explicitly, not by the host name, which changes
  // whenever a container is recreated: a lone daemon's history would seem to vanish.
  auto ts_db = keep(system.spawn<caf::detached>(timeseries_db, cfg.effective_database(),
                                                cfg.instance, cfg.retention, db_collector,
                                                cfg.slow_query, true));
  auto ts_reader = keep(system.spawn<caf::detached>(timeseries_db, cfg.effective_database(),
                                                    cfg.instance, cfg.retention, db_collector,
                                                    cfg.slow_query, false));
  auto alerts_store = keep(system.spawn<caf::detached>(alerts_db, cfg.effective_database(),
                                                       db_collector));
  auto counter = keep(system.spawn(activity_counter, [view](std::vector<metric_family> fs) {
    view->set_prometheus_families("activity", std::move(fs));
  }));
  auto channels = channel_settings_of(cfg);
  auto channel = [&](channel_kind kind) {
    return keep(system.spawn<caf::detached>(notification_channel, kind, channels, alerts_store,
                                            counter));
  };
  auto dispatcher = keep(system.spawn(notification_dispatcher, channel(channel_kind::webhook),
                                      channel(channel_kind::discord),
                                      channel(channel_kind::email)));
  // Daemons may share a PostgreSQL, and with it the alert configuration: each applies the
  // others' PUT /alerts within this period. A SQLite file is this daemon's alone.
  auto shared_config_poll = cfg.effective_database().backend == database_target::kind::postgresql
                              ? std::chrono::milliseconds(5000)
                              : std::chrono::milliseconds(0);
  auto evaluator = keep(system.spawn(alert_evaluator, hub, alerts_store, dispatcher,
                                     cfg.discord_webhook, shared_config_poll));
  auto store = keep(system.spawn(timeseries_store, hub, ts_db, ts_reader, cache, evaluator,
                                 cfg.flush_interval, cfg.history_cache_ttl));
  auto supervisor = keep(system.spawn(
    optimization_supervisor, optimization_settings_of(cfg),
    optimization_context_of(cfg, server.gateway_handle(), cache, store),
    keep(system.spawn<caf::detached>(optimization_db, cfg.effective_database(), db_collector)),
    hub, store, worker_factory{}));
  // Firing alerts may start optimizations; both are counted for /prometheus.
  caf::anon_send(evaluator, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(supervisor));
  caf::anon_send(evaluator, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(counter));
  caf::anon_send(supervisor, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(counter));
  if (live)
    keep(system.spawn(live_publisher, live_sink_of(live), hub, evaluator, supervisor));
  services.store = store;
  services.optimizer = supervisor;
  services.alerts = evaluator;
  services.alerts_db = alerts_store;
  services.system = &system;
  return {std::move(actors), store};

}

} // namespace

int run_daemon(const serve_config& cfg) {
  // A peer that went away must be an error code on write, not the end of the process.
  std::signal(SIGPIPE, SIG_IGN);
  auto access_log = configure_logging(cfg.log_level, cfg.log_format, cfg.access_log);
  spdlog::info("medianest-perf {} starting", version);
  std::string error;
  if (!ensure_data_dir(cfg.data_dir, error)) {
    spdlog::critical("{}", error);
    return 1;
  }
  auto secret = load_or_create_secret(cfg.data_dir, error);
  if (!secret) {
    spdlog::critical("{}", error);
    return 1;
  }

  caf::actor_system_config actor_cfg;
  actor_cfg.add_message_types<caf::id_block::medianest>();
  actor_cfg.set("scheduler.max-threads", static_cast<size_t>(cfg.actor_threads));
  // The actors handle a few messages a second: an idle scheduler thread goes to sleep on its
  // condition variable (woken by the next message) instead of CAF's default of polling for
  // ~25 ms after each job, which took CPU from the HTTP threads and made their p99 worse.
  // A sleeping worker still wakes every relaxed-sleep-duration to steal from a busy one;
  // no job of ours runs long enough to need that often (blocking work is in detached
  // actors), and at CAF's 10 ms or our former 100 ms the two workers' timed wake-ups were a
  // third of the idle daemon's context switches.
  actor_cfg.set("work-stealing.aggressive-poll-attempts", size_t{1});
  actor_cfg.set("work-stealing.moderate-poll-attempts", size_t{1});
  actor_cfg.set("work-stealing.relaxed-sleep-duration",
                caf::timespan{std::chrono::milliseconds(500)});
  caf::actor_system system{actor_cfg};

  auto view = std::make_shared<http::snapshot_view>();
  auto services = std::make_shared<http::api_services>();
  services->snapshots = view;
  services->prometheus_public = cfg.prometheus_public;
  http::http_server server{server_config_of(cfg), http::make_api_router(services),
                           std::make_shared<http::jwt_verifier>(*secret), access_log};
  if (!cfg.gateway.upstream.url.empty()) {
    server.enable_gateway(cfg.gateway, cfg.cache_bytes, cfg.redis);
    spdlog::info("gateway mode: proxying to {} ({} connections, {} cached routes, rate limit {})",
                 cfg.gateway.upstream.url, cfg.gateway.max_connections,
                 cfg.gateway.cache_rules.size(),
                 cfg.gateway.rate.limit ? std::to_string(cfg.gateway.rate.limit) + "/"
                                            + std::to_string(cfg.gateway.rate.window.count()) + "s"
                                        : std::string{"off"});
  }
  auto recorder = std::make_shared<http::request_recorder>();
  server.on_request([recorder](const request_record& r) { recorder->record(r); });

  http::live_feed_config live_cfg;
  live_cfg.max_clients = cfg.live_max_clients;
  live_cfg.allowed_origins = cfg.live_origins;
  live_cfg.write_timeout = cfg.live_write_timeout;
  auto live = server.enable_live_feed(std::string{http::api_prefix} + "/live", live_cfg);
  auto running = spawn_actors(system, cfg, server, view, recorder, live, *services);
  await_first_snapshot(*view, std::chrono::seconds(2));
  auto stop_actors = [&running] {
    for (const auto& a : running.all)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  };

  std::error_code ec;
  auto port = server.listen(ec);
  if (ec) {
    spdlog::critical("cannot listen on {}:{}: {}", cfg.host, cfg.port, ec.message());
    stop_actors();
    return 1;
  }
  spdlog::info("listening on http://{}:{} (data dir {})", cfg.host, port, cfg.data_dir.string());
  server.run();

  spdlog::info("HTTP stopped; writing pending history");
  flush_history(system, running.store);
  stop_actors();
  system.await_all_actors_done();
  spdlog::info("shutdown complete");
  return 0;
}

int run_token(const token_config& cfg) {
  std::string error;
  if (!ensure_data_dir(cfg.data_dir, error)) {
    std::fprintf(stderr, "medianest-perf: %s\n", error.c_str());
    return 1;
  }
  auto secret = load_or_create_secret(cfg.data_dir, error);
  if (!secret) {
    std::fprintf(stderr, "medianest-perf: %s\n", error.c_str());
    return 1;
  }
  auto now = std::chrono::duration_cast<std::chrono::seconds>(
               std::chrono::system_clock::now().time_since_epoch())
               .count();
  http::claims c;
  c.role = cfg.role;
  c.subject = cfg.subject.empty() ? (cfg.role == http::role::admin ? "admin" : "user")
                                  : cfg.subject;
  c.expires_at = now + cfg.ttl_seconds;
  std::printf("%s\n", http::mint_token(*secret, c, now).c_str());
  return 0;
}

} // namespace medianest
