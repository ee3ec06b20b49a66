#pragma once

#include "app/config.hpp"

namespace medianest {

/// Runs `serve` until SIGINT/SIGTERM; returns the process exit code.
int run_daemon(const serve_config& cfg);

/// Runs `token`: prints a JWT signed with the daemon's secret; returns the exit code.
int run_token(const token_config& cfg);

} // namespace medianest
