// SPDX-License-Identifier: MIT
// PCI configuration space (PCI Local Bus Specification 3.0, chapter 6): 256-byte spaces with per-byte write
// masks, and bus 0 with functions by device/function number. Absent functions read all ones.
#pragma once

#include <cstdint>
#include <cstring>
#include <functional>
#include <map>

namespace strobe::vmm {

class PciFunction {
 public:
  PciFunction(uint16_t vendor, uint16_t device, uint8_t revision, uint32_t class_code, uint8_t header_type);
  virtual ~PciFunction() = default;

  uint32_t ReadConfig(uint8_t reg) const;  // dword-aligned
  // Byte-enable mask (bit n = byte n of the dword) as the host bridge presents the write.
  void WriteConfig(uint8_t reg, uint32_t value, uint8_t byte_enables = 0xF);

 protected:
  void Set8(uint8_t off, uint8_t v) { space_[off] = v; }
  void Set16(uint8_t off, uint16_t v) { std::memcpy(&space_[off], &v, 2); }
  void Set32(uint8_t off, uint32_t v) { std::memcpy(&space_[off], &v, 4); }
  uint8_t Get8(uint8_t off) const { return space_[off]; }
  uint16_t Get16(uint8_t off) const {
    uint16_t v;
    std::memcpy(&v, &space_[off], 2);
    return v;
  }
  void Writable(uint8_t off, uint8_t mask) { wmask_[off] = mask; }
  void WritableRange(uint8_t from, uint8_t to) {
    for (unsigned i = from; i <= to; ++i) wmask_[i] = 0xFF;
  }
  // Called after a write landed in [reg, reg+4).
  virtual void ConfigWritten(uint8_t reg) {}

 private:
  uint8_t space_[256] = {};
  uint8_t wmask_[256] = {};
};

class PciBus {
 public:
  void Attach(unsigned device, unsigned function, PciFunction* f) {
    functions_[(device << 3) | function] = f;
  }
  // Configuration address as in the GT-64120's PCI_0 Configuration Address register.
  PciFunction* Find(unsigned bus, unsigned device, unsigned function) const {
    if (bus != 0) return nullptr;
    auto it = functions_.find((device << 3) | function);
    return it == functions_.end() ? nullptr : it->second;
  }

 private:
  std::map<unsigned, PciFunction*> functions_;
};

}  // namespace strobe::vmm
