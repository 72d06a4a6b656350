// SPDX-License-Identifier: MIT
// A device register block on the board's bus. Offsets are relative to the block's base; sizes are 1, 2 or 4.
#pragma once

#include <cstdint>

namespace strobe::vmm {

class Device {
 public:
  virtual ~Device() = default;
  virtual uint32_t Read(uint32_t offset, unsigned size) = 0;
  virtual void Write(uint32_t offset, unsigned size, uint32_t value) = 0;
};

}  // namespace strobe::vmm
