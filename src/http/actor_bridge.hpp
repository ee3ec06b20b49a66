#pragma once

#include <chrono>

#include <caf/actor_system.hpp>
#include <caf/event_based_actor.hpp>

#include "http/types.hpp"

namespace medianest::http {

/// The seam between a session and the actors: a short-lived actor asks `target` and
/// completes the responder with `{"success":true,"data":<reply>}` (the reply is rendered
/// JSON) or with the error's envelope. The session never waits; the asio thread returns at
/// once and the responder posts the answer back onto the session's strand.
template <class Handle, class... Ts>
void ask_json(caf::actor_system& sys, const Handle& target, std::chrono::milliseconds timeout,
              responder done, Ts&&... xs) {
  // The message goes in as a spawn argument: CAF 0.17 binds a reference through a null
  // pointer when a function-based actor is spawned without arguments (UBSan reports it).
  sys.spawn(
    [target, timeout, done = std::move(done)](caf::event_based_actor* self, caf::message msg) {
      self->request(caf::actor_cast<caf::actor>(target), timeout, std::move(msg))
        .then([done](const std::string& data) { done(http_response::ok(data)); },
              [done](const caf::error& err) { done(http_response::error(from_caf_error(err))); });
    },
    caf::make_message(std::forward<Ts>(xs)...));
}

} // namespace medianest::http
