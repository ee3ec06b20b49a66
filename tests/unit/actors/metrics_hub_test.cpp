#include <catch2/catch.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <thread>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/metrics_hub.hpp"

using namespace medianest;
using namespace std::chrono_literals;

namespace {

/// A real actor system with one hub (publishing every 10 s: the test asks for snapshots).
struct hub_fixture {
  hub_fixture() : sys{cfg}, self{sys} {
    hub = sys.spawn(metrics_hub, std::chrono::milliseconds(10'000), snapshot_sink{});
  }

  ~hub_fixture() {
    caf::anon_send_exit(hub, caf::exit_reason::user_shutdown);
  }

  /// The snapshot once the hub has handled everything sent before (the hub refreshes its
  /// latest snapshot ~20 ms after a change).
  snapshot_ptr latest() {
    self->send(hub, caf::publish_atom::value);
    snapshot_ptr out;
    self->request(hub, caf::infinite, snapshot_atom::value)
      .receive([&](const snapshot_ptr& s) { out = s; },
               [&](caf::error& e) { FAIL(caf::to_string(e)); });
    return out;
  }

  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  metrics_hub_actor hub;
};

database_sample sqlite_sample() {
  database_sample s;
  s.backend = "sqlite";
  return s;
}

} // namespace

TEST_CASE("failing history writes show the database section unavailable until they succeed") {
  hub_fixture f;
  f.self->send(f.hub, sqlite_sample());
  REQUIRE(f.latest()->database.available());
  f.self->send(f.hub, history_writes_atom::value,
               std::string{"history writes failing (12 rows buffered): disk is full"});
  auto failing = f.latest();
  CHECK_FALSE(failing->database.available());
  CHECK(failing->database.error == "history writes failing (12 rows buffered): disk is full");
  auto since = failing->database.updated;
  // The collector keeps reading the database: its samples do not hide the write failure,
  // and the failure keeps the time it started.
  f.self->send(f.hub, sqlite_sample());
  auto still = f.latest();
  CHECK_FALSE(still->database.available());
  CHECK(still->database.updated == since);
  f.self->send(f.hub, history_writes_atom::value, std::string{});
  f.self->send(f.hub, sqlite_sample());
  auto back = f.latest();
  CHECK(back->database.available());
  CHECK(back->database.value->backend == "sqlite");
}

TEST_CASE("the database collector's own failure wins over failing history writes") {
  hub_fixture f;
  f.self->send(f.hub, history_writes_atom::value, std::string{"history writes failing: x"});
  f.self->send(f.hub, unavailable_atom::value, section_kind::database,
               std::string{"connection refused"});
  CHECK(f.latest()->database.error == "connection refused");
}

TEST_CASE("api intervals between two publications all reach the subscribers once") {
  hub_fixture f;
  f.self->send(f.hub, caf::subscribe_atom::value, caf::actor_cast<caf::actor>(f.self));
  auto api_of = [](std::initializer_list<uint64_t> micros, uint64_t errors) {
    api_sample s;
    for (auto us : micros)
      s.interval_latency.record(us);
    s.interval_requests = micros.size();
    s.interval_errors = errors;
    return s;
  };
  // What a subscriber (the time-series store) adds up: each api sample once, by its time.
  medianest::sys_ms seen{};
  uint64_t requests = 0, errors = 0, durations = 0, longest = 0;
  auto take_publications = [&](uint64_t until_requests) {
    f.self->send(f.hub, caf::tick_atom::value);
    while (requests < until_requests) {
      snapshot_ptr s;
      f.self->receive([&](snapshot_atom, const snapshot_ptr& x) { s = x; },
                      caf::after(5s) >> [] { FAIL("no publication"); });
      if (!s->api.value || s->api.updated == seen)
        continue; // the hub's own first tick may publish whenever it is first scheduled
      seen = s->api.updated;
      const auto& api = *s->api.value;
      requests += api.interval_requests;
      errors += api.interval_errors;
      durations += api.interval_latency.count();
      longest = std::max(longest, api.interval_latency.max());
    }
  };
  // Two samples within one publication interval: the first is not lost. (Samples are told
  // apart by their millisecond, as the collector's are, a sample interval apart.)
  f.self->send(f.hub, api_of({1000, 2000}, 1));
  std::this_thread::sleep_for(5ms);
  f.self->send(f.hub, api_of({4000}, 0));
  take_publications(3);
  CHECK(requests == 3);
  CHECK(errors == 1);
  CHECK(durations == 3);
  CHECK(longest >= 3990);
  // What was published is not carried again.
  std::this_thread::sleep_for(5ms);
  f.self->send(f.hub, api_of({500}, 0));
  take_publications(4);
  CHECK(requests == 4);
  CHECK(durations == 4);
  CHECK(errors == 1);
}
