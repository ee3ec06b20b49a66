#include "http/api_routes.hpp"

#include <cmath>

#include "model/json.hpp"
#include <boost/json/value.hpp>

#include "app/version.hpp"
#include "http/actor_bridge.hpp"
#include "http/dashboard_endpoint.hpp"
#include "http/openapi_endpoint.hpp"
#include "http/prometheus_endpoint.hpp"
#include "model/history.hpp"
#include "model/query_string.hpp"

#include "model/time.hpp"

namespace medianest::http {

namespace {

std::string api(std::string_view suffix) {
  return std::string{api_prefix} + std::string{suffix};
}

handler health(std::shared_ptr<const api_services> services) {
  return [services](request_context, responder done) {
    auto uptime = std::chrono::duration<double>(std::chrono::steady_clock::now()
                                                - services->started)
                    .count();
    boost::json::object data;
    data["status"] = "ok";
    data["version"] = version;
    data["uptime"] = std::round(uptime * 1000) / 1000;
    data["timestamp"] = iso8601(now_ms());
    done(http_response::ok(to_json(data)));
  };
}

/// Serves a body of the latest snapshot: no actor round trip, rendered once per snapshot.
handler latest_snapshot(std::shared_ptr<const api_services> services, snapshot_view::body body) {
  return [services, body](request_context, responder done) {
    auto latest = services->snapshots ? services->snapshots->latest() : nullptr;
    if (!latest) {
      done(http_response::error(
        {errc::resource_exhausted, "the first snapshot is not ready yet", {}, 1u}));
      return;
    }
    http_response res;
    res.body = latest->get(body);
    done(std::move(res));
  };
}

/// GET /history: validates the query, then asks the store.
handler history(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    auto parsed = parse_history_query(ctx.request.query);
    if (auto* err = std::get_if<api_error>(&parsed)) {
      done(http_response::error(*err));
      return;
    }
    ask_json(*services->system, services->store, std::chrono::seconds(15), std::move(done),
             history_atom::value, std::get<history_query>(std::move(parsed)));
  };
}

/// GET /summary: asks the store.
handler summary(std::shared_ptr<const api_services> services) {
  return [services](request_context, responder done) {
    ask_json(*services->system, services->store, std::chrono::seconds(15), std::move(done),
             summary_atom::value);
  };
}

handler alert_config_get(std::shared_ptr<const api_services> services) {
  return [services](request_context, responder done) {
    ask_json(*services->system, services->alerts, std::chrono::seconds(5), std::move(done),
             caf::get_atom::value, alert_config_atom::value);
  };
}

handler alert_config_put(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    ask_json(*services->system, services->alerts, std::chrono::seconds(15), std::move(done),
             caf::put_atom::value, alert_config_atom::value, std::move(ctx.request.body));
  };
}

/// GET /alerts/events?limit=N: the alert log, newest first.
handler alert_log(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    auto limit = parse_int_param(ctx.request.query, "limit", 100, 1000);
    if (auto* err = std::get_if<api_error>(&limit))
      return done(http_response::error(*err));
    ask_json(*services->system, services->alerts_db, std::chrono::seconds(10), std::move(done),
             caf::get_atom::value, alert_log_atom::value, int64_t{0},
             static_cast<uint64_t>(std::get<int64_t>(limit)));
  };
}

/// GET /alerts/deliveries?limit=N: every notification attempt, newest first.
handler delivery_log(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    auto limit = parse_int_param(ctx.request.query, "limit", 100, 1000);
    if (auto* err = std::get_if<api_error>(&limit))
      return done(http_response::error(*err));
    ask_json(*services->system, services->alerts_db, std::chrono::seconds(10), std::move(done),
             caf::get_atom::value, delivery_atom::value,
             static_cast<uint64_t>(std::get<int64_t>(limit)));
  };
}

/// POST /optimize: the supervisor validates and starts.
handler optimize_start(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    ask_json(*services->system, services->optimizer, std::chrono::seconds(10), std::move(done),
             optimize_atom::value, std::move(ctx.request.body));
  };
}

/// GET /optimize/{id}.
handler optimize_status(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    ask_json(*services->system, services->optimizer, std::chrono::seconds(10), std::move(done),
             caf::get_atom::value, optimize_atom::value, std::string{ctx.param("id")});
  };
}

/// GET /optimize?limit=N: the newest runs first.
handler optimize_list(std::shared_ptr<const api_services> services) {
  return [services](request_context ctx, responder done) {
    auto limit = parse_int_param(ctx.request.query, "limit", 20, 100);
    if (auto* err = std::get_if<api_error>(&limit))
      return done(http_response::error(*err));
    ask_json(*services->system, services->optimizer, std::chrono::seconds(10), std::move(done),
             caf::get_atom::value, optimize_atom::value,
             static_cast<uint64_t>(std::get<int64_t>(limit)));
  };
}

/// GET /live without a WebSocket upgrade (upgrades never reach the router: see
/// http_session::upgrade_to_live).
handler live_without_upgrade() {
  return [](request_context, responder done) {
    done(http_response::error(validation_error(
      "Upgrade", "the live feed is a WebSocket: connect with Upgrade: websocket (docs/live.md)")));
  };
}

} // namespace

std::shared_ptr<const router> make_api_router(std::shared_ptr<const api_services> services) {
  auto r = std::make_shared<router>();
  r->add("GET", "/health", access::open, health(services));
  r->add("GET", api("/metrics"), access::admin,
         latest_snapshot(services, snapshot_view::body::metrics));
  r->add("GET", api("/resources"), access::admin,
         latest_snapshot(services, snapshot_view::body::resources));
  r->add("GET", api("/summary"), access::user, summary(services));
  r->add("GET", api("/history"), access::admin, history(services));
  r->add("GET", api("/alerts"), access::admin, alert_config_get(services));
  r->add("PUT", api("/alerts"), access::admin, alert_config_put(services));
  r->add("GET", api("/alerts/events"), access::admin, alert_log(services));
  r->add("GET", api("/alerts/deliveries"), access::admin, delivery_log(services));
  r->add("POST", api("/optimize"), access::admin, optimize_start(services));
  r->add("GET", api("/optimize"), access::admin, optimize_list(services));
  r->add("GET", api("/optimize/:id"), access::admin, optimize_status(services));
  r->add("GET", api("/prometheus"), services->prometheus_public ? access::open : access::admin,
         prometheus_endpoint(services));
  r->add("GET", api("/live"), access::user, live_without_upgrade());
  r->add("GET", "/dashboard", access::open, dashboard_page());
  r->add("GET", "/dashboard/:file", access::open, dashboard_file());
  r->add("GET", api("/openapi.yaml"), access::open, openapi_endpoint());
  return r;
}

} // namespace medianest::http
