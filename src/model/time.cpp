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

std::optional<sys_ms> parse_iso8601(std::string_view text) {
  // "2025-01-15T12:00:00.000Z": digits everywhere but these positions.
  static constexpr std::string_view shape = "0000-00-00T00:00:00.000Z";
  if (text.size() != shape.size())
    return std::nullopt;
  for (size_t i = 0; i < shape.size(); ++i) {
    bool digit = text[i] >= '0' && text[i] <= '9';
    if (shape[i] == '0' ? !digit : text[i] != shape[i])
      return std::nullopt;
  }
  auto num = [&](size_t at, size_t len) {
    int n = 0;
    for (size_t i = at; i < at + len; ++i)
      n = n * 10 + (text[i] - '0');
    return n;
  };
  using namespace std::chrono;
  year_month_day date{year{num(0, 4)}, month{static_cast<unsigned>(num(5, 2))},
                      day{static_cast<unsigned>(num(8, 2))}};
  int h = num(11, 2), m = num(14, 2), s = num(17, 2);
  if (!date.ok() || h > 23 || m > 59 || s > 59)
    return std::nullopt;
  return time_point_cast<milliseconds>(sys_days{date}) + hours{h} + minutes{m} + seconds{s}
         + milliseconds{num(20, 3)};
}

sys_ms now_ms() {
  return std::chrono::time_point_cast<std::chrono::milliseconds>(std::chrono::system_clock::now());
}

} // namespace medianest
