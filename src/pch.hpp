// Precompiled header of the core library: the heavy, stable third-party headers only.
#pragma once

#include <caf/all.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>
