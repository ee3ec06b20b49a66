// Prometheus label escaping: append_label_value (src/model/prometheus.cpp), directly and
// through render_prometheus, where label values come from outside: the route templates the
// gateway folds from request paths (fold_route), and the extra families other components
// add. Also negotiate_exposition on the bytes as an Accept header.
//
// Invariants: an escaped value holds no raw line feed or unescaped quote, only the escapes
// \\ \" \n, and is valid UTF-8; unescaped, it gives back a valid UTF-8 input unchanged. Every
// line of a rendered exposition, in both formats, is a well-formed HELP, TYPE, EOF or sample
// line, the whole body is valid UTF-8, and the route label reads back as the route.
//
// The input is split at 0xFF bytes (never part of UTF-8) into: path, family name, help, label
// name, label value.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "model/metrics.hpp"
#include "model/prometheus.hpp"
#include "model/route_template.hpp"

using namespace medianest;

namespace {

// The oracles below walk the whole exposition, twice per input: uninstrumented, so that the
// time goes to the code under test and their branches do not count as its coverage.
#define ORACLE __attribute__((no_sanitize("coverage")))

/// Decodes code points one by one, as an oracle independent of the code under test.
ORACLE bool valid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (len == 0 || i + len > s.size())
      return false;
    uint32_t cp = len == 1 ? c : c & (0x7F >> len);
    for (size_t k = 1; k < len; ++k) {
      auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    static constexpr uint32_t min_of[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < min_of[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

/// Reads a label value from just after its opening quote to its closing quote; nullopt for a
/// raw line feed, an unknown escape or a missing closing quote. `pos` ends after the quote.
ORACLE std::optional<std::string> read_quoted(std::string_view line, size_t& pos) {
  std::string out;
  while (pos < line.size()) {
    char c = line[pos++];
    if (c == '"')
      return out;
    if (c == '\n')
      return std::nullopt;
    if (c == '\\') {
      if (pos == line.size())
        return std::nullopt;
      char e = line[pos++];
      if (e == '\\' || e == '"')
        out += e;
      else if (e == 'n')
        out += '\n';
      else
        return std::nullopt;
    } else {
      out += c;
    }
  }
  return std::nullopt;
}

void check_escaped(std::string_view value) {
  std::string out = "\"";
  append_label_value(out, value);
  out += '"';
  FUZZ_CHECK(out.find('\n') == std::string::npos);
  FUZZ_CHECK(valid_utf8(out));
  size_t pos = 1;
  auto back = read_quoted(out, pos);
  FUZZ_CHECK(back.has_value() && pos == out.size());
  if (valid_utf8(value))
    FUZZ_CHECK(*back == value);
}

ORACLE bool metric_name_char(char c, bool first) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c == ':'
         || (!first && c >= '0' && c <= '9');
}

ORACLE size_t read_name(std::string_view line, size_t pos, bool label) {
  size_t start = pos;
  while (pos < line.size() && metric_name_char(line[pos], pos == start)
         && !(label && line[pos] == ':'))
    ++pos;
  return pos - start;
}

/// One sample line: name{label="value",...} value. Returns whether it has the label
/// route="<route>".
ORACLE bool check_sample(std::string_view line, std::string_view route) {
  bool has_route = false;
  size_t pos = read_name(line, 0, false);
  FUZZ_CHECK(pos > 0);
  if (pos < line.size() && line[pos] == '{') {
    ++pos;
    while (true) {
      auto n = read_name(line, pos, true);
      FUZZ_CHECK(n > 0);
      auto name = line.substr(pos, n);
      FUZZ_CHECK(valid_label_name(name) || name == "le" || name == "quantile");
      pos += n;
      FUZZ_CHECK(line.substr(pos, 2) == "=\"");
      pos += 2;
      auto value = read_quoted(line, pos);
      FUZZ_CHECK(value.has_value());
      has_route = has_route || (name == "route" && *value == route);
      FUZZ_CHECK(pos < line.size());
      if (line[pos] == '}') {
        ++pos;
        break;
      }
      FUZZ_CHECK(line[pos] == ',');
      ++pos;
    }
  }
  FUZZ_CHECK(pos < line.size() && line[pos] == ' ');
  auto value = line.substr(pos + 1);
  FUZZ_CHECK(!value.empty() && value.find(' ') == std::string_view::npos);
  return has_route;
}

ORACLE void check_exposition(const std::string& body, bool openmetrics, std::string_view route) {
  FUZZ_CHECK(!body.empty() && body.back() == '\n');
  FUZZ_CHECK(valid_utf8(body));
  std::string_view rest = body;
  // A route that is not valid UTF-8 is written with U+FFFD: only a valid one reads back.
  bool route_seen = !valid_utf8(route);
  bool eof = false;
  while (!rest.empty()) {
    auto nl = rest.find('\n');
    auto line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
    FUZZ_CHECK(!eof);
    FUZZ_CHECK(!line.empty());
    if (line == "# EOF") {
      FUZZ_CHECK(openmetrics);
      eof = true;
    } else if (line.starts_with("# HELP ") || line.starts_with("# TYPE ")) {
      auto n = read_name(line, 7, false);
      FUZZ_CHECK(n > 0 && line.size() > 7 + n && line[7 + n] == ' ');
      if (line.starts_with("# HELP ")) {
        // HELP text: \\ and \n escaped (and \" in OpenMetrics); no other backslash sequence.
        auto text = line.substr(8 + n);
        for (size_t i = 0; i < text.size(); ++i)
          if (text[i] == '\\') {
            FUZZ_CHECK(i + 1 < text.size());
            char e = text[++i];
            FUZZ_CHECK(e == '\\' || e == 'n' || (openmetrics && e == '"'));
          }
      }
    } else {
      FUZZ_CHECK(line.front() != '#');
      route_seen = check_sample(line, route) || route_seen;
    }
  }
  FUZZ_CHECK(eof == openmetrics);
  FUZZ_CHECK(route_seen);
}

std::vector<std::string_view> split(std::string_view text) {
  std::vector<std::string_view> parts;
  while (true) {
    auto pos = text.find('\xff');
    parts.push_back(text.substr(0, pos));
    if (pos == std::string_view::npos)
      return parts;
    text.remove_prefix(pos + 1);
  }
}

void check_render(std::string_view input) {
  auto parts = split(input);
  parts.resize(std::max<size_t>(parts.size(), 5));
  // A gateway request's path, folded as the gateway folds it, then counted.
  auto route = fold_route(parts[0]);
  auto totals = std::make_shared<request_totals>();
  request_series series;
  series.route = route;
  series.method = http_method::get;
  series.buckets[0] = 1;
  series.count = 1;
  series.sum_us = 1000;
  series.statuses.push_back({200, 1});
  totals->series.push_back(series);
  series.route = std::string{parts[0]}; // as an explicit --cache-route template might read
  series.method = http_method::post;
  totals->series.push_back(series);
  snapshot s;
  s.api.value.emplace();
  s.api.value->totals = totals;

  prometheus_extras extras;
  metric_family f;
  f.name = std::string{parts[1]};
  f.help = std::string{parts[2]};
  f.kind = parts[1].size() % 2 ? metric_kind::counter : metric_kind::gauge;
  f.points.push_back({{{std::string{parts[3]}, std::string{parts[4]}}}, 1});
  f.points.push_back({{{"value", std::string{parts[4]}}}, 2});
  extras.families.push_back(std::move(f));

  // One format per input (they differ in HELP escaping and the EOF line), to halve the time.
  auto format = input.size() % 2 ? exposition_format::openmetrics : exposition_format::text;
  check_exposition(render_prometheus(s, format, extras), format == exposition_format::openmetrics,
                   route);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto text = fuzz::as_text(data, size);
  check_escaped(text);
  check_render(text);
  (void) negotiate_exposition(text);
  return 0;
}
