#pragma once

#include <span>
#include <string_view>

namespace medianest::http {

/// One file of the dashboard, embedded in the binary at build time.
struct embedded_file {
  /// Its path under src/http/dashboard/, e.g. "app.js".
  std::string_view name;
  /// Its bytes, exactly as in the repository.
  std::string_view bytes;
};

/// Every file of src/http/dashboard/. Defined in a source that cmake/embed_files.cmake
/// generates into the build directory.
std::span<const embedded_file> embedded_dashboard_files() noexcept;

} // namespace medianest::http
