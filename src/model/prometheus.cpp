#include "model/prometheus.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <cmath>
#include <initializer_list>
#include <span>

#include "model/http_text.hpp"
#include "model/metrics.hpp"

namespace medianest {

// -- negotiation ---------------------------------------------------------------

std::string_view content_type_of(exposition_format f) noexcept {
  return f == exposition_format::openmetrics
           ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
           : "text/plain; version=0.0.4; charset=utf-8";
}

namespace {

/// Calls f(item) for every `sep`-separated item, trimmed.
template <class F>
void split(std::string_view text, char sep, F&& f) {
  while (true) {
    auto pos = text.find(sep);
    f(trim_ows(text.substr(0, pos)));
    if (pos == std::string_view::npos)
      return;
    text.remove_prefix(pos + 1);
  }
}

/// A q value ("0.5", "1", "1.000"); -1 when malformed.
double parse_quality(std::string_view v) noexcept {
  double q = -1;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), q);
  if (ec != std::errc{} || end != v.data() + v.size() || q < 0 || q > 1)
    return -1;
  return q;
}

} // namespace

exposition_format negotiate_exposition(std::string_view accept) noexcept {
  double best_om = 0, best_text = 0;
  int om_at = -1, text_at = -1, index = 0;
  split(accept, ',', [&](std::string_view range) {
    ++index;
    if (range.empty())
      return;
    auto semi = range.find(';');
    auto type = trim_ows(range.substr(0, semi));
    double q = 1;
    std::string_view version;
    if (semi != std::string_view::npos)
      split(range.substr(semi + 1), ';', [&](std::string_view param) {
        auto eq = param.find('=');
        if (eq == std::string_view::npos)
          return;
        auto name = trim_ows(param.substr(0, eq));
        auto value = trim_ows(param.substr(eq + 1));
        if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
          value = value.substr(1, value.size() - 2);
        if (iequals_ascii(name, "q"))
          q = parse_quality(value);
        else if (iequals_ascii(name, "version"))
          version = value;
      });
    if (q <= 0)
      return;
    if (iequals_ascii(type, "application/openmetrics-text")) {
      if (!version.empty() && version != "1.0.0" && version != "0.0.1")
        return;
      if (q > best_om) {
        best_om = q;
        om_at = index;
      }
    } else if (iequals_ascii(type, "text/plain") || iequals_ascii(type, "text/*") || iequals_ascii(type, "*/*")) {
      if (iequals_ascii(type, "text/plain") && !version.empty() && version != "0.0.4")
        return;
      if (q > best_text) {
        best_text = q;
        text_at = index;
      }
    }
  });
  if (om_at < 0)
    return exposition_format::text;
  if (text_at < 0 || best_om > best_text || (best_om == best_text && om_at < text_at))
    return exposition_format::openmetrics;
  return exposition_format::text;
}

// -- building blocks -----------------------------------------------------------

namespace {

bool is_alpha_(char c) noexcept {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

bool is_digit(char c) noexcept {
  return c >= '0' && c <= '9';
}

/// Length of the valid UTF-8 sequence at the start of `s`, or 0 when it is not one (overlong
/// forms, surrogates and code points past U+10FFFF are not).
size_t utf8_sequence(std::string_view s) noexcept {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  auto cont = [&](size_t i) { return i < s.size() && (b(i) & 0xC0) == 0x80; };
  auto c = b(0);
  if (c < 0x80)
    return 1;
  if (c >= 0xC2 && c <= 0xDF)
    return cont(1) ? 2 : 0;
  if (c >= 0xE0 && c <= 0xEF) {
    if (!cont(1) || !cont(2))
      return 0;
    if ((c == 0xE0 && b(1) < 0xA0) || (c == 0xED && b(1) > 0x9F))
      return 0; // overlong, or a surrogate
    return 3;
  }
  if (c >= 0xF0 && c <= 0xF4) {
    if (!cont(1) || !cont(2) || !cont(3))
      return 0;
    if ((c == 0xF0 && b(1) < 0x90) || (c == 0xF4 && b(1) > 0x8F))
      return 0; // overlong, or past U+10FFFF
    return 4;
  }
  return 0;
}

/// Appends text with \\ and \n escaped (and \" when `quote`), invalid UTF-8 replaced.
void append_escaped(std::string& out, std::string_view text, bool quote) {
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && quote) {
      out += "\\\"";
    } else if (static_cast<unsigned char>(c) < 0x80) {
      out += c;
    } else if (auto n = utf8_sequence(text.substr(i)); n > 0) {
      out.append(text.substr(i, n));
      i += n;
      continue;
    } else {
      out += "\xEF\xBF\xBD";
    }
    ++i;
  }
}

void append_integer(std::string& out, uint64_t v) {
  std::array<char, 24> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), end);
}

} // namespace

bool valid_metric_name(std::string_view name) noexcept {
  if (name.empty() || !(is_alpha_(name[0]) || name[0] == ':'))
    return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return is_alpha_(c) || is_digit(c) || c == ':'; });
}

bool valid_label_name(std::string_view name) noexcept {
  if (name.empty() || !is_alpha_(name[0]) || name.starts_with("__"))
    return false;
  return std::all_of(name.begin(), name.end(), [](char c) { return is_alpha_(c) || is_digit(c); });
}

void append_label_value(std::string& out, std::string_view value) {
  append_escaped(out, value, true);
}

void append_value(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  std::array<char, 32> buf;
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), end);
}

std::string le_label(double seconds) {
  if (std::isinf(seconds))
    return "+Inf";
  std::string out;
  append_value(out, seconds);
  if (out.find_first_of(".eE") == std::string::npos)
    out += ".0";
  return out;
}

// -- the writer ----------------------------------------------------------------

namespace {

enum class family_type : uint8_t { counter, gauge, histogram };

struct label {
  std::string_view name;
  std::string_view value;
};

using labels = std::initializer_list<label>;

/// A sample value: exact for integers, shortest round-trip text for doubles.
struct number {
  double d = 0;
  uint64_t u = 0;
  bool integral = false;

  template <class T>
  number(T x) { // NOLINT: implicit on purpose, values come in every arithmetic type
    if constexpr (std::is_integral_v<T>) {
      u = static_cast<uint64_t>(x);
      integral = true;
    } else {
      d = static_cast<double>(x);
    }
  }
};

/// Writes families one at a time. A family's HELP and TYPE lines go out with its first sample,
/// so a family without samples leaves no trace, and each family is written exactly once.
class writer {
public:
  writer(exposition_format f, std::string& out) : om_(f == exposition_format::openmetrics),
                                                  out_(out) {
  }

  /// Starts a family. `name` is the sample name: for a counter it ends in "_total".
  /// Returns false (and writes nothing of it) when a family of that name was started before.
  bool family(std::string_view name, std::string_view help, family_type type) {
    name_ = name;
    meta_ = name;
    if (type == family_type::counter && meta_.ends_with("_total"))
      meta_.remove_suffix(6);
    if (std::find(used_.begin(), used_.end(), meta_) != used_.end()) {
      skipping_ = true;
      return false;
    }
    used_.emplace_back(meta_);
    skipping_ = false;
    help_ = help;
    type_ = type;
    header_pending_ = true;
    return true;
  }

  /// Whether a family (by its name without a counter's "_total") was written or started.
  bool used(std::string_view meta) const {
    return std::find(used_.begin(), used_.end(), meta) != used_.end();
  }

  void sample(labels ls, number v) {
    sample_with("", std::span<const label>{ls.begin(), ls.size()}, v);
  }

  void sample_with(std::string_view suffix, std::span<const label> ls, number v,
                   const label* last = nullptr) {
    if (skipping_)
      return;
    if (header_pending_)
      write_header();
    out_.append(name_).append(suffix);
    if (!ls.empty() || last) {
      out_ += '{';
      bool first = true;
      auto put = [&](const label& l) {
        if (!first)
          out_ += ',';
        first = false;
        out_.append(l.name).append("=\"");
        append_label_value(out_, l.value);
        out_ += '"';
      };
      for (const auto& l : ls)
        put(l);
      if (last)
        put(*last);
      out_ += '}';
    }
    out_ += ' ';
    if (v.integral)
      append_integer(out_, v.u);
    else
      append_value(out_, v.d);
    out_ += '\n';
  }

  void finish() {
    if (om_)
      out_ += "# EOF\n";
  }

  bool openmetrics() const noexcept {
    return om_;
  }

private:
  void write_header() {
    header_pending_ = false;
    // The text format names a counter's family by its sample name (with "_total");
    // OpenMetrics by the name without it.
    auto meta = om_ ? meta_ : name_;
    out_.append("# HELP ").append(meta).append(" ");
    append_escaped(out_, help_, om_);
    out_.append("\n# TYPE ").append(meta).append(" ");
    switch (type_) {
      case family_type::counter: out_ += "counter\n"; break;
      case family_type::gauge: out_ += "gauge\n"; break;
      case family_type::histogram: out_ += "histogram\n"; break;
    }
  }

  bool om_;
  std::string& out_;
  std::string_view name_;
  std::string_view meta_;
  std::string_view help_;
  family_type type_ = family_type::gauge;
  bool header_pending_ = false;
  bool skipping_ = false;
  std::vector<std::string> used_;
};

/// One family with a single unlabelled sample.
void single(writer& w, std::string_view name, std::string_view help, family_type type,
            number v) {
  w.family(name, help, type);
  w.sample({}, v);
}

void gauge(writer& w, std::string_view name, std::string_view help, number v) {
  single(w, name, help, family_type::gauge, v);
}

void counter(writer& w, std::string_view name, std::string_view help, number v) {
  single(w, name, help, family_type::counter, v);
}

// -- families ------------------------------------------------------------------

/// The `le` values of duration_bounds_us, then "+Inf".
const std::array<std::string, duration_bounds_us.size() + 1>& le_values() {
  static const auto values = [] {
    std::array<std::string, duration_bounds_us.size() + 1> out;
    for (size_t i = 0; i < duration_bounds_us.size(); ++i)
      out[i] = le_label(duration_bounds_us[i] / 1e6);
    out.back() = "+Inf";
    return out;
  }();
  return values;
}

void render_requests(writer& w, const request_totals& totals) {
  w.family("medianest_http_requests_total",
           "HTTP requests answered since the daemon started, by route template, method and "
           "status.",
           family_type::counter);
  for (const auto& s : totals.series) {
    auto method = method_name(s.method);
    for (const auto& st : s.statuses) {
      auto status = status_label(st.status);
      w.sample({{"method", method}, {"route", s.route}, {"status", status}}, st.count);
    }
  }
  w.family("medianest_http_request_duration_seconds",
           "Time from the start of a request to the end of its response, by route template and "
           "method.",
           family_type::histogram);
  const auto& les = le_values();
  for (const auto& s : totals.series) {
    std::array<label, 2> ls{label{"method", method_name(s.method)}, label{"route", s.route}};
    uint64_t cumulative = 0;
    for (size_t i = 0; i < s.buckets.size(); ++i) {
      cumulative += s.buckets[i];
      label le{"le", les[i]};
      w.sample_with("_bucket", ls, cumulative, &le);
    }
    w.sample_with("_sum", ls, static_cast<double>(s.sum_us) / 1e6);
    w.sample_with("_count", ls, s.count);
  }
}

void render_api(writer& w, const snapshot& s) {
  if (!s.api.value)
    return;
  if (s.api.value->totals)
    render_requests(w, *s.api.value->totals);
  if (s.api.available())
    gauge(w, "medianest_http_open_connections", "HTTP connections open now.",
          s.api.value->active_connections);
}

void render_up(writer& w, const snapshot& s) {
  w.family("medianest_collector_up",
           "1 when the collector of a section delivers samples, 0 while its source is "
           "unavailable or before its first sample.",
           family_type::gauge);
  auto up = [&](std::string_view name, bool ok) {
    w.sample({{"section", name}}, ok ? 1 : 0);
  };
  up("api", s.api.available());
  up("database", s.database.available());
  up("system", s.system.available());
  up("cache", s.cache.available());
  up("resources", s.resources.available());
  if (s.gateway.value || !s.gateway.error.empty())
    up("gateway", s.gateway.available());
}

void render_system(writer& w, const snapshot& s) {
  if (!s.system.available())
    return;
  const auto& x = *s.system.value;
  gauge(w, "medianest_system_cpu_usage_ratio",
        "Share of all online CPUs busy over the last sample interval (0-1).", x.cpu.usage / 100);
  gauge(w, "medianest_system_cpu_cores", "Online CPUs.", x.cpu.cores);
  gauge(w, "medianest_system_load1", "Load average over 1 minute.", x.cpu.load_average[0]);
  gauge(w, "medianest_system_load5", "Load average over 5 minutes.", x.cpu.load_average[1]);
  gauge(w, "medianest_system_load15", "Load average over 15 minutes.", x.cpu.load_average[2]);
  gauge(w, "medianest_system_memory_total_bytes", "Host memory (MemTotal).", x.memory.total);
  gauge(w, "medianest_system_memory_used_bytes", "Host memory in use (MemTotal - MemAvailable).",
        x.memory.used);
  gauge(w, "medianest_system_memory_available_bytes", "Host memory available (MemAvailable).",
        x.memory.free);
  gauge(w, "medianest_heap_used_bytes", "Bytes the daemon's allocator has handed out.",
        x.memory.heap_used);
  gauge(w, "medianest_heap_held_bytes", "Bytes the daemon's allocator holds from the OS.",
        x.memory.heap_total);
  label path{"path", x.disk.path};
  w.family("medianest_system_disk_total_bytes",
           "Size of the filesystem holding the data directory.", family_type::gauge);
  w.sample({path}, x.disk.total);
  w.family("medianest_system_disk_used_bytes",
           "Bytes used on the filesystem holding the data directory.", family_type::gauge);
  w.sample({path}, x.disk.used);
  w.family("medianest_system_disk_available_bytes",
           "Bytes available to unprivileged users on the filesystem holding the data directory.",
           family_type::gauge);
  w.sample({path}, x.disk.free);
}

void render_database(writer& w, const snapshot& s) {
  if (!s.database.available())
    return;
  const auto& x = *s.database.value;
  w.family("medianest_database_info", "The daemon's SQL database backend (always 1).",
           family_type::gauge);
  w.sample({{"backend", x.backend}}, 1);
  gauge(w, "medianest_database_query_average_seconds",
        "Mean duration of the daemon's own SQL queries since start.",
        x.average_query_time / 1000);
  counter(w, "medianest_database_slow_queries_total",
          "The daemon's SQL queries slower than --slow-query-ms since start.", x.slow_queries);
  w.family("medianest_database_queries_total",
           "The daemon's SQL queries since start, by their first keyword.", family_type::counter);
  w.sample({{"operation", "select"}}, x.query_stats.selects);
  w.sample({{"operation", "insert"}}, x.query_stats.inserts);
  w.sample({{"operation", "update"}}, x.query_stats.updates);
  w.sample({{"operation", "delete"}}, x.query_stats.deletes);
  gauge(w, "medianest_database_pool_usage_ratio",
        "Share of the SQL pool's capacity spent executing over the last sample interval (0-1).",
        x.connection_pool_usage / 100);
  gauge(w, "medianest_database_active_connections",
        "PostgreSQL: client backends connected to the database; SQLite: the daemon's open "
        "sessions.",
        x.active_connections);
  gauge(w, "medianest_database_max_connections",
        "PostgreSQL: max_connections; SQLite: the daemon's pool size.", x.max_connections);
}

void render_cache(writer& w, const snapshot& s) {
  if (!s.cache.available())
    return;
  const auto& x = *s.cache.value;
  w.family("medianest_cache_info",
           "Where the cache figures come from: redis or the builtin response cache (always 1).",
           family_type::gauge);
  w.sample({{"source", x.source}}, 1);
  gauge(w, "medianest_cache_hit_ratio", "Hits / (hits + misses) over the last sample interval.",
        x.hit_rate);
  gauge(w, "medianest_cache_keys", "Keys held.", x.total_keys);
  gauge(w, "medianest_cache_memory_bytes", "Memory used by the cache.", x.memory_bytes);
  counter(w, "medianest_cache_evictions_total", "Keys evicted since the cache started.",
          x.evictions);
  w.family("medianest_cache_operations_total", "Cache commands since the cache started.",
           family_type::counter);
  w.sample({{"operation", "get"}}, x.gets);
  w.sample({{"operation", "set"}}, x.sets);
  w.sample({{"operation", "delete"}}, x.deletes);
  if (x.source == "redis")
    gauge(w, "medianest_cache_connected_clients", "Clients connected to Redis (all of them).",
          x.connected_clients);
}

void render_resources(writer& w, const snapshot& s) {
  if (!s.resources.available())
    return;
  const auto& x = *s.resources.value;
  counter(w, "medianest_network_receive_bytes_total",
          "Bytes received on all interfaces but lo since they came up.",
          x.network.bytes_received);
  counter(w, "medianest_network_transmit_bytes_total",
          "Bytes sent on all interfaces but lo since they came up.", x.network.bytes_sent);
  counter(w, "medianest_network_receive_packets_total",
          "Packets received on all interfaces but lo since they came up.",
          x.network.packets_received);
  counter(w, "medianest_network_transmit_packets_total",
          "Packets sent on all interfaces but lo since they came up.", x.network.packets_sent);
  counter(w, "medianest_network_errors_total",
          "Receive and transmit errors on all interfaces but lo since they came up.",
          x.network.errors);
  gauge(w, "medianest_disk_iops",
        "Reads and writes per second of the whole physical disks over the last sample interval.",
        x.storage.iops);
  w.family("medianest_open_connections",
           "Connections open now: http and websocket to the daemon, database (as "
           "medianest_database_active_connections) and redis (Redis' connected clients).",
           family_type::gauge);
  w.sample({{"kind", "http"}}, x.connections.http);
  w.sample({{"kind", "websocket"}}, x.connections.websocket);
  w.sample({{"kind", "database"}}, x.connections.database);
  w.sample({{"kind", "redis"}}, x.connections.redis);
  std::vector<std::string> pids;
  pids.reserve(x.processes.size());
  for (const auto& p : x.processes)
    pids.push_back(std::to_string(p.pid));
  w.family("medianest_tracked_process_cpu_ratio",
           "CPU used by this daemon and the --watch-process processes over the last sample "
           "interval, in cores (1 = one core busy).",
           family_type::gauge);
  for (size_t i = 0; i < x.processes.size(); ++i)
    w.sample({{"name", x.processes[i].name}, {"pid", pids[i]}}, x.processes[i].cpu / 100);
  w.family("medianest_tracked_process_resident_memory_bytes",
           "Resident memory of this daemon and the --watch-process processes.",
           family_type::gauge);
  for (size_t i = 0; i < x.processes.size(); ++i)
    w.sample({{"name", x.processes[i].name}, {"pid", pids[i]}}, x.processes[i].memory);
}

void render_gateway(writer& w, const snapshot& s) {
  if (!s.gateway.available())
    return;
  const auto& x = *s.gateway.value;
  counter(w, "medianest_gateway_requests_total",
          "Proxied requests answered since start (cache hits included).", x.requests);
  gauge(w, "medianest_gateway_in_flight_requests", "Proxied requests being answered now.",
        x.in_flight);
  gauge(w, "medianest_gateway_queued_requests", "Requests waiting for an upstream connection.",
        x.queued);
  gauge(w, "medianest_gateway_upstream_connections", "Upstream connections open now.",
        x.connections_open);
  gauge(w, "medianest_gateway_upstream_idle_connections",
        "Upstream connections open and idle now.", x.connections_idle);
  gauge(w, "medianest_gateway_upstream_max_connections", "The upstream pool's size limit.",
        x.connections_max);
  counter(w, "medianest_gateway_upstream_errors_total",
          "502 answers since start: upstream refused, reset or malformed.", x.upstream_errors);
  counter(w, "medianest_gateway_upstream_timeouts_total", "504 answers since start.",
          x.upstream_timeouts);
  w.family("medianest_gateway_cache_lookups_total",
           "Lookups of cached routes in the gateway's response cache since start.",
           family_type::counter);
  w.sample({{"result", "hit"}}, x.cache_hits);
  w.sample({{"result", "miss"}}, x.cache_misses);
  counter(w, "medianest_gateway_cache_stores_total",
          "Responses stored in the gateway's response cache since start.", x.cache_stores);
  w.family("medianest_gateway_shed_requests_total",
           "Requests answered 503 since start, by reason: degraded (PERFORMANCE_DEGRADED), "
           "circuit_open (CIRCUIT_BREAKER_OPEN), exhausted (RESOURCE_EXHAUSTED).",
           family_type::counter);
  w.sample({{"reason", "degraded"}}, x.shed_degraded);
  w.sample({{"reason", "circuit_open"}}, x.shed_circuit_open);
  w.sample({{"reason", "exhausted"}}, x.shed_exhausted);
  counter(w, "medianest_gateway_rate_limited_requests_total",
          "Requests answered 429 RATE_LIMITED since start.", x.rate_limited);
  w.family("medianest_gateway_circuit_state",
           "The upstream circuit breaker: 1 for its current state, 0 for the others.",
           family_type::gauge);
  for (std::string_view state : {"closed", "open", "half-open"})
    w.sample({{"state", state}}, x.circuit_state == state ? 1 : 0);
}

void render_process(writer& w, const snapshot& s) {
  if (!s.resources.available() || !s.resources.value->own)
    return;
  const auto& x = *s.resources.value->own;
  counter(w, "process_cpu_seconds_total", "Total user and system CPU time spent in seconds.",
          x.cpu_seconds);
  gauge(w, "process_resident_memory_bytes", "Resident memory size in bytes.", x.resident_bytes);
  gauge(w, "process_virtual_memory_bytes", "Virtual memory size in bytes.", x.virtual_bytes);
  gauge(w, "process_start_time_seconds",
        "Start time of the process since unix epoch in seconds.", x.start_time);
  gauge(w, "process_open_fds", "Number of open file descriptors.", x.open_fds);
  gauge(w, "process_max_fds", "Maximum number of open file descriptors.", x.max_fds);
}

// -- extras --------------------------------------------------------------------

bool has_suffix_of(std::string_view name, std::initializer_list<std::string_view> suffixes) {
  return std::any_of(suffixes.begin(), suffixes.end(),
                     [name](std::string_view s) { return name.ends_with(s); });
}

void render_extras(writer& w, const prometheus_extras& extras) {
  std::vector<label> ls;
  for (const auto& f : extras.families) {
    std::string name = f.name;
    if (f.kind == metric_kind::counter && !name.ends_with("_total"))
      name += "_total";
    std::string_view base = name;
    if (f.kind == metric_kind::counter)
      base.remove_suffix(6);
    if (!valid_metric_name(name) || base.empty() || name.starts_with("__") || w.used(base))
      continue;
    if (has_suffix_of(base, {"_total", "_bucket", "_sum", "_count", "_created", "_info"}))
      continue;
    if (!w.family(name, f.help,
                  f.kind == metric_kind::counter ? family_type::counter : family_type::gauge))
      continue;
    for (const auto& p : f.points) {
      if (f.kind == metric_kind::counter && !(p.value >= 0))
        continue;
      ls.clear();
      bool ok = true;
      for (const auto& kv : p.labels) {
        // Not a structured binding: clang before 16 cannot capture one in the lambda.
        const auto& k = kv.first;
        ok = valid_label_name(k) && k != "le" && k != "quantile"
             && std::none_of(ls.begin(), ls.end(), [&](const label& l) { return l.name == k; });
        if (!ok)
          break;
        ls.push_back({k, kv.second});
      }
      if (ok)
        w.sample_with("", ls, p.value);
    }
  }
}

} // namespace

std::string render_prometheus(const snapshot& s, exposition_format f,
                              const prometheus_extras& extras) {
  std::string out;
  size_t series = 0;
  if (s.api.value && s.api.value->totals)
    series = s.api.value->totals->series.size();
  out.reserve(8192 + series * 2048);
  writer w{f, out};
  render_api(w, s);
  render_up(w, s);
  render_system(w, s);
  render_database(w, s);
  render_cache(w, s);
  render_resources(w, s);
  render_gateway(w, s);
  render_process(w, s);
  render_extras(w, extras);
  w.finish();
  return out;
}

} // namespace medianest
