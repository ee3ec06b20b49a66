// Precompiled header of the core library: the heavy, stable third-party headers only.
#pragma once

#include <caf/all.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

// fmt 9's headers do not declare extern the formatting routine that libfmt.so instantiates, so
// every file that logs or formats compiled its own copy, float formatting included. Declared
// here, every file calls the library's.
FMT_BEGIN_NAMESPACE
namespace detail {
extern template void vformat_to<char>(buffer<char>&, string_view,
                                      basic_format_args<FMT_BUFFER_CONTEXT(char)>, locale_ref);
} // namespace detail
FMT_END_NAMESPACE

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
