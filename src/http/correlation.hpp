#pragma once

#include <string>
#include <string_view>

namespace medianest::http {

/// A new correlation id: 32 random hex digits in the 8-4-4-4-12 layout of a UUID v4.
std::string make_correlation_id();
/// The same, written into `out` (whose storage is reused).
void make_correlation_id(std::string& out);

/// Whether a client-sent correlation id may be echoed and logged: 1–128 characters of
/// [A-Za-z0-9._:-], so that it can neither inject log lines nor bloat them.
bool acceptable_correlation_id(std::string_view id) noexcept;

} // namespace medianest::http
