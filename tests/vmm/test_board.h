// SPDX-License-Identifier: MIT
// A Malta board on its own (no CPU running), for tests that drive devices through the bus the CPU uses.
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "vmm/malta.h"

namespace strobe::test {

struct TestBoard {
  vmm::Monitor monitor{size_t{64} << 20};
  vmm::Pmap pmap{monitor, 4u << 20};
  vmm::PowerControl power;
  runtime::CpuState cpu;
  vmm::VirtualClock clock{cpu};
  std::string out;  // what the console printed
  vmm::MaltaBoard board{pmap, power, clock, [this](uint8_t b) { out.push_back(static_cast<char>(b)); }};
  uint32_t Read(uint32_t pa, unsigned size = 4) {
    uint32_t v = 0xDEADBEEF;
    EXPECT_TRUE(board.IoRead(pa, size, &v));
    return v;
  }
};

}  // namespace strobe::test
