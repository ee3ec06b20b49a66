#include "model/time.hpp"

#include <cstdio>
#include <ctime>

namespace medianest {

std::string iso8601(sys_ms t) {
  auto ms = t.time_since_epoch().count();
  auto secs = static_cast<std::time_t>(ms / 1000);
  auto rem = static_cast<int>(ms % 1000);
  if (rem < 0) {
    rem += 1000;
    --secs;
  }
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[64];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, rem);
  return buf;
}

void append_iso8601_seconds(std::string& out, int64_t unix_seconds) {
  thread_local int64_t cached_day = INT64_MIN;
  thread_local char date[32];
  auto day = unix_seconds >= 0 ? unix_seconds / 86400 : (unix_seconds - 86399) / 86400;
  if (day != cached_day) {
    auto t = static_cast<std::time_t>(day * 86400);
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::snprintf(date, sizeof date, "%04d-%02d-%02dT", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday);
    cached_day = day;
  }
  auto secs = static_cast<int>(unix_seconds - day * 86400);
  char time_part[16] = {
    static_cast<char>('0' + secs / 36000), static_cast<char>('0' + secs / 3600 % 10), ':',
    static_cast<char>('0' + secs % 3600 / 600), static_cast<char>('0' + secs % 3600 / 60 % 10),
    ':', static_cast<char>('0' + secs % 60 / 10), static_cast<char>('0' + secs % 10),
    '.', '0', '0', '0', 'Z', '\0'};
  out += date;
  out += time_part;
}

sys_ms now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

} // namespace medianest
