#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include <boost/json.hpp>
#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/blocking_actor.hpp>
#include <caf/exit_reason.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "actors/atoms.hpp"
#include "actors/interfaces.hpp"
#include "actors/optimization_db.hpp"
#include "actors/optimization_supervisor.hpp"
#include "actors/optimization_worker.hpp"
#include "model/alerts.hpp"
#include "model/error.hpp"
#include "model/optimization.hpp"
#include "model/time.hpp"
#include "sources/optimization_sql.hpp"
#include "unit/sources/sql_test_databases.hpp"

using namespace medianest;
using namespace std::chrono_literals;
namespace json = boost::json;

namespace {

using clock_type = std::chrono::steady_clock;

// -- scripted workers -------------------------------------------------------------------------

/// What a test worker does with its job.
enum class worker_mode {
  succeed,         ///< sends a completed outcome at once
  report_failure,  ///< sends a failed outcome at once
  throw_exception, ///< throws out of the actor body
  quit_silently,   ///< returns without sending anything
  hang,            ///< sleeps `hang_for`, then sends a (late) completed outcome
  block,           ///< waits until released (or 20 s), then returns without sending anything
};

/// The action a succeeding worker reports, and the one a hanging worker reports too late.
std::string action_of(optimization_type type) {
  return "test worker did " + std::string{type_name(type)};
}
const std::string late_action = "late result of a worker that hung";
const std::string reported_failure = "the test worker reports a failure";

/// How the test's workers behave, per type, shared by the factory and every worker (which run
/// on threads of their own).
struct worker_script {
  std::mutex mutex;
  std::map<optimization_type, worker_mode> modes; ///< succeed when not listed
  std::vector<optimization_job> jobs;             ///< every job handed out, in order
  std::chrono::milliseconds hang_for{1500};
  std::atomic<bool> release{false};
  std::atomic<int> finished{0}; ///< worker bodies that returned after sending what they send

  void set(optimization_type type, worker_mode mode) {
    std::lock_guard guard{mutex};
    modes[type] = mode;
  }

  worker_mode take(const optimization_job& job) {
    std::lock_guard guard{mutex};
    jobs.push_back(job);
    auto it = modes.find(job.type);
    return it == modes.end() ? worker_mode::succeed : it->second;
  }

  size_t spawned() {
    std::lock_guard guard{mutex};
    return jobs.size();
  }

  std::vector<optimization_job> jobs_of(optimization_type type) {
    std::lock_guard guard{mutex};
    std::vector<optimization_job> out;
    for (const auto& j : jobs)
      if (j.type == type)
        out.push_back(j);
    return out;
  }
};

worker_outcome completed_outcome(const optimization_job& job, std::string action) {
  worker_outcome out;
  out.result.type = job.type;
  out.result.status = run_status::completed;
  out.result.actions = {std::move(action)};
  out.result.seconds = 0.25;
  if (job.type == optimization_type::memory_cleanup)
    out.result.improvements.push_back({"memoryUsage", std::string{"-1MB"}, ""});
  if (job.type == optimization_type::cache_strategy) {
    out.usage = {{"/probe/:id", 42, 4'200'000, 40, 2}};
    out.cache.hits = 7;
    out.cache.misses = 3;
  }
  return out;
}

void scripted_worker(caf::blocking_actor* self, optimization_job job,
                     std::shared_ptr<worker_script> script, worker_mode mode) {
  struct count_finished {
    worker_script& s;
    ~count_finished() { ++s.finished; }
  } counted{*script};
  auto send = [&](worker_outcome out) {
    self->send(job.supervisor, optimize_atom::value, job.run_id, job.type, std::move(out));
  };
  switch (mode) {
    case worker_mode::succeed:
      send(completed_outcome(job, action_of(job.type)));
      return;
    case worker_mode::report_failure: {
      worker_outcome out;
      out.result.type = job.type;
      out.result.status = run_status::failed;
      out.result.error_code = std::string{code_name(errc::optimization_failed)};
      out.result.error_message = reported_failure;
      out.result.seconds = 0.01;
      send(std::move(out));
      return;
    }
    case worker_mode::throw_exception:
      throw std::runtime_error("the test worker threw");
    case worker_mode::quit_silently:
      return;
    case worker_mode::hang:
      std::this_thread::sleep_for(script->hang_for);
      send(completed_outcome(job, late_action));
      return;
    case worker_mode::block: {
      auto deadline = clock_type::now() + 20s;
      while (!script->release && clock_type::now() < deadline)
        std::this_thread::sleep_for(5ms);
      return;
    }
  }
}

worker_factory scripted_factory(std::shared_ptr<worker_script> script) {
  return [script](caf::actor_system& sys, optimization_job job) {
    auto mode = script->take(job);
    return sys.spawn<caf::detached>(scripted_worker, std::move(job), script, mode);
  };
}

// -- the fixture ------------------------------------------------------------------------------

/// Fast runs: a 200 ms measurement window, a generous timeout, a short cooldown.
optimization_settings quick_settings() {
  optimization_settings s;
  s.window = 200ms;
  s.timeout = 20s;
  s.automatic = true;
  s.cooldown = 600ms;
  return s;
}

caf::actor_system_config& with_medianest_types(caf::actor_system_config& cfg) {
  cfg.add_message_types<caf::id_block::medianest>();
  return cfg;
}

/// An actor's reply: the parsed JSON, or the error it answered with.
struct reply {
  std::optional<json::object> data;
  std::optional<api_error> error;
};

/// A real actor system with an optimization_db on a SQLite file of its own and the supervisor
/// (no hub, no store), whose workers follow `script`. Everything is stopped at the end; blocked
/// workers are released so that the system can shut down.
struct supervisor_fixture {
  explicit supervisor_fixture(optimization_settings s = quick_settings(), bool with_db = true)
    : settings{s}, sys{with_medianest_types(cfg)}, self{sys} {
    if (with_db)
      db = spawn_db();
    supervisor = spawn_supervisor(db);
  }

  ~supervisor_fixture() {
    script->release = true;
    for (const auto& a : started)
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  }

  supervisor_fixture(const supervisor_fixture&) = delete;
  supervisor_fixture& operator=(const supervisor_fixture&) = delete;

  optimization_db_actor spawn_db() {
    auto h = sys.spawn<caf::detached>(optimization_db, database.target(),
                                      database_collector_actor{});
    started.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  optimization_supervisor_actor spawn_supervisor(optimization_db_actor with) {
    auto h = sys.spawn(optimization_supervisor, settings, context, std::move(with),
                       metrics_hub_actor{}, timeseries_store_actor{}, scripted_factory(script));
    started.push_back(caf::actor_cast<caf::actor>(h));
    return h;
  }

  /// Stops an actor and waits until it is gone.
  template <class Handle>
  void stop(const Handle& h) {
    caf::anon_send_exit(h, caf::exit_reason::user_shutdown);
    self->wait_for(h);
  }

  template <class... Ts>
  reply ask(Ts&&... xs) {
    reply out;
    self->request(supervisor, 15s, std::forward<Ts>(xs)...)
      .receive(
        [&](std::string& text) {
          auto parsed = json::parse(text);
          REQUIRE(parsed.is_object());
          out.data = std::move(parsed.as_object());
        },
        [&](caf::error& err) { out.error = from_caf_error(err); });
    return out;
  }

  reply post(const std::string& body) {
    return ask(optimize_atom::value, body);
  }

  /// POSTs a body that must start a run; returns its id.
  std::string start(const std::string& body) {
    auto r = post(body);
    INFO(body << ": " << (r.error ? r.error->message : std::string{}));
    REQUIRE(r.data);
    return std::string{r.data->at("optimizationId").as_string()};
  }

  reply get(const std::string& id) {
    return ask(caf::get_atom::value, optimize_atom::value, id);
  }

  json::array list(uint64_t limit = 1000) {
    auto r = ask(caf::get_atom::value, optimize_atom::value, limit);
    REQUIRE(r.data);
    return r.data->at("optimizations").as_array();
  }

  /// Polls the run until `done` holds for it (at most `timeout`).
  json::object wait_for(const std::string& id, const std::function<bool(const json::object&)>& done,
                        std::chrono::milliseconds timeout = 15s) {
    auto deadline = clock_type::now() + timeout;
    for (;;) {
      auto r = get(id);
      if (r.data && done(*r.data))
        return *r.data;
      if (clock_type::now() > deadline) {
        FAIL("run " << id << " did not get there in time; last: "
                    << (r.data ? json::serialize(*r.data) : r.error->message));
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  /// Polls the run until it completed or failed.
  json::object wait_until_done(const std::string& id, std::chrono::milliseconds timeout = 15s) {
    return wait_for(
      id,
      [](const json::object& run) {
        auto status = run.at("status").as_string();
        return status == "completed" || status == "failed";
      },
      timeout);
  }

  medianest::test::sqlite_database database; // destroyed last: the db actor uses its file
  std::shared_ptr<worker_script> script = std::make_shared<worker_script>();
  std::shared_ptr<const optimization_context> context = std::make_shared<optimization_context>();
  optimization_settings settings;
  caf::actor_system_config cfg;
  caf::actor_system sys;
  caf::scoped_actor self;
  std::vector<caf::actor> started;
  optimization_db_actor db;
  optimization_supervisor_actor supervisor;
};

const json::object& result_of(const json::object& run, std::string_view type) {
  for (const auto& r : run.at("results").as_array())
    if (r.as_object().at("type").as_string() == type)
      return r.as_object();
  FAIL("no result of type " << type << " in " << json::serialize(run));
  throw std::logic_error("unreachable");
}

std::vector<std::string> actions_of(const json::object& result) {
  std::vector<std::string> out;
  for (const auto& a : result.at("actions").as_array())
    out.emplace_back(a.as_string());
  return out;
}

std::vector<std::string> ids_of(const json::array& runs) {
  std::vector<std::string> out;
  for (const auto& r : runs)
    out.emplace_back(r.as_object().at("optimizationId").as_string());
  return out;
}

bool contains(std::string_view text, std::string_view part) {
  return text.find(part) != std::string_view::npos;
}

/// The run is failed, and so is its one type, with OPTIMIZATION_FAILED and a message holding
/// `message_part`.
void check_failed(const json::object& run, std::string_view type, std::string_view message_part) {
  INFO(json::serialize(run));
  CHECK(run.at("status").as_string() == "failed");
  CHECK(run.at("completedAt").is_string());
  CHECK(run.at("duration").is_number());
  const auto& r = result_of(run, type);
  CHECK(r.at("status").as_string() == "failed");
  REQUIRE(r.contains("error"));
  const auto& error = r.at("error").as_object();
  CHECK(error.at("code").as_string() == "OPTIMIZATION_FAILED");
  std::string message{error.at("message").as_string()};
  CHECK_FALSE(message.empty());
  CHECK(contains(message, message_part));
}

/// After a failure the supervisor still starts and completes runs, of the same type too.
void check_still_serving(supervisor_fixture& f, optimization_type type) {
  f.script->set(type, worker_mode::succeed);
  auto id = f.start(R"({"optimizations":[")" + std::string{type_name(type)} + R"("]})");
  auto run = f.wait_until_done(id);
  INFO(json::serialize(run));
  CHECK(run.at("status").as_string() == "completed");
  CHECK(actions_of(result_of(run, type_name(type)))
        == std::vector<std::string>{action_of(type)});
}

alert_event alert(std::string id, std::string metric, std::string state = "firing") {
  alert_event e;
  e.id = std::move(id);
  e.metric = std::move(metric);
  e.severity = "warning";
  e.state = std::move(state);
  e.value = 95;
  e.threshold = 90;
  e.started_at = now_ms();
  e.at = now_ms();
  return e;
}

/// The automatic runs the supervisor lists.
std::vector<json::object> automatic_runs(supervisor_fixture& f) {
  std::vector<json::object> out;
  for (const auto& r : f.list())
    if (r.as_object().at("trigger").as_string() == "automatic")
      out.push_back(r.as_object());
  return out;
}

} // namespace

// -- POST and a successful run ----------------------------------------------------------------

TEST_CASE("optimization_supervisor answers a POST with the started run",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::memory_cleanup, worker_mode::block);
  f.script->set(optimization_type::cache_strategy, worker_mode::block);
  auto r = f.post(R"({"optimizations":["memory_cleanup","cache_strategy"],"aggressive":true})");
  REQUIRE(r.data);
  const auto& data = *r.data;
  INFO(json::serialize(data));
  std::string id{data.at("optimizationId").as_string()};
  CHECK(id.rfind("opt-", 0) == 0);
  CHECK(id.size() == 16);
  CHECK(data.at("status").as_string() == "started");
  CHECK(data.at("estimatedDuration").as_int64() >= 1);
  const auto& types = data.at("optimizations").as_array();
  REQUIRE(types.size() == 2);
  CHECK(types[0].as_object().at("type").as_string() == "memory_cleanup");
  CHECK(types[1].as_object().at("type").as_string() == "cache_strategy");
  for (const auto& t : types) {
    CHECK(t.as_object().at("status").as_string() == "running");
    CHECK_FALSE(t.as_object().at("description").as_string().empty());
  }

  // One worker per type, each given the run, its type, the flag and the context.
  REQUIRE(f.script->spawned() == 2);
  for (const auto& job : f.script->jobs_of(optimization_type::memory_cleanup)) {
    CHECK(job.run_id == id);
    CHECK(job.aggressive);
    CHECK(job.context == f.context);
    CHECK(job.supervisor == caf::actor_cast<caf::actor>(f.supervisor));
  }
  CHECK(f.script->jobs_of(optimization_type::cache_strategy).size() == 1);

  // While the workers work the run is running, not yet complete.
  auto run = f.get(id);
  REQUIRE(run.data);
  CHECK(run.data->at("status").as_string() == "running");
  CHECK(run.data->at("trigger").as_string() == "manual");
  CHECK_FALSE(run.data->contains("triggeredBy"));
  CHECK(run.data->at("aggressive").as_bool());
  CHECK(run.data->at("completedAt").is_null());
  CHECK(run.data->at("duration").is_null());
  CHECK(parse_iso8601(run.data->at("startedAt").as_string()));
}

TEST_CASE("optimization_supervisor completes a run whose workers succeed",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  auto id = f.start(
    R"({"optimizations":["cache_strategy","database_queries","memory_cleanup"]})");
  auto run = f.wait_until_done(id);
  INFO(json::serialize(run));
  CHECK(run.at("status").as_string() == "completed");
  auto started = parse_iso8601(run.at("startedAt").as_string());
  REQUIRE(run.at("completedAt").is_string());
  auto completed = parse_iso8601(run.at("completedAt").as_string());
  REQUIRE(started);
  REQUIRE(completed);
  CHECK(*completed >= *started);
  REQUIRE(run.at("duration").is_number());
  // The measured types end one window (and the margin for its last sample) after their work.
  CHECK(run.at("duration").to_number<double>() >= 0.2);
  CHECK(run.at("duration").to_number<double>()
        == Approx((*completed - *started).count() / 1000.0));

  for (auto type : all_optimization_types) {
    const auto& r = result_of(run, type_name(type));
    INFO(type_name(type));
    CHECK(r.at("status").as_string() == "completed");
    CHECK(actions_of(r) == std::vector<std::string>{action_of(type)});
    CHECK(r.at("duration").to_number<double>() == Approx(0.25));
    CHECK_FALSE(r.contains("error"));
  }

  // No traffic came by: the response time comparison has no value and says why.
  for (auto type : {optimization_type::cache_strategy, optimization_type::database_queries}) {
    const auto& r = result_of(run, type_name(type));
    INFO(type_name(type));
    const auto& improvements = r.at("improvements").as_object();
    REQUIRE(improvements.contains("responseTime"));
    CHECK(improvements.at("responseTime").is_null());
    REQUIRE(r.contains("notes"));
    CHECK(r.at("notes").as_object().at("responseTime").as_string().starts_with(
      "insufficient traffic"));
  }
  const auto& cache = result_of(run, "cache_strategy");
  CHECK(cache.at("improvements").as_object().at("cacheHitRate").is_null());
  CHECK(cache.at("notes").as_object().at("cacheHitRate").as_string().starts_with(
    "insufficient traffic"));
  CHECK_FALSE(result_of(run, "database_queries").at("improvements").as_object().contains(
    "cacheHitRate"));
  // memory_cleanup measures nothing itself: the worker's improvement is all it has.
  const auto& memory = result_of(run, "memory_cleanup");
  CHECK(memory.at("improvements").as_object()
        == json::object{{"memoryUsage", "-1MB"}});
  CHECK_FALSE(memory.contains("notes"));

  // The list shows it, newest first.
  auto runs = f.list(10);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].as_object() == run);
}

TEST_CASE("optimization_supervisor hands the next cache_strategy run the previous baseline",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  auto first = f.start(R"({"optimizations":["cache_strategy"]})");
  CHECK(f.wait_until_done(first).at("status").as_string() == "completed");
  auto second = f.start(R"({"optimizations":["cache_strategy"]})");
  CHECK(f.wait_until_done(second).at("status").as_string() == "completed");
  auto jobs = f.script->jobs_of(optimization_type::cache_strategy);
  REQUIRE(jobs.size() == 2);
  CHECK(jobs[0].usage_baseline.empty());
  CHECK(jobs[0].cache_baseline.hits == 0);
  REQUIRE(jobs[1].usage_baseline.size() == 1);
  CHECK(jobs[1].usage_baseline[0].route == "/probe/:id");
  CHECK(jobs[1].usage_baseline[0].get_requests == 42);
  CHECK(jobs[1].cache_baseline.hits == 7);
  CHECK(jobs[1].cache_baseline.misses == 3);
}

// -- workers that fail ------------------------------------------------------------------------

TEST_CASE("optimization_supervisor fails a type whose worker reports a failure",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::cache_strategy, worker_mode::report_failure);
  auto id = f.start(R"({"optimizations":["cache_strategy"]})");
  auto run = f.wait_until_done(id);
  check_failed(run, "cache_strategy", reported_failure);
  check_still_serving(f, optimization_type::cache_strategy);
}

TEST_CASE("optimization_supervisor fails a type whose worker throws",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::memory_cleanup, worker_mode::throw_exception);
  auto id = f.start(R"({"optimizations":["memory_cleanup"]})");
  auto run = f.wait_until_done(id);
  check_failed(run, "memory_cleanup", "the worker stopped without a result");
  check_failed(run, "memory_cleanup", "unhandled_exception"); // the down message's reason
  check_still_serving(f, optimization_type::memory_cleanup);
}

TEST_CASE("optimization_supervisor fails a type whose worker quits without a result",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::database_queries, worker_mode::quit_silently);
  auto id = f.start(R"({"optimizations":["database_queries"]})");
  auto run = f.wait_until_done(id);
  check_failed(run, "database_queries", "the worker stopped without a result");
  check_still_serving(f, optimization_type::database_queries);
}

TEST_CASE("optimization_supervisor fails only the type whose worker failed",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::memory_cleanup, worker_mode::quit_silently);
  auto id = f.start(R"({"optimizations":["cache_strategy","memory_cleanup"]})");
  auto run = f.wait_until_done(id);
  INFO(json::serialize(run));
  // The run is failed once every type is over, and the other type still completed.
  CHECK(run.at("status").as_string() == "failed");
  CHECK(result_of(run, "memory_cleanup").at("status").as_string() == "failed");
  CHECK(result_of(run, "cache_strategy").at("status").as_string() == "completed");
  CHECK(actions_of(result_of(run, "cache_strategy"))
        == std::vector<std::string>{action_of(optimization_type::cache_strategy)});
}

TEST_CASE("optimization_supervisor fails a type whose worker hangs past the timeout",
          "[optimization_supervisor]") {
  auto settings = quick_settings();
  settings.timeout = 300ms;
  supervisor_fixture f{settings};
  f.script->hang_for = 1500ms;
  f.script->set(optimization_type::memory_cleanup, worker_mode::hang);
  auto started = clock_type::now();
  auto id = f.start(R"({"optimizations":["memory_cleanup"]})");
  auto run = f.wait_until_done(id, 10s);
  auto took = clock_type::now() - started;
  check_failed(run, "memory_cleanup", "timed out");
  CHECK(took >= 300ms);
  // Failed on the timeout, not when the worker finally answered.
  CHECK(f.script->finished == 0);

  // The late outcome arrives and is ignored: the type stays failed, without its actions.
  auto deadline = clock_type::now() + 10s;
  while (f.script->finished == 0 && clock_type::now() < deadline)
    std::this_thread::sleep_for(10ms);
  REQUIRE(f.script->finished == 1);
  auto after = f.get(id); // queued behind the late outcome
  REQUIRE(after.data);
  check_failed(*after.data, "memory_cleanup", "timed out");
  CHECK(actions_of(result_of(*after.data, "memory_cleanup")).empty());
  CHECK(after.data->at("completedAt") == run.at("completedAt"));

  check_still_serving(f, optimization_type::memory_cleanup);
}

// -- requests it refuses ----------------------------------------------------------------------

TEST_CASE("optimization_supervisor refuses a type that is still running with CONFLICT",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::cache_strategy, worker_mode::block);
  auto id = f.start(R"({"optimizations":["cache_strategy"]})");

  auto again = f.post(R"({"optimizations":["memory_cleanup","cache_strategy"]})");
  REQUIRE(again.error);
  CHECK(again.error->code == errc::conflict);
  CHECK(contains(again.error->message, "cache_strategy"));
  CHECK(contains(again.error->message, id));
  CHECK(again.error->details.at("type").as_string() == "cache_strategy");
  CHECK(again.error->details.at("optimizationId").as_string() == id);
  // Nothing of the refused run started, not even its other type.
  CHECK(f.script->spawned() == 1);
  CHECK(f.list().size() == 1);
  // Another type alone is fine.
  auto other = f.start(R"({"optimizations":["memory_cleanup"]})");
  CHECK(f.wait_until_done(other).at("status").as_string() == "completed");

  // Once the blocked worker ends (without a result) the type is free again.
  f.script->release = true;
  check_failed(f.wait_until_done(id), "cache_strategy", "the worker stopped without a result");
  check_still_serving(f, optimization_type::cache_strategy);
}

TEST_CASE("optimization_supervisor counts a type as running during its measurement window",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  auto id = f.start(R"({"optimizations":["database_queries"]})");
  // The worker's actions are visible while the window after its work runs.
  auto measuring = f.wait_for(id, [](const json::object& run) {
    return !result_of(run, "database_queries").at("actions").as_array().empty();
  });
  CHECK(measuring.at("status").as_string() == "running");
  CHECK(result_of(measuring, "database_queries").at("status").as_string() == "running");
  auto again = f.post(R"({"optimizations":["database_queries"]})");
  REQUIRE(again.error);
  CHECK(again.error->code == errc::conflict);
  CHECK(f.wait_until_done(id).at("status").as_string() == "completed");
  CHECK(f.post(R"({"optimizations":["database_queries"]})").data);
}

TEST_CASE("optimization_supervisor refuses an invalid body with VALIDATION_ERROR",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  for (const char* body : {
         "not json",
         "[]",
         "{}",
         R"({"optimizations":[]})",
         R"({"optimizations":"memory_cleanup"})",
         R"({"optimizations":["defragment"]})",
         R"({"optimizations":["memory_cleanup","memory_cleanup"]})",
         R"({"optimizations":["memory_cleanup"],"aggressive":"yes"})",
         R"({"optimizations":["memory_cleanup"],"extra":1})",
       }) {
    INFO(body);
    auto r = f.post(body);
    REQUIRE(r.error);
    CHECK(r.error->code == errc::validation_error);
    CHECK(r.error->details.contains("field"));
  }
  CHECK(f.script->spawned() == 0);
  CHECK(f.list().empty());
}

TEST_CASE("optimization_supervisor answers NOT_FOUND for an unknown run",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  auto r = f.get("opt-000000000000");
  REQUIRE(r.error);
  CHECK(r.error->code == errc::not_found);
  CHECK(contains(r.error->message, "opt-000000000000"));
}

TEST_CASE("optimization_supervisor works without a database", "[optimization_supervisor]") {
  supervisor_fixture f{quick_settings(), false};
  auto id = f.start(R"({"optimizations":["memory_cleanup"]})");
  CHECK(f.wait_until_done(id).at("status").as_string() == "completed");
  CHECK(ids_of(f.list()) == std::vector<std::string>{id});
  auto missing = f.get("opt-ffffffffffff");
  REQUIRE(missing.error);
  CHECK(missing.error->code == errc::not_found);
}

TEST_CASE("optimization_supervisor lists the newest runs first up to the limit",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ids.push_back(f.start(R"({"optimizations":["memory_cleanup"]})"));
    f.wait_until_done(ids.back());
  }
  CHECK(ids_of(f.list()) == std::vector<std::string>{ids[2], ids[1], ids[0]});
  CHECK(ids_of(f.list(2)) == std::vector<std::string>{ids[2], ids[1]});
  CHECK(f.list(0).empty());
}

// -- automatic runs ---------------------------------------------------------------------------

TEST_CASE("optimization_supervisor starts a run on a firing alert once per cooldown",
          "[optimization_supervisor]") {
  auto settings = quick_settings();
  settings.cooldown = 600ms;
  supervisor_fixture f{settings};

  auto first_fired = clock_type::now();
  f.self->send(f.supervisor, alert("alt-first", "memoryUsage"));
  auto runs = automatic_runs(f); // the list request is queued behind the alert
  REQUIRE(runs.size() == 1);
  std::string first{runs[0].at("optimizationId").as_string()};
  CHECK(runs[0].at("triggeredBy").as_string() == "alt-first");
  auto run = f.wait_until_done(first);
  CHECK(run.at("status").as_string() == "completed");
  CHECK(run.at("trigger").as_string() == "automatic");
  CHECK_FALSE(run.at("aggressive").as_bool());
  REQUIRE(run.at("results").as_array().size() == 1);
  CHECK(actions_of(result_of(run, "memory_cleanup"))
        == std::vector<std::string>{action_of(optimization_type::memory_cleanup)});

  // Finished, but within the cooldown: another firing alert starts nothing.
  f.self->send(f.supervisor, alert("alt-second", "memoryUsage"));
  auto within = automatic_runs(f);
  REQUIRE(clock_type::now() - first_fired < settings.cooldown); // else the check means nothing
  CHECK(within.size() == 1);
  CHECK(f.script->spawned() == 1);

  // After the cooldown it starts again.
  std::this_thread::sleep_until(first_fired + settings.cooldown + 50ms);
  f.self->send(f.supervisor, alert("alt-third", "memoryUsage"));
  auto later = automatic_runs(f);
  REQUIRE(later.size() == 2);
  CHECK(later[0].at("triggeredBy").as_string() == "alt-third");
  CHECK(later[1].at("optimizationId").as_string() == first);
  CHECK(f.wait_until_done(std::string{later[0].at("optimizationId").as_string()})
          .at("status")
          .as_string()
        == "completed");
}

TEST_CASE("optimization_supervisor picks the type of an automatic run from the metric",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.self->send(f.supervisor, alert("alt-rt", "responseTime:media"));
  f.self->send(f.supervisor, alert("alt-q", "queryTime"));
  auto runs = automatic_runs(f);
  REQUIRE(runs.size() == 2);
  std::map<std::string, std::string> type_by_alert;
  for (const auto& run : runs)
    type_by_alert[std::string{run.at("triggeredBy").as_string()}] =
      std::string{run.at("results").as_array()[0].as_object().at("type").as_string()};
  CHECK(type_by_alert
        == std::map<std::string, std::string>{{"alt-rt", "cache_strategy"},
                                              {"alt-q", "database_queries"}});
  for (const auto& run : runs)
    f.wait_until_done(std::string{run.at("optimizationId").as_string()});
}

TEST_CASE("optimization_supervisor starts no automatic run while the type runs",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.script->set(optimization_type::memory_cleanup, worker_mode::block);
  auto manual = f.start(R"({"optimizations":["memory_cleanup"]})");
  f.self->send(f.supervisor, alert("alt-busy", "memoryUsage"));
  CHECK(automatic_runs(f).empty());
  CHECK(f.script->spawned() == 1);
  f.script->release = true;
  f.wait_until_done(manual);
}

TEST_CASE("optimization_supervisor starts nothing automatically when automatic is off",
          "[optimization_supervisor]") {
  auto settings = quick_settings();
  settings.automatic = false;
  supervisor_fixture f{settings};
  f.self->send(f.supervisor, alert("alt-off", "memoryUsage"));
  f.self->send(f.supervisor, alert("alt-off-2", "cacheHitRate"));
  CHECK(f.list().empty());
  CHECK(f.script->spawned() == 0);
  // Manual runs still work.
  auto id = f.start(R"({"optimizations":["memory_cleanup"]})");
  CHECK(f.wait_until_done(id).at("status").as_string() == "completed");
}

TEST_CASE("optimization_supervisor starts nothing for resolved alerts or unrelated metrics",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  f.self->send(f.supervisor, alert("alt-resolved", "memoryUsage", "resolved"));
  f.self->send(f.supervisor, alert("alt-cpu", "cpuUsage"));
  f.self->send(f.supervisor, alert("alt-errors", "errorRate"));
  CHECK(f.list().empty());
  CHECK(f.script->spawned() == 0);
  // None of them used up the cooldown: a firing memory alert still starts a run.
  f.self->send(f.supervisor, alert("alt-memory", "memoryUsage"));
  auto runs = automatic_runs(f);
  REQUIRE(runs.size() == 1);
  CHECK(runs[0].at("triggeredBy").as_string() == "alt-memory");
  f.wait_until_done(std::string{runs[0].at("optimizationId").as_string()});
}

// -- persistence ------------------------------------------------------------------------------

TEST_CASE("optimization_supervisor reads runs back from SQL after a restart",
          "[optimization_supervisor]") {
  supervisor_fixture f;
  // One run more than the supervisor keeps in memory, each started in a later millisecond than
  // the one before (SQL orders runs by start time, and in memory they are in start order).
  std::vector<std::string> ids;
  sys_ms last_start{};
  for (size_t i = 0; i <= max_runs_in_memory; ++i) {
    while (now_ms() <= last_start)
      std::this_thread::sleep_for(1ms);
    ids.push_back(f.start(R"({"optimizations":["memory_cleanup"]})"));
    auto run = f.wait_until_done(ids.back());
    REQUIRE(run.at("status").as_string() == "completed");
    last_start = *parse_iso8601(run.at("startedAt").as_string());
  }
  auto listed = ids_of(f.list());
  REQUIRE(listed.size() == max_runs_in_memory);
  CHECK(listed.front() == ids.back());
  CHECK(std::find(listed.begin(), listed.end(), ids.front()) == listed.end());
  // The oldest run is no longer in memory: it comes from SQL.
  auto oldest = f.get(ids.front());
  REQUIRE(oldest.data);
  CHECK(oldest.data->at("optimizationId").as_string() == ids.front());
  CHECK(oldest.data->at("status").as_string() == "completed");
  CHECK(actions_of(result_of(*oldest.data, "memory_cleanup"))
        == std::vector<std::string>{action_of(optimization_type::memory_cleanup)});
  auto newest_before = f.get(ids.back());
  REQUIRE(newest_before.data);

  // A restart: a new database actor and supervisor on the same file.
  f.stop(f.supervisor);
  f.stop(f.db);
  f.db = f.spawn_db();
  f.supervisor = f.spawn_supervisor(f.db);
  auto deadline = clock_type::now() + 15s;
  auto relisted = ids_of(f.list());
  while (relisted.size() < max_runs_in_memory && clock_type::now() < deadline) {
    std::this_thread::sleep_for(10ms);
    relisted = ids_of(f.list());
  }
  CHECK(relisted == listed);
  auto newest_after = f.get(ids.back());
  REQUIRE(newest_after.data);
  CHECK(*newest_after.data == *newest_before.data);
  auto oldest_after = f.get(ids.front());
  REQUIRE(oldest_after.data);
  CHECK(*oldest_after.data == *oldest.data);
  CHECK(f.get("opt-000000000000").error);
}

TEST_CASE("optimization_supervisor a run interrupted by a restart comes back failed",
          "[optimization_supervisor]") {
  auto settings = quick_settings();
  settings.timeout = 60s;
  supervisor_fixture f{settings};
  f.script->set(optimization_type::memory_cleanup, worker_mode::block);
  auto id = f.start(R"({"optimizations":["memory_cleanup"]})");
  // The database has the run, still running (the request is queued behind the save).
  std::string stored;
  f.self->request(f.db, 15s, caf::get_atom::value, optimize_atom::value, id)
    .receive([&](std::string& doc) { stored = std::move(doc); },
             [&](caf::error& err) { FAIL(from_caf_error(err).message); });
  REQUIRE_FALSE(stored.empty());
  CHECK(json::parse(stored).as_object().at("status").as_string() == "running");

  // Stopped while the worker still works.
  f.stop(f.supervisor);
  f.stop(f.db);
  f.db = f.spawn_db();
  optimization_runs loaded;
  f.self->request(f.db, 15s, load_atom::value, uint64_t{10})
    .receive([&](optimization_runs& runs) { loaded = std::move(runs); },
             [&](caf::error& err) { FAIL(from_caf_error(err).message); });
  REQUIRE(loaded.size() == 1);
  const auto& run = loaded.front();
  CHECK(run.id == id);
  CHECK(run.status == run_status::failed);
  CHECK(run.completed_at);
  REQUIRE(run.results.size() == 1);
  CHECK(run.results[0].status == run_status::failed);
  CHECK(run.results[0].error_code == "OPTIMIZATION_FAILED");
  CHECK(run.results[0].error_message == sources::interrupted_message);

  // A new supervisor shows it the same way.
  f.supervisor = f.spawn_supervisor(f.db);
  auto shown = f.wait_for(id, [](const json::object&) { return true; });
  check_failed(shown, "memory_cleanup", sources::interrupted_message);
  f.script->release = true;
}
