#pragma once

// Byte counts as people read them: "128MB", "1.5GB".

#include <cstdint>
#include <string>

namespace medianest {

/// Formats a byte count with binary (1024-based) units B, KB, MB, GB and TB, as the spec writes
/// them ("128MB"): the largest unit the value reaches, one decimal rounded half up, and no
/// decimal when the rounded value is whole ("0B", "512B", "1KB", "1.5MB"). Bytes never carry a
/// decimal. A value that rounds up to 1024 of a unit is shown in the next unit ("1MB", not
/// "1024KB"); TB is the largest unit ("2048TB").
std::string human_bytes(uint64_t bytes);

} // namespace medianest
