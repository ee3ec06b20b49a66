#include "actors/series_buffer.hpp"

#include <algorithm>

namespace medianest {

namespace {

int64_t ms_of(sys_ms t) {
  return t.time_since_epoch().count();
}

int64_t floor_div(int64_t a, int64_t b) {
  auto q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

} // namespace

series_buffer::series_buffer(int64_t raw_retention_seconds)
  : raw_retention_ms_(raw_retention_seconds * 1000) {
  for (const auto& m : builtin_metrics())
    series_[std::string{m.name}].info = m;
}

series_buffer::series& series_buffer::series_for(const std::string& name) {
  auto it = series_.find(name);
  if (it != series_.end())
    return it->second;
  auto& s = series_[name];
  s.info = *find_metric(name);
  s.info.name = {}; // the map key holds the name; the view would dangle
  return s;
}

void series_buffer::roll(series& s, int64_t unix_s) {
  for (size_t i = 0; i < 3; ++i) {
    auto& open = s.open[i];
    if (open && open->start + resolutions[i] <= unix_s) {
      s.closed[i].push_back(std::move(*open));
      open.reset();
      s.dirty[i] = false;
    }
  }
}

void series_buffer::trim_raw(series& s, int64_t now_ms) {
  while (!s.raw.empty() && s.raw.front().first < now_ms - raw_retention_ms_)
    s.raw.pop_front();
}

void series_buffer::add_value(const std::string& name, int64_t at_ms, double value) {
  auto& s = series_for(name);
  auto unix_s = floor_div(at_ms, 1000);
  roll(s, unix_s);
  for (size_t i = 0; i < 3; ++i) {
    auto& open = s.open[i];
    if (!open) {
      open.emplace();
      open->start = bucket_start(unix_s, resolutions[i]);
    }
    open->add(value, s.info.scale);
    s.dirty[i] = true;
  }
  s.raw.emplace_back(at_ms, static_cast<float>(value));
  trim_raw(s, at_ms);
}

void series_buffer::add_histogram(const std::string& name, int64_t at_ms,
                                  const latency_histogram& h) {
  auto& s = series_for(name);
  auto unix_s = floor_div(at_ms, 1000);
  roll(s, unix_s);
  if (h.empty())
    return;
  for (size_t i = 0; i < 3; ++i) {
    auto& open = s.open[i];
    if (!open) {
      open.emplace();
      open->start = bucket_start(unix_s, resolutions[i]);
    }
    open->add_histogram(h, s.info.scale);
    s.dirty[i] = true;
  }
  s.raw.emplace_back(at_ms, static_cast<float>(h.mean() / s.info.scale));
  trim_raw(s, at_ms);
}

void series_buffer::ingest(const snapshot& snap) {
  if (snap.api.available() && snap.api.updated != api_seen_) {
    api_seen_ = snap.api.updated;
    const auto& api = *snap.api.value;
    auto at = ms_of(snap.api.updated);
    add_histogram("response_time", at, api.interval_latency);
    if (api.interval_requests > 0)
      add_value("error_rate", at,
                static_cast<double>(api.interval_errors)
                  / static_cast<double>(api.interval_requests));
    add_value("requests_per_minute", at, api.requests_per_minute);
    for (const auto& e : api.slowest_endpoints) {
      auto name = route_metric_name(e.method, e.path);
      if (!series_.count(name)) {
        if (route_series_ >= max_route_series)
          continue;
        ++route_series_;
      }
      add_value(name, at, e.average_time);
    }
  }
  if (snap.system.available() && snap.system.updated != system_seen_) {
    system_seen_ = snap.system.updated;
    const auto& sys = *snap.system.value;
    auto at = ms_of(snap.system.updated);
    add_value("cpu", at, sys.cpu.usage);
    add_value("memory", at, sys.memory.percentage);
    add_value("disk", at, sys.disk.percentage);
  }
  if (snap.cache.available() && snap.cache.updated != cache_seen_) {
    cache_seen_ = snap.cache.updated;
    // A cache nobody has read from has no hit rate, not a 0 % one.
    if (snap.cache.value->gets > 0)
      add_value("cache_hit_rate", ms_of(snap.cache.updated), snap.cache.value->hit_rate);
  }
}

std::vector<rollup_row> series_buffer::take_dirty(int64_t now_unix) {
  std::vector<rollup_row> rows;
  for (auto& [name, s] : series_) {
    roll(s, now_unix);
    trim_raw(s, now_unix * 1000); // also for series that stopped receiving samples
    for (size_t i = 0; i < 3; ++i) {
      for (const auto& r : s.closed[i])
        rows.push_back(to_row(name, resolutions[i], r, s.info.scale));
      s.closed[i].clear();
      if (s.open[i] && s.dirty[i])
        rows.push_back(to_row(name, resolutions[i], *s.open[i], s.info.scale));
      s.dirty[i] = false;
    }
  }
  return rows;
}

void series_buffer::restore(const rollup_row& row, int64_t now_unix) {
  auto info = find_metric(row.metric);
  if (!info)
    return;
  auto idx = std::find(std::begin(resolutions), std::end(resolutions), row.resolution)
             - std::begin(resolutions);
  if (idx >= 3 || row.start + row.resolution <= now_unix)
    return;
  rollup r;
  if (!from_row(row, r))
    return;
  auto& s = series_for(row.metric);
  if (info->name.substr(0, route_metric_prefix.size()) == route_metric_prefix
      && s.open[0] == std::nullopt && s.open[1] == std::nullopt && s.open[2] == std::nullopt)
    ++route_series_;
  s.open[static_cast<size_t>(idx)] = std::move(r);
}

std::vector<rollup_row> series_buffer::pending(const std::string& metric,
                                               int64_t resolution) const {
  std::vector<rollup_row> rows;
  auto it = series_.find(metric);
  if (it == series_.end())
    return rows;
  auto idx = std::find(std::begin(resolutions), std::end(resolutions), resolution)
             - std::begin(resolutions);
  if (idx >= 3)
    return rows;
  const auto& s = it->second;
  for (const auto& r : s.closed[static_cast<size_t>(idx)])
    rows.push_back(to_row(metric, resolution, r, s.info.scale));
  if (s.open[static_cast<size_t>(idx)])
    rows.push_back(to_row(metric, resolution, *s.open[static_cast<size_t>(idx)], s.info.scale));
  return rows;
}

std::vector<std::pair<int64_t, double>> series_buffer::raw(const std::string& metric) const {
  std::vector<std::pair<int64_t, double>> out;
  if (auto it = series_.find(metric); it != series_.end())
    for (const auto& [t, v] : it->second.raw)
      out.emplace_back(t, v);
  return out;
}

std::vector<std::string> series_buffer::series_names() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : series_)
    out.push_back(name);
  return out;
}

size_t series_buffer::memory_bytes() const {
  size_t total = 0;
  for (const auto& [name, s] : series_) {
    total += sizeof(s) + name.capacity() + s.raw.size() * sizeof(std::pair<int64_t, float>);
    auto bucket_bytes = [](const rollup& r) {
      return sizeof(r) + r.sketch.memory_bytes();
    };
    for (size_t i = 0; i < 3; ++i) {
      if (s.open[i])
        total += bucket_bytes(*s.open[i]);
      for (const auto& r : s.closed[i])
        total += bucket_bytes(r);
    }
  }
  return total;
}

size_t series_buffer::compact() {
  size_t released = 0;
  for (auto& [name, s] : series_) {
    for (auto& closed : s.closed) {
      auto before = closed.capacity();
      closed.shrink_to_fit();
      released += (before - closed.capacity()) * sizeof(rollup);
    }
    s.raw.shrink_to_fit();
  }
  return released;
}

} // namespace medianest
