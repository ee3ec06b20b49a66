#pragma once
// Writes through libraries that call plain write() on a socket (hiredis, OpenSSL) must not
// kill the process with SIGPIPE when the peer has closed: the daemon ignores SIGPIPE, but the
// tests and the tools that link the same code do not.

#include <pthread.h>
#include <signal.h>
#include <time.h>

namespace medianest {

/// Keeps a write to a socket the server closed from killing the process with SIGPIPE: blocks
/// SIGPIPE in this thread for the guard's life and swallows one raised meanwhile. Does nothing when a SIGPIPE was already pending, to not eat a foreign one.
class sigpipe_guard {
public:
  sigpipe_guard() noexcept {
    sigemptyset(&pipe_);
    sigaddset(&pipe_, SIGPIPE);
    sigset_t pending;
    if (sigpending(&pending) != 0 || sigismember(&pending, SIGPIPE) == 1) {
      return;
    }
    active_ = pthread_sigmask(SIG_BLOCK, &pipe_, &previous_) == 0;
  }
  ~sigpipe_guard() {
    if (!active_) {
      return;
    }
    sigset_t pending;
    if (sigpending(&pending) == 0 && sigismember(&pending, SIGPIPE) == 1) {
      const timespec no_wait{};
      sigtimedwait(&pipe_, nullptr, &no_wait);
    }
    pthread_sigmask(SIG_SETMASK, &previous_, nullptr);
  }
  sigpipe_guard(const sigpipe_guard&) = delete;
  sigpipe_guard& operator=(const sigpipe_guard&) = delete;

private:
  sigset_t pipe_{};
  sigset_t previous_{};
  bool active_ = false;
};

} // namespace medianest
