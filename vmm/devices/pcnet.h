// SPDX-License-Identifier: MIT
// AMD PCnet-PCI II (Am79C970A) Ethernet controller, the chip behind QEMU's `pcnet` NIC and the default NIC
// of its Malta board, as Linux's pcnet32 driver uses it (AMD datasheet 19436; facts cross-checked against
// QEMU's hw/net/pcnet.c and Linux's drivers/net/ethernet/amd/pcnet32.c):
//   - the 32-byte register window (I/O BAR 0, and the same registers in memory BAR 1): the address PROM at
//     0x00-0x0F, then RDP/RAP/RESET/BDP at 0x10/0x12/0x14/0x16 in 16-bit (WIO) mode or 0x10/0x14/0x18/0x1C
//     in 32-bit (DWIO) mode; a 32-bit write to RDP switches to DWIO until the next reset;
//   - CSR0 (INIT, STRT, STOP, TDMD, IENA; IDON/TINT/RINT/MERR/MISS/BABL/CERR, write 1 to clear; INTR, ERR),
//     CSR1/2 the initialisation block address, CSR3 interrupt masks, CSR4 (auto-pad, JAB/TXSTRT/RCVCCO/
//     MFCO/UINT), CSR5, CSR8-15 (filter, address, mode), CSR58 (= BCR20), CSR72/74/76/78 ring counters and
//     lengths, CSR88/89 the chip ID (0x2621003), CSR112 missed frames; BCR2 (APROM write enable), BCR4-7
//     LEDs/link, BCR9 full duplex, BCR18 (DWIO), BCR20 software style 0 (16-bit LANCE), 2 and 3 (32-bit);
//   - the initialisation block and the receive/transmit descriptor rings in guest memory: ownership,
//     STP/ENP chaining of a frame over several buffers, ERR/BUFF/OFLO when a received frame does not fit,
//     BUFF/UFLO when a transmit chain ends without ENP, MISS (and CSR112) when no receive buffer is owned;
//     received frames are padded to 60 bytes and get a 4-byte FCS (MCNT counts it, as on the wire);
//     transmitted frames shorter than 60 bytes are padded when CSR4.APAD_XMT is set; internal loopback.
// All guest memory access goes through Memory (the board's GuestMemory); everything runs on the vCPU thread.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "vmm/device.h"
#include "vmm/net/net_port.h"

namespace strobe::vmm {

class StateIo;

class Pcnet final : public Device, public net::NicFrontend {
 public:
  static constexpr uint32_t kWindowBytes = 0x20;  // the I/O BAR and the memory BAR

  // Bus-master access to guest memory by physical address; false where there is no RAM.
  class Memory {
   public:
    virtual ~Memory() = default;
    virtual bool Read(uint32_t paddr, void* out, size_t length) = 0;
    virtual bool Write(uint32_t paddr, const void* data, size_t length) = 0;
  };
  using TransmitFn = std::function<void(const uint8_t* frame, size_t length)>;

  explicit Pcnet(const std::array<uint8_t, 6>& mac);
  void set_memory(Memory* memory) { memory_ = memory; }
  void set_transmit(TransmitFn transmit) { transmit_ = std::move(transmit); }
  // Called whenever the INTA level changes.
  void set_irq_changed(std::function<void(bool)> f) { irq_changed_ = std::move(f); }

  // H_RESET (PCI reset, power-on): every BCR to its default, then S_RESET.
  void HardReset();
  // The register window (offset below kWindowBytes; size 1, 2 or 4).
  uint32_t Read(uint32_t offset, unsigned size) override;
  void Write(uint32_t offset, unsigned size, uint32_t value) override;
  bool irq() const { return irq_; }

  // net::NicFrontend
  bool CanReceive(size_t length) override;  // a descriptor is owned (frames chain over several)
  void Receive(const uint8_t* frame, size_t length) override;
  std::array<uint8_t, 6> StationAddress() override;  // PADR (CSR12-14)

  // For tests and statistics.
  uint16_t csr(unsigned index) const { return csr_[index & 127]; }
  uint16_t bcr(unsigned index) const { return bcr_[index & 31]; }
  bool dword_io() const { return (bcr_[18] & 0x0080) != 0; }

  // Snapshots: the state in one function for both directions (vmm/state_io.h).
  void State(StateIo& io);

 private:
  struct Descriptor {     // a receive or transmit descriptor, whatever its software style
    uint32_t buffer = 0;  // buffer address
    uint16_t bcnt = 0;    // BCNT: the buffer size as a 12-bit two's complement (ones in bits 12-15)
    uint16_t status = 0;  // OWN, ERR, ..., STP, ENP
    uint32_t misc = 0;    // RMD2 (MCNT) or TMD2 (error bits)
  };

  void SoftReset();
  uint16_t ReadCsr(unsigned index);
  void WriteCsr(unsigned index, uint16_t value);
  uint16_t ReadBcr(unsigned index) const;
  void WriteBcr(unsigned index, uint16_t value);
  void WriteCsr0(uint16_t value);
  void Init();
  void Start();
  void Stop();
  void TransmitRing();
  void UpdateIrq();
  void MemoryError();

  bool stopped() const { return (csr_[0] & 0x0004) != 0; }
  bool suspended() const { return (csr_[5] & 0x0001) != 0; }
  bool ssize32() const { return (bcr_[20] & 0x0100) != 0; }
  unsigned swstyle() const { return bcr_[20] & 0xFF; }
  unsigned DescriptorBytes() const { return ssize32() ? 16 : 8; }
  uint32_t Phys(uint32_t addr) const;  // a 24-bit address gets CSR2's upper byte in 16-bit mode
  uint32_t RxDescAddr(unsigned index) const { return rdra_ + index * DescriptorBytes(); }
  uint32_t TxDescAddr(unsigned index) const { return tdra_ + index * DescriptorBytes(); }
  bool LoadDescriptor(uint32_t addr, bool rx, Descriptor* d);
  bool StoreDescriptor(uint32_t addr, bool rx, const Descriptor& d);
  bool AddressMatches(const uint8_t* frame) const;

  Memory* memory_ = nullptr;
  TransmitFn transmit_;
  std::function<void(bool)> irq_changed_;
  std::array<uint8_t, 16> prom_{};
  uint16_t csr_[128] = {};
  uint16_t bcr_[32] = {};
  unsigned rap_ = 0;
  uint32_t rdra_ = 0, tdra_ = 0;  // ring base addresses
  unsigned rx_len_ = 1, tx_len_ = 1;
  unsigned rx_index_ = 0, tx_index_ = 0;  // the descriptor the chip looks at next
  bool irq_ = false;
  bool in_transmit_ = false;
  std::vector<uint8_t> tx_frame_;
  std::vector<uint8_t> rx_frame_;
};

}  // namespace strobe::vmm
