#pragma once

// The one type-id block of the project: every atom and every message type that travels
// between actors is registered here.

#include <caf/type_id.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(medianest, caf::first_custom_type_id)

CAF_END_TYPE_ID_BLOCK(medianest)
