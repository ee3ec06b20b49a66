// Query strings: parse_query_string, the one decoder behind every query parameter (and the
// live feed's ?token=); parse_history_query (GET /history); parse_int_param (the limit of
// GET /alerts/events, /alerts/deliveries and /optimize). Invariants: decoding is the inverse
// of percent-encoding; a refusal is a VALIDATION_ERROR whose envelope is JSON whatever bytes
// the query held; what is accepted is within the documented choices and ranges.

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "fuzz_check.hpp"
#include "model/history.hpp"
#include "model/query_string.hpp"

using namespace medianest;

namespace {

using pairs = std::vector<std::pair<std::string, std::string>>;

std::string percent_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
        || c == '.' || c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

void check_decoder(std::string_view query) {
  pairs out;
  std::string bad_key;
  if (!parse_query_string(query, out, &bad_key))
    return;
  FUZZ_CHECK(bad_key.empty());
  // Every pair, encoded again, decodes to itself.
  std::string encoded;
  for (const auto& [k, v] : out) {
    if (!encoded.empty())
      encoded += '&';
    encoded += percent_encode(k) + '=' + percent_encode(v);
  }
  pairs again;
  FUZZ_CHECK(parse_query_string(encoded, again));
  FUZZ_CHECK(again == out);
}

void check_history(std::string_view query) {
  auto parsed = parse_history_query(query);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    fuzz::check_validation_error(*err);
    return;
  }
  const auto& q = std::get<history_query>(parsed);
  static const std::vector<std::string> periods{"1h", "24h", "7d", "30d"};
  static const std::vector<std::string> granularities{"1m", "5m", "1h"};
  FUZZ_CHECK(std::find(periods.begin(), periods.end(), q.period) != periods.end());
  FUZZ_CHECK(std::find(granularities.begin(), granularities.end(), q.granularity)
             != granularities.end());
  FUZZ_CHECK(q.period_seconds >= 3600 && q.resolution >= 60);
  FUZZ_CHECK(find_metric(q.metric).has_value());
  FUZZ_CHECK(!q.key().empty());
}

void check_limit(std::string_view query) {
  constexpr int64_t fallback = 100, max = 1000;
  auto parsed = parse_int_param(query, "limit", fallback, max);
  if (auto* err = std::get_if<api_error>(&parsed)) {
    fuzz::check_validation_error(*err);
    return;
  }
  auto n = std::get<int64_t>(parsed);
  FUZZ_CHECK(n >= 0 && n <= max);
  // Accepted means: only `limit`, and its last value is plain decimal digits spelling n.
  pairs out;
  FUZZ_CHECK(parse_query_string(query, out));
  if (out.empty()) {
    FUZZ_CHECK(n == fallback);
    return;
  }
  for (const auto& [k, v] : out) {
    FUZZ_CHECK(k == "limit");
    FUZZ_CHECK(!v.empty());
    FUZZ_CHECK(std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }));
  }
  auto last = out.back().second;
  last.erase(0, std::min(last.find_first_not_of('0'), last.size() - 1));
  FUZZ_CHECK(last == std::to_string(n));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto query = fuzz::as_text(data, size);
  check_decoder(query);
  check_history(query);
  check_limit(query);
  return 0;
}
