#pragma once

// Every typed actor interface of the daemon, one comment per handler.

#include <caf/typed_actor.hpp>

#include "actors/atoms.hpp"

namespace medianest {

} // namespace medianest
