// SPDX-License-Identifier: MIT
// What the runtime needs from the board: guest-physical RAM through the pmap, device registers, and
// notice of writes to pages holding decoded code. vmm/ implements it; the runtime knows nothing of devices.
#pragma once

#include <cstdint>

namespace strobe::runtime {

struct RamPage {
  uint8_t* host = nullptr;  // machine address of the 4 KiB page, nullptr when the address is not RAM
  bool shared = false;      // copy-on-write: writes must call RamPageForWrite first
};

class Bus {
 public:
  virtual ~Bus() = default;
  virtual RamPage LookupRam(uint32_t paddr) = 0;
  // Breaks copy-on-write sharing when needed and returns the page the VM now owns alone. When it breaks
  // sharing it also drops every soft TLB mapping of the old page (vmm::Pmap::PageForWrite does), so that
  // no cached host address of the shared page survives; callers need not flush again.
  virtual uint8_t* RamPageForWrite(uint32_t paddr) = 0;
  // Device or unbacked accesses. false means a bus error (nothing answers at this address).
  virtual bool IoRead(uint32_t paddr, unsigned size, uint32_t* value) = 0;
  virtual bool IoWrite(uint32_t paddr, unsigned size, uint32_t value) = 0;
};

// Decoded or translated code lives in guest-physical pages; writes to those pages must reach the code
// cache. The runtime keeps one flag per page and calls the owner back on the first write.
class CodeObserver {
 public:
  virtual ~CodeObserver() = default;
  virtual void InvalidateCodePage(uint32_t paddr_page) = 0;
};

}  // namespace strobe::runtime
