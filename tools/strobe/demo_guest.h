// SPDX-License-Identifier: MIT
// The bundled demo guest (guests/hello), embedded at build time by tools/strobe/embed.cmake.
#pragma once

#include <cstddef>
#include <cstdint>

namespace strobe::tools {
extern const uint8_t kDemoGuest[];
extern const size_t kDemoGuestSize;
}  // namespace strobe::tools
