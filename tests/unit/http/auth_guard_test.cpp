#include <catch2/catch.hpp>

#include <thread>
#include <vector>

#include "http/auth_guard.hpp"

using medianest::errc;
using medianest::rate_limit_config;
using medianest::http::auth_guard;
using namespace std::chrono_literals;

namespace {

const auth_guard::clock::time_point t0 = auth_guard::clock::time_point{} + 1000h;

rate_limit_config limit(uint32_t failures, std::chrono::seconds window,
                        std::chrono::seconds lockout = 0s, size_t max_addresses = 1000) {
  return rate_limit_config{failures, window, 0, max_addresses, lockout};
}

} // namespace

TEST_CASE("auth_guard locks an address out after N failures within the window", "[auth_guard]") {
  auth_guard guard(limit(3, 60s, 120s));
  CHECK_FALSE(guard.refusal("192.0.2.1", t0));
  CHECK_FALSE(guard.record_failure("192.0.2.1", t0));
  CHECK_FALSE(guard.record_failure("192.0.2.1", t0 + 1s));
  CHECK_FALSE(guard.refusal("192.0.2.1", t0 + 1s));
  CHECK(guard.record_failure("192.0.2.1", t0 + 2s)); // the third: locked out, log it
  auto refused = guard.refusal("192.0.2.1", t0 + 2s);
  REQUIRE(refused);
  CHECK(refused->code == errc::rate_limited);
  CHECK(refused->retry_after == 120u);
  CHECK(refused->details.at("retryAfter").as_int64() == 120);
  CHECK(refused->message.find("failed authentications") != std::string::npos);
  // Other addresses are not affected.
  CHECK_FALSE(guard.refusal("192.0.2.2", t0 + 2s));
  // Failures during the lockout do not extend it nor log again.
  CHECK_FALSE(guard.record_failure("192.0.2.1", t0 + 60s));
  CHECK(guard.refusal("192.0.2.1", t0 + 60s)->retry_after == 62u);
  // It ends after the lockout, and the address starts over.
  CHECK_FALSE(guard.refusal("192.0.2.1", t0 + 122s));
  CHECK_FALSE(guard.record_failure("192.0.2.1", t0 + 122s));
  CHECK_FALSE(guard.refusal("192.0.2.1", t0 + 122s));
}

TEST_CASE("auth_guard lockout defaults to the window", "[auth_guard]") {
  auth_guard guard(limit(1, 45s));
  CHECK(guard.config().lockout == 45s);
  CHECK(guard.record_failure("2001:db8::1", t0));
  CHECK(guard.refusal("2001:db8::1", t0)->retry_after == 45u);
}

TEST_CASE("auth_guard off counts nothing and an unknown address is never refused",
          "[auth_guard]") {
  auth_guard off(limit(0, 60s));
  CHECK_FALSE(off.enabled());
  for (int i = 0; i < 100; ++i)
    CHECK_FALSE(off.record_failure("192.0.2.1", t0));
  CHECK_FALSE(off.refusal("192.0.2.1", t0));
  CHECK(off.tracked() == 0);
  auth_guard on(limit(1, 60s));
  CHECK_FALSE(on.record_failure("", t0)); // a socket without a peer address
  CHECK_FALSE(on.refusal("", t0));
}

TEST_CASE("auth_guard tracks a bounded number of addresses", "[auth_guard]") {
  auth_guard guard(limit(5, 60s, 60s, 1600));
  for (int i = 0; i < 50000; ++i)
    guard.record_failure("10.0." + std::to_string(i / 256) + '.' + std::to_string(i % 256), t0);
  CHECK(guard.tracked() <= 1600);
  // Once the failures are a window old, the entries expire as new addresses come.
  guard.record_failure("198.51.100.1", t0 + 61s);
  CHECK(guard.tracked() < 1600);
}

TEST_CASE("auth_guard is consistent when HTTP threads share it", "[auth_guard]") {
  auth_guard guard(limit(100, 3600s));
  std::atomic<int> lockouts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        if (guard.record_failure("203.0.113.9", t0))
          ++lockouts;
    });
  for (auto& th : threads)
    th.join();
  CHECK(lockouts == 1); // the 100th of 200 failures, whichever thread made it
  CHECK(guard.refusal("203.0.113.9", t0));
}
