#pragma once

// The snapshot in Prometheus' text exposition format 0.0.4 or in OpenMetrics 1.0.0 (families,
// labels and buckets in docs/prometheus.md). Pure functions, no I/O: the HTTP layer renders
// once per snapshot publication and serves the bodies as they are.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace medianest {

struct snapshot;

/// The two exposition formats the endpoint speaks.
enum class exposition_format : uint8_t {
  text,        ///< text/plain; version=0.0.4
  openmetrics, ///< application/openmetrics-text; version=1.0.0
};

/// The Content-Type of a body in that format.
std::string_view content_type_of(exposition_format f) noexcept;

/// The format an Accept header asks for: OpenMetrics when it accepts
/// application/openmetrics-text (version 1.0.0, 0.0.1 or none given) with a quality above 0
/// and at least that of any text/plain, text/* or */* range (on a tie, the range listed first
/// wins); the text format otherwise, also for a missing or unparsable header.
exposition_format negotiate_exposition(std::string_view accept) noexcept;

// -- extension point -----------------------------------------------------------

/// What an extra family counts.
enum class metric_kind : uint8_t { counter, gauge };

/// Label names and values of one point, in the order they are to be written.
using metric_labels = std::vector<std::pair<std::string, std::string>>;

/// One point of an extra family.
struct metric_point {
  metric_labels labels;
  double value = 0;
};

/// A family counted by a component outside the metrics snapshot.
struct metric_family {
  /// The sample name. A counter's ends in "_total" (appended when missing); OpenMetrics
  /// output names the family without it, as that format requires.
  std::string name;
  std::string help;
  metric_kind kind = metric_kind::gauge;
  std::vector<metric_point> points;
};

/// Families rendered after the snapshot's own: the extension point for what other components
/// count (active alerts by severity, optimization runs, notification deliveries). Empty by
/// default. A mistake there cannot make the exposition unparsable: a family whose name is
/// invalid, clashes with one already written, or (for a gauge) ends in a suffix reserved for
/// counters and histograms is left out, and so is a point with an invalid or repeated label
/// name, a label named "le" or "quantile", or a counter value that is negative or NaN. The
/// owner keeps the label sets of its points distinct.
struct prometheus_extras {
  std::vector<metric_family> families;
};

/// The complete exposition body of a snapshot: every family of docs/prometheus.md that has
/// data (a section that is unavailable contributes only its `medianest_collector_up` 0), then
/// the extras; in OpenMetrics terminated by "# EOF".
std::string render_prometheus(const snapshot& s, exposition_format f,
                              const prometheus_extras& extras = {});

// -- building blocks (exposed for tests) ---------------------------------------

/// [a-zA-Z_:][a-zA-Z0-9_:]*
bool valid_metric_name(std::string_view name) noexcept;

/// [a-zA-Z_][a-zA-Z0-9_]*, not starting with "__" (reserved for Prometheus' own labels).
bool valid_label_name(std::string_view name) noexcept;

/// Appends a label value between its quotes: backslash, double quote and line feed escaped
/// (\\, \", \n), and any byte that is not part of valid UTF-8 replaced by U+FFFD.
void append_label_value(std::string& out, std::string_view value);

/// Appends a sample value: the shortest text that reads back as the same double; NaN, +Inf
/// and -Inf as the formats spell them.
void append_value(std::string& out, double v);

/// The `le` label value of a bucket bound in seconds, in OpenMetrics' canonical form ("0.005",
/// "1.0", "10.0"), used by both formats so that a series keeps its name across them.
std::string le_label(double seconds);

} // namespace medianest
