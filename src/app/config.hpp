#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "http/types.hpp"
#include "model/gateway_config.hpp"
#include "model/series.hpp"

namespace medianest {

/// Where the daemon's SQL lives: a SQLite file (the default) or a PostgreSQL server.
struct database_target {
  enum class kind : uint8_t { sqlite, postgresql };
  kind backend = kind::sqlite;
  /// For SQLite the file path; for PostgreSQL a libpq connection string or URI.
  std::string connect;
};

/// A Redis server given as redis://[:password@]host[:port][/db].
struct redis_target {
  std::string host;
  uint16_t port = 6379;
  int db = 0;
  std::string password;
};

/// Everything `medianest-perf serve` is configured with.
struct serve_config {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;
  std::filesystem::path data_dir = "data";
  std::optional<database_target> database; // unset: SQLite file in the data directory
  std::optional<redis_target> redis;
  /// Gateway mode: on when `gateway.upstream.url` is set (--upstream).
  gateway_config gateway;
  std::string log_level = "info";
  std::string log_format = "text";
  bool access_log = true;
  /// GET /prometheus without a token (otherwise admin only).
  bool prometheus_public = false;
  unsigned http_threads = 2;
  /// The event-driven actors (hub, store, evaluator, live feed, supervisor) need a few ms of
  /// CPU a second; one scheduler thread instead of two saved a sixth of the idle daemon's
  /// CPU time (docs/benchmarks.md, "Overhead").
  unsigned actor_threads = 1;
  size_t max_connections = 1024;
  /// Failed authentications per client address before it is locked out (--auth-fail-limit):
  /// `limit` per `window`, locked out for `lockout`; limit 0 turns the limit off.
  rate_limit_config auth_failures{10, std::chrono::seconds{60}, 0, 50'000,
                                  std::chrono::seconds{60}};
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds shutdown_grace{5'000};
  /// How often collectors sample (system and api may go down to 250 ms).
  std::chrono::milliseconds sample_interval{1'000};
  /// Extra processes listed by /resources, by name (comm or argv[0] basename).
  std::vector<std::string> watch_processes;
  /// Queries slower than this count as slow in the database section.
  std::chrono::milliseconds slow_query{100};
  /// Byte budget of the built-in response cache.
  uint64_t cache_bytes = 64ull << 20;
  /// How often roll-ups are written to SQL (what a crash can lose).
  std::chrono::milliseconds flush_interval{10'000};
  /// How long a rendered /history answer is served from the built-in cache (0: never).
  std::chrono::milliseconds history_cache_ttl{1'000};
  /// Optimization runs (docs/optimization.md): the measurement window before and after a
  /// run, the time a type's work may take, and the automatic runs on alerts.
  std::chrono::milliseconds optimization_window{60'000};
  std::chrono::milliseconds optimization_timeout{300'000};
  bool auto_optimize = true;
  std::chrono::milliseconds auto_optimize_cooldown{900'000};
  /// The WebSocket live feed (docs/live.md): its client cap and the browser origins allowed
  /// (empty: any).
  uint64_t live_max_clients = 10'000;
  std::chrono::milliseconds live_write_timeout{10'000};
  std::vector<std::string> live_origins;
  /// Names this daemon in notifications (default: the host name).
  std::string instance;
  /// SMTP server for e-mail notifications (smtp://host:port or smtps://user:pass@host).
  std::string smtp_url;
  std::string smtp_from = "medianest-perf@localhost";
  /// Discord webhook URL used when the alert configuration enables Discord.
  std::string discord_webhook;
  /// First retry delay of notifications (doubling, with jitter, up to a minute).
  std::chrono::milliseconds notify_retry_base{500};
  /// How long roll-ups are kept per resolution.
  retention_policy retention;

  /// The database to use, with the default applied.
  database_target effective_database() const;
};

/// Everything `medianest-perf token` is configured with.
struct token_config {
  http::role role = http::role::user;
  bool role_given = false;
  std::string subject;
  int64_t ttl_seconds = 86400;
  std::filesystem::path data_dir = "data";
};

/// The outcome of reading the command line and the environment.
struct cli_outcome {
  enum class command : uint8_t { serve, token, help, version, error };
  command cmd = command::serve;
  serve_config serve;
  token_config token;
  /// For help: the text to print; for error: the message.
  std::string text;
};

/// Reads argv and the MEDIANEST_* environment (flags win over the environment).
/// `getenv` is injectable for tests.
cli_outcome parse_command_line(int argc, const char* const* argv,
                               const char* (*getenv_fn)(const char*) = nullptr);

/// Parses a --database value; nullopt and `error` set when it is not understood.
std::optional<database_target> parse_database_url(std::string_view url, std::string& error);

/// Turns a postgresql://[user[:password]@][host][:port][/dbname][?key=value&...] URL into a
/// libpq keyword/value connection string, as our client (src/pq/) and SOCI take it; text that
/// is not such a URL is returned as is.
std::string postgres_conninfo(std::string_view url);

/// Parses an --auth-fail-limit value: FAILURES/SECONDS[:LOCKOUT_SECONDS] (the lockout defaults
/// to the window) or "off". Returns an error message, empty on success.
std::string parse_auth_fail_limit(std::string_view text, rate_limit_config& out);

/// Parses a --redis value; nullopt and `error` set when it is not understood.
std::optional<redis_target> parse_redis_url(std::string_view url, std::string& error);

} // namespace medianest
