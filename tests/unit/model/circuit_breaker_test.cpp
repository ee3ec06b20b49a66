#include <catch2/catch.hpp>

#include "model/circuit_breaker.hpp"

using namespace std::chrono_literals;
using medianest::circuit_breaker;

TEST_CASE("circuit_breaker moves through closed open and half open with injected time") {
  const auto t0 = std::chrono::steady_clock::time_point{} + 1h;
  circuit_breaker breaker{3, 30s};
  CHECK(breaker.state() == "closed");
  CHECK(breaker.allow(t0));

  // Failures must be consecutive.
  breaker.record(false, t0);
  breaker.record(false, t0);
  breaker.record(true, t0);
  CHECK(breaker.consecutive_failures() == 0);
  breaker.record(false, t0);
  breaker.record(false, t0);
  CHECK(breaker.state() == "closed");
  CHECK(breaker.allow(t0));

  // The third consecutive failure opens it.
  breaker.record(false, t0);
  CHECK(breaker.state() == "open");
  CHECK_FALSE(breaker.allow(t0));
  CHECK_FALSE(breaker.allow(t0 + 29999ms));
  CHECK(breaker.retry_after(t0 + 10s) == 20s);
  CHECK(breaker.retry_after(t0 + 30s) == 0ms);
  CHECK(breaker.state() == "open");

  // After the cool-down: one probe.
  CHECK(breaker.allow(t0 + 30s));
  CHECK(breaker.state() == "half-open");
  CHECK_FALSE(breaker.allow(t0 + 30s));
  CHECK_FALSE(breaker.allow(t0 + 31s));

  // The probe fails: open again for a whole cool-down from then.
  const auto t1 = t0 + 32s;
  breaker.record(false, t1);
  CHECK(breaker.state() == "open");
  CHECK_FALSE(breaker.allow(t1 + 10s));
  CHECK_FALSE(breaker.allow(t1 + 29s));
  CHECK(breaker.allow(t1 + 30s));
  CHECK(breaker.state() == "half-open");

  // The probe succeeds: closed, count reset.
  breaker.record(true, t1 + 31s);
  CHECK(breaker.state() == "closed");
  CHECK(breaker.consecutive_failures() == 0);
  CHECK(breaker.retry_after(t1 + 31s) == 0ms);
  CHECK(breaker.allow(t1 + 31s));
  CHECK(breaker.allow(t1 + 31s));

  SECTION("a threshold of one opens on the first failure") {
    circuit_breaker touchy{1, 1s};
    touchy.record(false, t0);
    CHECK(touchy.state() == "open");
    CHECK_FALSE(touchy.allow(t0 + 999ms));
    CHECK(touchy.allow(t0 + 1s));
  }
}
