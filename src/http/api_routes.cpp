#include "http/api_routes.hpp"

#include <cmath>

#include "model/json.hpp"
#include <boost/json/value.hpp>

#include "app/version.hpp"
#include "http/actor_bridge.hpp"
#include "model/history.hpp"
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

using body_of = std::string snapshot_view::rendered::*;

/// Serves a pre-rendered body of the latest snapshot: no actor round trip, no rendering.
handler latest_snapshot(std::shared_ptr<const api_services> services, body_of body) {
  return [services, body](request_context, responder done) {
    auto latest = services->snapshots ? services->snapshots->latest() : nullptr;
    if (!latest) {
      done(http_response::error(
        {errc::resource_exhausted, "the first snapshot is not ready yet", {}, 1u}));
      return;
    }
    http_response res;
    res.body = (*latest).*body;
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

/// Answers 501 for an endpoint whose capability has not landed yet, naming the issue.
handler not_yet(std::string what) {
  return [what = std::move(what)](request_context ctx, responder done) {
    api_error err{errc::not_implemented, ctx.route + " is not implemented yet: " + what, {},
                  std::nullopt};
    done(http_response::error(err));
  };
}

} // namespace

std::shared_ptr<const router> make_api_router(std::shared_ptr<const api_services> services) {
  auto r = std::make_shared<router>();
  r->add("GET", "/health", access::open, health(services));
  r->add("GET", api("/metrics"), access::admin,
         latest_snapshot(services, &snapshot_view::rendered::metrics_body));
  r->add("GET", api("/resources"), access::admin,
         latest_snapshot(services, &snapshot_view::rendered::resources_body));
  r->add("GET", api("/summary"), access::user, summary(services));
  r->add("GET", api("/history"), access::admin, history(services));
  r->add("GET", api("/alerts"), access::admin, not_yet("alerts"));
  r->add("PUT", api("/alerts"), access::admin, not_yet("alerts"));
  r->add("POST", api("/optimize"), access::admin, not_yet("optimization supervisor"));
  r->add("GET", api("/optimize/:id"), access::admin, not_yet("optimization supervisor"));
  r->add("GET", api("/prometheus"), access::admin, not_yet("prometheus export"));
  r->add("GET", api("/live"), access::user, not_yet("live feed"));
  return r;
}

} // namespace medianest::http
