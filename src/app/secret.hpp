#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace medianest {

/// The HS256 secret: MEDIANEST_JWT_SECRET when set (at least 32 characters), else the file
/// <data_dir>/jwt-secret, created with 64 random hex characters and mode 0600 on first use.
/// A file readable by group or others is tightened to 0600 with a warning.
std::optional<std::string> load_or_create_secret(const std::filesystem::path& data_dir,
                                                 std::string& error);

/// The file the generated secret lives in.
std::filesystem::path secret_file(const std::filesystem::path& data_dir);

} // namespace medianest
