#include "app/config.hpp"

#include <charconv>
#include <cstdlib>
#include <functional>
#include <sstream>

#include "app/version.hpp"
#include "pq/conninfo.hpp"

namespace medianest {

namespace {

/// Returns an error message, or an empty string when the value was accepted.
using apply_fn = std::function<std::string(std::string_view value, cli_outcome& out)>;

struct option_spec {
  std::string_view name;      // without the leading "--"
  std::string_view metavar;   // empty for switches that take no value
  std::string_view help;
  std::string_view default_text;
  apply_fn apply;
  /// Whether a MEDIANEST_* variable may set it (not for per-invocation choices).
  bool from_env = true;

  std::string env_name() const {
    std::string env = "MEDIANEST_";
    for (char c : name)
      env += c == '-' ? '_' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return env;
  }
};

template <class T>
bool parse_number(std::string_view text, T& out) {
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && ptr == text.data() + text.size();
}

std::string set_positive(std::string_view v, std::string_view what, uint64_t max,
                         const std::function<void(uint64_t)>& store) {
  uint64_t n = 0;
  if (!parse_number(v, n) || n == 0 || n > max)
    return std::string{what} + " must be a whole number from 1 to " + std::to_string(max)
           + ", got '" + std::string{v} + "'";
  store(n);
  return {};
}

/// Calls `f` on each non-empty comma-separated item; stops at the first error.
template <class F>
std::string for_each_item(std::string_view v, F&& f) {
  size_t pos = 0;
  while (pos <= v.size()) {
    auto comma = std::min(v.find(',', pos), v.size());
    if (comma > pos)
      if (auto err = f(v.substr(pos, comma - pos)); !err.empty())
        return err;
    pos = comma + 1;
  }
  return {};
}

std::string set_seconds(std::string_view v, std::chrono::milliseconds& target) {
  double secs = 0;
  auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), secs);
  if (ec != std::errc{} || ptr != v.data() + v.size() || secs <= 0 || secs > 86400)
    return "expected a number of seconds from 0 to 86400, got '" + std::string{v} + "'";
  target = std::chrono::milliseconds(static_cast<int64_t>(secs * 1000));
  return {};
}

std::string parse_listen(std::string_view v, serve_config& cfg) {
  auto colon = v.rfind(':');
  if (colon == std::string_view::npos || colon == 0)
    return "expected HOST:PORT, got '" + std::string{v} + "'";
  auto host = v.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  uint32_t port = 0;
  if (!parse_number(v.substr(colon + 1), port) || port > 65535)
    return "port must be 0-65535 in '" + std::string{v} + "'";
  cfg.host = std::string{host};
  cfg.port = static_cast<uint16_t>(port);
  return {};
}

std::string parse_retention(std::string_view v, retention_policy& out) {
  size_t pos = 0;
  while (pos < v.size()) {
    auto comma = std::min(v.find(',', pos), v.size());
    auto item = v.substr(pos, comma - pos);
    pos = comma + 1;
    auto colon = item.find(':');
    uint64_t days = 0;
    if (colon == std::string_view::npos || !parse_number(item.substr(colon + 1), days) || days == 0
        || days > 36500)
      return "expected items like 1m:7 (resolution:days), got '" + std::string{item} + "'";
    auto res = item.substr(0, colon);
    auto seconds = static_cast<int64_t>(days) * 86400;
    if (res == "1m")
      out.minute_seconds = seconds;
    else if (res == "5m")
      out.five_minutes_seconds = seconds;
    else if (res == "1h")
      out.hour_seconds = seconds;
    else
      return "resolution must be 1m, 5m or 1h, got '" + std::string{res} + "'";
  }
  return {};
}

} // namespace

std::string parse_auth_fail_limit(std::string_view v, rate_limit_config& out) {
  if (v == "off" || v == "0") {
    out.limit = 0;
    return {};
  }
  auto bad = [&] {
    return "expected FAILURES/SECONDS[:LOCKOUT_SECONDS] with 1 to 1000000 failures and 1 to "
           "86400 seconds, e.g. 10/60:300, or off; got '"
           + std::string{v} + "'";
  };
  auto slash = v.find('/');
  if (slash == std::string_view::npos)
    return bad();
  auto colon = v.find(':', slash);
  auto window_text = v.substr(slash + 1, colon == std::string_view::npos ? colon : colon - slash - 1);
  uint64_t limit = 0, window = 0, lockout = 0;
  if (!parse_number(v.substr(0, slash), limit) || !parse_number(window_text, window)
      || (colon != std::string_view::npos && !parse_number(v.substr(colon + 1), lockout)))
    return bad();
  if (colon == std::string_view::npos)
    lockout = window;
  if (limit == 0 || limit > 1'000'000 || window == 0 || window > 86400 || lockout == 0
      || lockout > 86400)
    return bad();
  out.limit = static_cast<uint32_t>(limit);
  out.window = std::chrono::seconds(window);
  out.lockout = std::chrono::seconds(lockout);
  out.burst = 0;
  return {};
}

namespace {

std::vector<option_spec> serve_options() {
  return {
    {"listen", "HOST:PORT", "address and port to serve HTTP on (port 0 picks a free one)",
     "127.0.0.1:4000",
     [](std::string_view v, cli_outcome& o) { return parse_listen(v, o.serve); }},
    {"data-dir", "DIR", "directory for the SQLite database and the generated JWT secret",
     "./data",
     [](std::string_view v, cli_outcome& o) {
       if (v.empty())
         return std::string{"must not be empty"};
       o.serve.data_dir = std::string{v};
       return std::string{};
     }},
    {"database", "URL",
     "SQL database: sqlite:PATH, or postgresql://USER[:PASSWORD]@HOST[:PORT]/DB[?OPTIONS] or "
     "'host=... dbname=...' in libpq's syntax (options and PG* variables: docs/postgresql-client.md)",
     "sqlite:<data-dir>/medianest.db",
     [](std::string_view v, cli_outcome& o) {
       std::string err;
       o.serve.database = parse_database_url(v, err);
       return err;
     }},
    {"redis", "URL", "Redis to monitor and share caches through: redis://[:PASSWORD@]HOST[:PORT][/DB]",
     "none",
     [](std::string_view v, cli_outcome& o) {
       std::string err;
       o.serve.redis = parse_redis_url(v, err);
       return err;
     }},
    {"upstream", "URL",
     "gateway mode: proxy every request outside the daemon's own paths to this plain-HTTP API "
     "(http://HOST[:PORT][/BASE]) and measure it",
     "none",
     [](std::string_view v, cli_outcome& o) {
       std::string err;
       if (auto target = parse_upstream_url(v, err))
         o.serve.gateway.upstream = std::move(*target);
       return err;
     }},
    {"upstream-connections", "N",
     "gateway: pooled keep-alive connections to the upstream, at most (split between the HTTP "
     "threads)",
     "64",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "upstream-connections", 100'000,
                           [&](uint64_t n) { o.serve.gateway.max_connections = n; });
     }},
    {"upstream-queue", "N",
     "gateway: requests waiting for an upstream connection before 503 RESOURCE_EXHAUSTED (split "
     "between the HTTP threads)",
     "1024",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "upstream-queue", 1'000'000,
                           [&](uint64_t n) { o.serve.gateway.max_queue = n; });
     }},
    {"upstream-connect-timeout", "SECONDS",
     "gateway: time to connect to the upstream (then 504, or 502 when refused)", "3",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.gateway.connect_timeout);
     }},
    {"upstream-timeout", "SECONDS",
     "gateway: longest an exchange may make no progress, no header or body bytes either way "
     "(then 504)",
     "30",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.gateway.response_timeout);
     }},
    {"route-template", "PATTERN",
     "gateway: count matching paths under this template, e.g. /api/v1/media/:id/*, before "
     "identifier folding (repeatable; env: comma-separated)",
     "",
     [](std::string_view v, cli_outcome& o) {
       return for_each_item(v, [&](std::string_view item) -> std::string {
         if (item.front() != '/')
           return "a route template starts with /, got '" + std::string{item} + "'";
         o.serve.gateway.templates.push_back({std::string{item}});
         return {};
       });
     }},
    {"cache-route", "ROUTE=SECONDS",
     "gateway: cache GET responses of this route template, e.g. /api/v1/media/:id=30 "
     "(repeatable; env: comma-separated)",
     "none",
     [](std::string_view v, cli_outcome& o) {
       return for_each_item(v, [&](std::string_view item) {
         std::string err;
         if (auto rule = parse_cache_rule(item, err))
           o.serve.gateway.cache_rules.push_back(std::move(*rule));
         return err;
       });
     }},
    {"rate-limit", "N/SECONDS[+BURST]",
     "gateway: requests per client (bearer credential, else address), e.g. 600/60+100", "off",
     [](std::string_view v, cli_outcome& o) { return parse_rate_limit(v, o.serve.gateway.rate); }},
    {"shed-queue", "N",
     "gateway: waiting requests from which a route whose p95 is over --shed-p95-ms gets 503 "
     "PERFORMANCE_DEGRADED",
     "32",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "shed-queue", 1'000'000,
                           [&](uint64_t n) { o.serve.gateway.shed_queue = n; });
     }},
    {"shed-p95-ms", "MS", "gateway: the p95 over which a route is shed (response_time critical)",
     "1000",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "shed-p95-ms", 3'600'000, [&](uint64_t n) {
         o.serve.gateway.shed_p95_ms = static_cast<double>(n);
       });
     }},
    {"breaker-threshold", "N",
     "gateway: consecutive upstream failures that open the circuit breaker", "5",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "breaker-threshold", 1'000, [&](uint64_t n) {
         o.serve.gateway.breaker_threshold = static_cast<unsigned>(n);
       });
     }},
    {"breaker-cooldown", "SECONDS", "gateway: time an open breaker waits before a probe", "10",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.gateway.breaker_cool_down);
     }},
    {"log-level", "LEVEL", "trace, debug, info, warn, error or off", "info",
     [](std::string_view v, cli_outcome& o) {
       for (auto level : {"trace", "debug", "info", "warn", "error", "off"})
         if (v == level) {
           o.serve.log_level = std::string{v};
           return std::string{};
         }
       return "expected trace, debug, info, warn, error or off, got '" + std::string{v} + "'";
     }},
    {"log-format", "FORMAT", "text, or json for one JSON object per line", "text",
     [](std::string_view v, cli_outcome& o) {
       if (v != "text" && v != "json")
         return "expected text or json, got '" + std::string{v} + "'";
       o.serve.log_format = std::string{v};
       return std::string{};
     }},
    {"access-log", "on|off", "log one line per request (method, route, status, duration, id)",
     "on",
     [](std::string_view v, cli_outcome& o) {
       if (v != "on" && v != "off")
         return "expected on or off, got '" + std::string{v} + "'";
       o.serve.access_log = v == "on";
       return std::string{};
     }},
    {"prometheus-public", "",
     "serve GET /api/v1/performance/prometheus without a token (otherwise admin only); the "
     "variable takes on/off, true/false or 1/0",
     "off",
     [](std::string_view v, cli_outcome& o) {
       if (v == "on" || v == "true" || v == "1")
         o.serve.prometheus_public = true;
       else if (v == "off" || v == "false" || v == "0")
         o.serve.prometheus_public = false;
       else
         return "expected on, off, true, false, 1 or 0, got '" + std::string{v} + "'";
       return std::string{};
     }},
    {"http-threads", "N", "asio threads serving HTTP", "2",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "http-threads", 64,
                           [&](uint64_t n) { o.serve.http_threads = static_cast<unsigned>(n); });
     }},
    {"actor-threads", "N",
     "CAF scheduler threads for the event-driven actors (blocking I/O has threads of its own)",
     "1",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "actor-threads", 64,
                           [&](uint64_t n) { o.serve.actor_threads = static_cast<unsigned>(n); });
     }},
    {"max-connections", "N", "open HTTP connections before new ones get 503 RESOURCE_EXHAUSTED",
     "1024",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "max-connections", 1'000'000,
                           [&](uint64_t n) { o.serve.max_connections = n; });
     }},
    {"auth-fail-limit", "N/SECONDS[:LOCKOUT]",
     "N failed authentications (a bad, expired or forged token) from one client address within "
     "SECONDS lock it out for LOCKOUT seconds (default: SECONDS): its requests with credentials "
     "then get 429 RATE_LIMITED; off disables",
     "10/60",
     [](std::string_view v, cli_outcome& o) {
       return parse_auth_fail_limit(v, o.serve.auth_failures);
     }},
    {"header-timeout", "SECONDS", "time a client has to send a whole request once it started",
     "10",
     [](std::string_view v, cli_outcome& o) { return set_seconds(v, o.serve.header_timeout); }},
    {"idle-timeout", "SECONDS", "time a keep-alive connection may stay idle", "60",
     [](std::string_view v, cli_outcome& o) { return set_seconds(v, o.serve.idle_timeout); }},
    {"shutdown-grace", "SECONDS", "time in-flight requests get to finish on SIGTERM/SIGINT", "5",
     [](std::string_view v, cli_outcome& o) { return set_seconds(v, o.serve.shutdown_grace); }},
    {"sample-interval", "SECONDS", "how often the collectors sample (0.25 to 60)", "1",
     [](std::string_view v, cli_outcome& o) {
       auto err = set_seconds(v, o.serve.sample_interval);
       if (err.empty() && (o.serve.sample_interval < std::chrono::milliseconds(250)
                           || o.serve.sample_interval > std::chrono::seconds(60)))
         err = "must be between 0.25 and 60 seconds, got '" + std::string{v} + "'";
       return err;
     }},
    {"watch-process", "NAME",
     "also list processes with this name in /resources (repeatable; env: comma-separated)", "",
     [](std::string_view v, cli_outcome& o) {
       return for_each_item(v, [&](std::string_view item) {
         o.serve.watch_processes.emplace_back(item);
         return std::string{};
       });
     }},
    {"cache-mb", "MB", "byte budget of the built-in response cache", "64",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "cache-mb", 1 << 20,
                           [&](uint64_t n) { o.serve.cache_bytes = n << 20; });
     }},
    {"flush-interval", "SECONDS", "how often roll-ups are written to SQL (1 to 60)", "10",
     [](std::string_view v, cli_outcome& o) {
       auto err = set_seconds(v, o.serve.flush_interval);
       if (err.empty() && (o.serve.flush_interval < std::chrono::seconds(1)
                           || o.serve.flush_interval > std::chrono::seconds(60)))
         err = "must be between 1 and 60 seconds, got '" + std::string{v} + "'";
       return err;
     }},
    {"retention", "1m:DAYS,5m:DAYS,1h:DAYS", "how long roll-ups are kept", "1m:7,5m:30,1h:400",
     [](std::string_view v, cli_outcome& o) { return parse_retention(v, o.serve.retention); }},
    {"history-cache-ms", "MS",
     "how long a /history answer is served from the built-in cache (0 turns it off)", "1000",
     [](std::string_view v, cli_outcome& o) {
       uint64_t n = 0;
       if (!parse_number(v, n) || n > 3'600'000)
         return "expected 0 to 3600000 milliseconds, got '" + std::string{v} + "'";
       o.serve.history_cache_ttl = std::chrono::milliseconds(n);
       return std::string{};
     }},
    {"instance", "NAME",
     "names this daemon in notifications and, when given, owns its history in a shared "
     "database (give each daemon sharing one its own)",
     "the host name",
     [](std::string_view v, cli_outcome& o) {
       o.serve.instance = std::string{v};
       return std::string{};
     }},
    {"smtp-url", "URL", "SMTP server for e-mail alerts: smtp://HOST:PORT or smtps://USER:PASS@HOST",
     "none",
     [](std::string_view v, cli_outcome& o) {
       if (v.rfind("smtp://", 0) != 0 && v.rfind("smtps://", 0) != 0)
         return "expected smtp:// or smtps://, got '" + std::string{v} + "'";
       o.serve.smtp_url = std::string{v};
       return std::string{};
     }},
    {"smtp-from", "ADDRESS", "sender address of e-mail alerts", "medianest-perf@localhost",
     [](std::string_view v, cli_outcome& o) {
       if (v.find('@') == std::string_view::npos)
         return "expected an e-mail address, got '" + std::string{v} + "'";
       o.serve.smtp_from = std::string{v};
       return std::string{};
     }},
    {"discord-webhook", "URL", "Discord webhook URL for alerts (used when alerts enable discord)",
     "none",
     [](std::string_view v, cli_outcome& o) {
       if (v.rfind("https://", 0) != 0 && v.rfind("http://", 0) != 0)
         return "expected an http(s):// URL, got '" + std::string{v} + "'";
       o.serve.discord_webhook = std::string{v};
       return std::string{};
     }},
    {"notify-retry-base-ms", "MS", "first retry delay of a failed notification (doubles up to 60 s)",
     "500",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "notify-retry-base-ms", 60'000, [&](uint64_t n) {
         o.serve.notify_retry_base = std::chrono::milliseconds(n);
       });
     }},
    {"slow-query-ms", "MS", "queries slower than this count as slowQueries", "100",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "slow-query-ms", 3'600'000, [&](uint64_t n) {
         o.serve.slow_query = std::chrono::milliseconds(n);
       });
     }},
    {"optimization-window", "SECONDS",
     "traffic measured before and after an optimization run to report its improvements", "60",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.optimization_window);
     }},
    {"optimization-timeout", "SECONDS",
     "time one optimization type may work before it is failed with OPTIMIZATION_FAILED", "300",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.optimization_timeout);
     }},
    {"auto-optimize", "on|off",
     "start optimizations by themselves when an alert fires (docs/optimization.md)", "on",
     [](std::string_view v, cli_outcome& o) {
       if (v != "on" && v != "off")
         return "expected on or off, got '" + std::string{v} + "'";
       o.serve.auto_optimize = v == "on";
       return std::string{};
     }},
    {"live-max-clients", "N", "WebSocket live-feed clients at once; more are closed with 1013",
     "10000",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "live-max-clients", 1'000'000,
                           [&](uint64_t n) { o.serve.live_max_clients = n; });
     }},
    {"live-write-timeout", "SECONDS",
     "a live-feed client that has not taken a frame for this long is disconnected", "10",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.live_write_timeout);
     }},
    {"live-origin", "ORIGIN",
     "a browser Origin allowed to open the live feed, e.g. https://dash.example.com "
     "(repeatable; env: comma-separated; default: any)",
     "",
     [](std::string_view v, cli_outcome& o) {
       return for_each_item(v, [&](std::string_view item) -> std::string {
         if (item.rfind("http://", 0) != 0 && item.rfind("https://", 0) != 0)
           return "expected an origin like https://host[:port], got '" + std::string{item} + "'";
         o.serve.live_origins.emplace_back(item);
         return {};
       });
     }},
    {"auto-optimize-cooldown", "SECONDS",
     "least time between two automatic runs of the same optimization type", "900",
     [](std::string_view v, cli_outcome& o) {
       return set_seconds(v, o.serve.auto_optimize_cooldown);
     }},
  };
}

std::vector<option_spec> token_options() {
  return {
    {"role", "admin|user", "role claim of the token (required)", "",
     [](std::string_view v, cli_outcome& o) {
       if (v != "admin" && v != "user")
         return "expected admin or user, got '" + std::string{v} + "'";
       o.token.role = v == "admin" ? http::role::admin : http::role::user;
       o.token.role_given = true;
       return std::string{};
     },
     false},
    {"sub", "NAME", "subject claim (who the token is for)", "the role",
     [](std::string_view v, cli_outcome& o) {
       o.token.subject = std::string{v};
       return std::string{};
     },
     false},
    {"ttl", "SECONDS", "lifetime of the token", "86400",
     [](std::string_view v, cli_outcome& o) {
       return set_positive(v, "ttl", 10ull * 365 * 86400,
                           [&](uint64_t n) { o.token.ttl_seconds = static_cast<int64_t>(n); });
     },
     false},
    {"data-dir", "DIR", "data directory holding the daemon's JWT secret", "./data",
     [](std::string_view v, cli_outcome& o) {
       if (v.empty())
         return std::string{"must not be empty"};
       o.token.data_dir = std::string{v};
       return std::string{};
     }},
  };
}

void append_options(std::ostringstream& out, const std::vector<option_spec>& opts) {
  for (const auto& opt : opts) {
    std::string left = "  --" + std::string{opt.name};
    if (!opt.metavar.empty())
      left += ' ' + std::string{opt.metavar};
    out << left;
    if (left.size() < 30)
      out << std::string(30 - left.size(), ' ');
    else
      out << "\n" << std::string(30, ' ');
    out << opt.help;
    std::string notes;
    if (opt.from_env)
      notes = "env " + opt.env_name();
    if (!opt.default_text.empty())
      notes += (notes.empty() ? "default " : ", default ") + std::string{opt.default_text};
    if (!notes.empty())
      out << "\n" << std::string(30, ' ') << notes;
    out << "\n";
  }
}

std::string help_text() {
  std::ostringstream out;
  out << "medianest-perf " << version
      << " - performance monitor, gateway and optimizer for MediaNest and any HTTP API\n\n"
         "Usage:\n"
         "  medianest-perf [serve] [OPTIONS]        run the daemon (the default command)\n"
         "  medianest-perf token --role admin|user [--sub NAME] [--ttl SECONDS]\n"
         "                                          print a JWT signed with the daemon's secret\n"
         "  medianest-perf --help | --version\n\n"
         "serve options (flags win over environment variables):\n";
  append_options(out, serve_options());
  out << "\ntoken options:\n";
  append_options(out, token_options());
  out << "\nSecrets:\n"
         "  MEDIANEST_JWT_SECRET   HS256 secret (at least 32 characters). When unset, a random\n"
         "                         secret is generated into <data-dir>/jwt-secret (mode 0600)\n"
         "                         on first start and reused.\n\n"
         "Exit codes: 0 success, 1 runtime failure, 2 bad command line or environment.\n";
  return out.str();
}

cli_outcome fail(std::string message) {
  cli_outcome out;
  out.cmd = cli_outcome::command::error;
  out.text = std::move(message) + "\nsee 'medianest-perf --help'";
  return out;
}

} // namespace

database_target serve_config::effective_database() const {
  if (database)
    return *database;
  return {database_target::kind::sqlite, (data_dir / "medianest.db").string()};
}

std::optional<database_target> parse_database_url(std::string_view url, std::string& error) {
  for (auto prefix : {"sqlite://", "sqlite:"}) {
    std::string_view p{prefix};
    if (url.rfind(p, 0) == 0) {
      auto path = url.substr(p.size());
      if (path.empty()) {
        error = "sqlite URL has no file path: '" + std::string{url} + "'";
        return std::nullopt;
      }
      return database_target{database_target::kind::sqlite, std::string{path}};
    }
  }
  bool is_uri = url.rfind("postgresql://", 0) == 0 || url.rfind("postgres://", 0) == 0;
  if (is_uri || url.rfind("host=", 0) == 0 || url.find(" dbname=") != std::string_view::npos) {
    // Checked here, so that a typo in an option stops the daemon at start, not at first connect.
    pq::connection_options options;
    std::string why;
    if (!pq::parse_conninfo(url, options, why)) {
      error = "PostgreSQL connection string not understood: " + why;
      return std::nullopt;
    }
    return database_target{database_target::kind::postgresql,
                           is_uri ? pq::to_conninfo(options) : std::string{url}};
  }
  error = "expected sqlite:PATH or postgresql://..., got '" + std::string{url} + "'";
  return std::nullopt;
}

std::string postgres_conninfo(std::string_view url) {
  pq::connection_options options;
  std::string error;
  return pq::parse_uri(url, options, error) ? pq::to_conninfo(options) : std::string{url};
}

std::optional<redis_target> parse_redis_url(std::string_view url, std::string& error) {
  constexpr std::string_view scheme = "redis://";
  if (url.rfind(scheme, 0) != 0) {
    error = "expected redis://[:PASSWORD@]HOST[:PORT][/DB], got '" + std::string{url} + "'";
    return std::nullopt;
  }
  redis_target out;
  auto rest = url.substr(scheme.size());
  if (auto at = rest.rfind('@'); at != std::string_view::npos) {
    auto userinfo = rest.substr(0, at);
    auto colon = userinfo.find(':');
    out.password = std::string{colon == std::string_view::npos ? userinfo
                                                               : userinfo.substr(colon + 1)};
    rest = rest.substr(at + 1);
  }
  if (auto slash = rest.find('/'); slash != std::string_view::npos) {
    auto db = rest.substr(slash + 1);
    if (!db.empty() && (!parse_number(db, out.db) || out.db < 0)) {
      error = "redis database must be a number, got '" + std::string{db} + "'";
      return std::nullopt;
    }
    rest = rest.substr(0, slash);
  }
  if (auto colon = rest.rfind(':'); colon != std::string_view::npos) {
    uint32_t port = 0;
    if (!parse_number(rest.substr(colon + 1), port) || port == 0 || port > 65535) {
      error = "redis port must be 1-65535 in '" + std::string{url} + "'";
      return std::nullopt;
    }
    out.port = static_cast<uint16_t>(port);
    rest = rest.substr(0, colon);
  }
  if (rest.empty()) {
    error = "redis URL has no host: '" + std::string{url} + "'";
    return std::nullopt;
  }
  out.host = std::string{rest};
  return out;
}

cli_outcome parse_command_line(int argc, const char* const* argv,
                               const char* (*getenv_fn)(const char*)) {
  if (!getenv_fn)
    getenv_fn = [](const char* name) -> const char* { return std::getenv(name); };
  cli_outcome out;
  int first = 1;
  if (argc > 1 && argv[1][0] != '-') {
    std::string_view cmd{argv[1]};
    if (cmd == "serve")
      out.cmd = cli_outcome::command::serve;
    else if (cmd == "token")
      out.cmd = cli_outcome::command::token;
    else if (cmd == "help")
      out.cmd = cli_outcome::command::help;
    else
      return fail("unknown command '" + std::string{cmd} + "'");
    first = 2;
  }
  auto opts = out.cmd == cli_outcome::command::token ? token_options() : serve_options();
  // The environment first, so that flags override it.
  for (const auto& opt : opts) {
    if (!opt.from_env)
      continue;
    auto env = opt.env_name();
    if (const char* value = getenv_fn(env.c_str()); value && *value)
      if (auto err = opt.apply(value, out); !err.empty())
        return fail("invalid " + env + ": " + err);
  }
  for (int i = first; i < argc; ++i) {
    std::string_view arg{argv[i]};
    if (arg == "--help" || arg == "-h") {
      out.cmd = cli_outcome::command::help;
      break;
    }
    if (arg == "--version" || arg == "-V") {
      out.cmd = cli_outcome::command::version;
      break;
    }
    if (arg.rfind("--", 0) != 0)
      return fail("unexpected argument '" + std::string{arg} + "'");
    auto name = arg.substr(2);
    std::optional<std::string_view> value;
    if (auto eq = name.find('='); eq != std::string_view::npos) {
      value = name.substr(eq + 1);
      name = name.substr(0, eq);
    }
    auto it = std::find_if(opts.begin(), opts.end(),
                           [&](const option_spec& o) { return o.name == name; });
    if (it == opts.end())
      return fail("unknown option '--" + std::string{name} + "'");
    if (!value && it->metavar.empty())
      value = "on"; // a switch takes no value: naming it turns it on
    if (!value) {
      if (i + 1 >= argc)
        return fail("option '--" + std::string{name} + "' needs a value ("
                    + std::string{it->metavar} + ")");
      value = argv[++i];
    }
    if (auto err = it->apply(*value, out); !err.empty())
      return fail("invalid --" + std::string{name} + ": " + err);
  }
  if (out.cmd == cli_outcome::command::help)
    out.text = help_text();
  if (out.cmd == cli_outcome::command::token && !out.token.role_given)
    return fail("token needs --role admin|user");
  return out;
}

} // namespace medianest
