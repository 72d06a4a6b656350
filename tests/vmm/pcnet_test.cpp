// SPDX-License-Identifier: MIT
// The PCnet-PCI II model driven through its registers as Linux's pcnet32 drives it (16- and 32-bit I/O,
// software styles 0, 2 and 3), against a fake guest memory: initialisation block, descriptor rings,
// chaining, MISS/BUFF/OFLO/UFLO, the address filter and the interrupt line.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "vmm/devices/pcnet.h"

namespace strobe::vmm {
namespace {

constexpr std::array<uint8_t, 6> kMac = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};

class FakeMemory : public Pcnet::Memory {
 public:
  explicit FakeMemory(size_t size) : bytes(size, 0) {}
  bool Read(uint32_t paddr, void* out, size_t length) override {
    if (paddr + length > bytes.size()) return false;
    std::memcpy(out, &bytes[paddr], length);
    return true;
  }
  bool Write(uint32_t paddr, const void* data, size_t length) override {
    if (paddr + length > bytes.size()) return false;
    std::memcpy(&bytes[paddr], data, length);
    return true;
  }
  uint32_t R32(uint32_t a) const {
    uint32_t v;
    std::memcpy(&v, &bytes[a], 4);
    return v;
  }
  void W32(uint32_t a, uint32_t v) { std::memcpy(&bytes[a], &v, 4); }
  void W16(uint32_t a, uint16_t v) { std::memcpy(&bytes[a], &v, 2); }
  std::vector<uint8_t> bytes;
};

constexpr uint32_t kInitBlock = 0x1000, kRxRing = 0x2000, kTxRing = 0x3000, kBuffers = 0x10000;

class PcnetTest : public ::testing::Test {
 protected:
  PcnetTest() : mem(1 << 20), nic(kMac) {
    nic.set_memory(&mem);
    nic.set_transmit([this](const uint8_t* f, size_t n) { sent.emplace_back(f, f + n); });
    nic.set_irq_changed([this](bool level) { irq_edges += level; });
  }
  // 16-bit I/O, as pcnet32 finds the chip after reset.
  void Csr(unsigned i, uint16_t v) {
    nic.Write(0x12, 2, i);
    nic.Write(0x10, 2, v);
  }
  uint16_t Csr(unsigned i) {
    nic.Write(0x12, 2, i);
    return static_cast<uint16_t>(nic.Read(0x10, 2));
  }
  void Bcr(unsigned i, uint16_t v) {
    nic.Write(0x12, 2, i);
    nic.Write(0x16, 2, v);
  }
  uint16_t Bcr(unsigned i) {
    nic.Write(0x12, 2, i);
    return static_cast<uint16_t>(nic.Read(0x16, 2));
  }
  // Rx descriptor (software style 2): buffer, -size with ones, OWN.
  void RxDesc(unsigned i, uint32_t buf, uint16_t size, bool own = true) {
    const uint32_t a = kRxRing + 16 * i;
    mem.W32(a, buf);
    mem.W32(a + 4, (static_cast<uint32_t>(own ? 0x8000 : 0) << 16) | 0xF000 | ((0x1000 - size) & 0xFFF));
    mem.W32(a + 8, 0);
  }
  void TxDesc(unsigned i, uint32_t buf, uint16_t size, uint16_t status) {
    const uint32_t a = kTxRing + 16 * i;
    mem.W32(a, buf);
    mem.W32(a + 4, static_cast<uint32_t>(status) << 16 | 0xF000 | ((0x1000 - size) & 0xFFF));
    mem.W32(a + 8, 0);
  }
  uint16_t RxStatus(unsigned i) { return static_cast<uint16_t>(mem.R32(kRxRing + 16 * i + 4) >> 16); }
  uint16_t TxStatus(unsigned i) { return static_cast<uint16_t>(mem.R32(kTxRing + 16 * i + 4) >> 16); }

  // What pcnet32_open does: software style 2, the 32-bit init block (log2 ring sizes), CSR1/2, CSR4,
  // INIT, wait for IDON, then STRT|IENA.
  void Open(unsigned rx_log2 = 2, unsigned tx_log2 = 2) {
    nic.Read(0x14, 2);  // reset
    Bcr(20, 2);
    mem.W16(kInitBlock, 0);  // mode
    mem.bytes[kInitBlock + 2] = static_cast<uint8_t>(rx_log2 << 4);
    mem.bytes[kInitBlock + 3] = static_cast<uint8_t>(tx_log2 << 4);
    std::memcpy(&mem.bytes[kInitBlock + 4], kMac.data(), 6);
    mem.W32(kInitBlock + 12, 0);
    mem.W32(kInitBlock + 16, 0);
    mem.W32(kInitBlock + 20, kRxRing);
    mem.W32(kInitBlock + 24, kTxRing);
    for (unsigned i = 0; i < (1u << rx_log2); ++i) RxDesc(i, kBuffers + 0x800 * i, 1536);
    for (unsigned i = 0; i < (1u << tx_log2); ++i) TxDesc(i, 0, 0, 0);
    Csr(1, kInitBlock & 0xFFFF);
    Csr(2, kInitBlock >> 16);
    Csr(4, 0x0915);
    Csr(0, 0x0001);
    ASSERT_TRUE(Csr(0) & 0x0100) << "IDON";
    Csr(0, 0x0142);  // ack IDON, STRT, IENA
  }
  std::vector<uint8_t> Frame(const uint8_t* dst, size_t length, uint8_t fill = 0xA5) {
    std::vector<uint8_t> f(length, fill);
    std::memcpy(f.data(), dst, 6);
    std::memcpy(f.data() + 6, "\x52\x55\x0a\x00\x02\x02", 6);
    f[12] = 0x08;
    f[13] = 0x00;
    return f;
  }

  FakeMemory mem;
  Pcnet nic;
  std::vector<std::vector<uint8_t>> sent;
  int irq_edges = 0;
};

TEST_F(PcnetTest, AddressPromAndChipId) {
  for (unsigned i = 0; i < 6; ++i) EXPECT_EQ(nic.Read(i, 1), kMac[i]);
  EXPECT_EQ(nic.Read(14, 1), 0x57u);
  EXPECT_EQ(nic.Read(15, 1), 0x57u);
  uint16_t sum = 0;
  for (unsigned i = 0; i < 12; ++i) sum = static_cast<uint16_t>(sum + nic.Read(i, 1));
  sum = static_cast<uint16_t>(sum + 0x57 + 0x57);
  EXPECT_EQ(nic.Read(12, 2), sum);
  EXPECT_EQ(nic.Read(0x14, 2), 0u);  // reset register
  EXPECT_EQ(Csr(0), 0x0004);         // stopped
  nic.Write(0x12, 2, 88);
  EXPECT_EQ(nic.Read(0x12, 2), 88u);
  const uint32_t id = Csr(88) | static_cast<uint32_t>(Csr(89)) << 16;
  EXPECT_EQ(id & 0xFFF, 0x003u);              // AMD
  EXPECT_EQ((id >> 12) & 0xFFFF, 0x2621u);    // PCnet-PCI II 79C970A, what pcnet32 matches
  EXPECT_EQ(Bcr(4) & 0x80C0, 0x80C0);         // link LED on
  EXPECT_EQ(nic.Read(0x10, 4), 0xFFFFFFFFu);  // dword reads do nothing in WIO mode
}

TEST_F(PcnetTest, DwordIoMode) {
  EXPECT_FALSE(nic.dword_io());
  nic.Write(0x10, 4, 0);  // a dword write to RDP selects DWIO
  EXPECT_TRUE(nic.dword_io());
  nic.Write(0x14, 4, 88);
  EXPECT_EQ(nic.Read(0x14, 4), 88u);
  EXPECT_EQ(nic.Read(0x10, 4) & 0xFFFF, 0x1003u);
  nic.Write(0x14, 4, 20);
  nic.Write(0x1C, 4, 3);
  EXPECT_EQ(nic.Read(0x1C, 4), 0x0303u);  // style 3: SSIZE32 and CSRPCNET set
  const uint32_t prom0 = nic.Read(0, 4);
  EXPECT_EQ(prom0, 0x12005452u);
  EXPECT_EQ(nic.Read(0x18, 4), 0u);  // reset: back to WIO
  EXPECT_FALSE(nic.dword_io());
}

TEST_F(PcnetTest, InitStartAndInterrupt) {
  Open();
  EXPECT_EQ(Csr(0) & 0x0033, 0x0033) << "INIT STRT TXON RXON";
  EXPECT_EQ(Csr(76), 4);
  EXPECT_EQ(Csr(78), 4);
  EXPECT_FALSE(nic.irq());
  Csr(3, 0);
  EXPECT_EQ(Csr(58) & 0xFF, 2);
}

TEST_F(PcnetTest, TransmitPadsAndReleasesDescriptors) {
  Open();
  const auto f = Frame(kMac.data(), 42);
  std::memcpy(&mem.bytes[0x40000], f.data(), f.size());
  TxDesc(0, 0x40000, 42, 0x8300);  // OWN STP ENP
  Csr(0, 0x0048);                  // TDMD | IENA
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0].size(), 60u);  // APAD_XMT (CSR4 0x0800) pads to the minimum
  EXPECT_TRUE(std::equal(f.begin(), f.end(), sent[0].begin()));
  EXPECT_EQ(TxStatus(0) & 0x8000, 0);
  EXPECT_TRUE(Csr(0) & 0x0200) << "TINT";
  EXPECT_TRUE(nic.irq());
  Csr(0, 0x0240);  // acknowledge TINT, keep IENA
  EXPECT_FALSE(nic.irq());

  // A frame over two descriptors (STP, then ENP).
  std::vector<uint8_t> big = Frame(kMac.data(), 1000, 0x3C);
  std::memcpy(&mem.bytes[0x41000], big.data(), 600);
  std::memcpy(&mem.bytes[0x42000], big.data() + 600, 400);
  TxDesc(1, 0x41000, 600, 0x8200);
  TxDesc(2, 0x42000, 400, 0x8100);
  Csr(0, 0x0048);
  ASSERT_EQ(sent.size(), 2u);
  EXPECT_EQ(sent[1], big);
  EXPECT_EQ(TxStatus(1) & 0x8000, 0);
  EXPECT_EQ(TxStatus(2) & 0x8000, 0);
}

TEST_F(PcnetTest, TransmitChainWithoutEndIsUnderflow) {
  Open();
  TxDesc(0, 0x40000, 100, 0x8200);  // STP, no ENP, and the next descriptor is the host's
  Csr(0, 0x0048);
  EXPECT_TRUE(sent.empty());
  EXPECT_TRUE(TxStatus(0) & 0x4000) << "ERR";
  EXPECT_EQ(mem.R32(kTxRing + 8) & 0xC0000000u, 0xC0000000u) << "BUFF UFLO";
  EXPECT_FALSE(Csr(0) & 0x0010) << "the transmitter stops";
}

TEST_F(PcnetTest, ReceiveChainsBuffersWithFcs) {
  Open();
  RxDesc(0, kBuffers, 64);
  RxDesc(1, kBuffers + 0x800, 64);
  RxDesc(2, kBuffers + 0x1000, 1536);
  ASSERT_TRUE(nic.CanReceive(60));
  const auto f = Frame(kMac.data(), 150, 0x77);
  nic.Receive(f.data(), f.size());
  EXPECT_EQ(RxStatus(0) & 0x8300, 0x0200) << "given back, STP";
  EXPECT_EQ(RxStatus(1) & 0x8300, 0x0000);
  EXPECT_EQ(RxStatus(2) & 0x8340, 0x0140) << "ENP, PAM";
  EXPECT_EQ(mem.R32(kRxRing + 32 + 8) & 0xFFF, 154u) << "MCNT counts the FCS";
  std::vector<uint8_t> got(mem.bytes.begin() + kBuffers, mem.bytes.begin() + kBuffers + 64);
  got.insert(got.end(), mem.bytes.begin() + kBuffers + 0x800, mem.bytes.begin() + kBuffers + 0x800 + 64);
  got.insert(got.end(), mem.bytes.begin() + kBuffers + 0x1000, mem.bytes.begin() + kBuffers + 0x1000 + 26);
  EXPECT_TRUE(std::equal(f.begin(), f.end(), got.begin()));
  // The FCS is the frame's CRC-32 (IEEE 802.3), least significant byte first.
  uint32_t crc = 0xFFFFFFFFu;
  for (uint8_t b : f) {
    crc ^= b;
    for (int k = 0; k < 8; ++k) crc = (crc & 1) ? (crc >> 1) ^ 0xEDB88320u : crc >> 1;
  }
  uint32_t fcs;
  std::memcpy(&fcs, &got[150], 4);
  EXPECT_EQ(fcs, ~crc);
  EXPECT_TRUE(Csr(0) & 0x0400) << "RINT";
  EXPECT_TRUE(nic.irq());

  // A short frame is padded to 60 bytes (+ FCS).
  const auto small = Frame(kMac.data(), 42);
  nic.Receive(small.data(), small.size());
  EXPECT_EQ(mem.R32(kRxRing + 48 + 8) & 0xFFF, 64u);
}

TEST_F(PcnetTest, ReceiveMissAndOverflow) {
  Open(1, 1);  // two receive descriptors
  RxDesc(0, kBuffers, 64);
  RxDesc(1, kBuffers + 0x800, 64, false);
  const auto f = Frame(kMac.data(), 200);
  nic.Receive(f.data(), f.size());  // does not fit: the next descriptor is the host's
  EXPECT_EQ(RxStatus(0) & 0x5700, 0x5600 & 0x5700) << "ERR OFLO BUFF STP";
  EXPECT_FALSE(nic.CanReceive(60));
  nic.Receive(f.data(), f.size());  // no buffer at all
  EXPECT_TRUE(Csr(0) & 0x1000) << "MISS";
  EXPECT_TRUE(Csr(0) & 0x8000) << "ERR";
  EXPECT_EQ(Csr(112), 1);
}

TEST_F(PcnetTest, AddressFilter) {
  Open();
  const uint8_t other[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x57};
  const uint8_t bcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  auto f = Frame(other, 64);
  nic.Receive(f.data(), f.size());
  EXPECT_EQ(RxStatus(0) & 0x8000, 0x8000) << "another station's frame is ignored";
  f = Frame(bcast, 64);
  nic.Receive(f.data(), f.size());
  EXPECT_EQ(RxStatus(0) & 0x8310, 0x0310) << "broadcast: STP ENP BAM";
  // Promiscuous mode (CSR15.PROM) takes everything; it can be set only while stopped.
  Csr(0, 0x0004);
  Csr(15, 0x8000);
  Csr(0, 0x0002);
  f = Frame(other, 64);
  nic.Receive(f.data(), f.size());
  EXPECT_EQ(RxStatus(1) & 0x8300, 0x0300);
}

TEST_F(PcnetTest, SoftwareStyleZeroSixteenBitStructures) {
  nic.Read(0x14, 2);
  // 16-bit init block: mode, PADR, LADRF, RDRA|RLEN<<29, TDRA|TLEN<<29.
  mem.W16(kInitBlock, 0);
  std::memcpy(&mem.bytes[kInitBlock + 2], kMac.data(), 6);
  mem.W32(kInitBlock + 16, kRxRing | (1u << 29));
  mem.W32(kInitBlock + 20, kTxRing | (1u << 29));
  // 8-byte descriptors: address low 24 | status << 24, BCNT, MCNT.
  mem.W32(kRxRing, kBuffers | 0x80000000u);
  mem.W16(kRxRing + 4, static_cast<uint16_t>(0xF000 | (0x1000 - 256)));
  const auto f = Frame(kMac.data(), 100);
  std::memcpy(&mem.bytes[0x40000], f.data(), f.size());
  mem.W32(kTxRing, 0x40000 | 0x83000000u);
  mem.W16(kTxRing + 4, static_cast<uint16_t>(0xF000 | (0x1000 - 100)));
  Csr(1, kInitBlock);
  Csr(2, 0);
  Csr(0, 0x0001);
  ASSERT_TRUE(Csr(0) & 0x0100);
  EXPECT_EQ(Csr(76), 2);
  Csr(0, 0x004A);  // STRT IENA TDMD
  ASSERT_EQ(sent.size(), 1u);
  EXPECT_EQ(sent[0], f);
  EXPECT_EQ(mem.R32(kTxRing) >> 24, 0x03u) << "OWN cleared, STP ENP kept";
  nic.Receive(f.data(), f.size());
  EXPECT_EQ(mem.R32(kRxRing) >> 24, 0x03u);
  uint16_t mcnt;
  std::memcpy(&mcnt, &mem.bytes[kRxRing + 6], 2);
  EXPECT_EQ(mcnt, 104);
}

TEST_F(PcnetTest, StopClearsEverything) {
  Open();
  Csr(0, 0x0004);
  EXPECT_EQ(Csr(0), 0x0004);
  EXPECT_FALSE(nic.CanReceive(60));
  const auto f = Frame(kMac.data(), 64);
  nic.Receive(f.data(), f.size());
  EXPECT_EQ(RxStatus(0) & 0x8000, 0x8000);
}

TEST_F(PcnetTest, InitBlockOutsideRamIsMemoryError) {
  Csr(1, 0);
  Csr(2, 0x0200);  // 0x02000000: beyond the fake memory
  Bcr(20, 2);
  Csr(0, 0x0041);
  EXPECT_TRUE(Csr(0) & 0x0800) << "MERR";
  EXPECT_FALSE(Csr(0) & 0x0100);
  EXPECT_TRUE(nic.irq());
}

TEST_F(PcnetTest, InternalLoopback) {
  Open();
  Csr(0, 0x0004);
  Csr(15, 0x0044);  // LOOP INTL
  Csr(0, 0x0002);
  const auto f = Frame(kMac.data(), 80);
  std::memcpy(&mem.bytes[0x40000], f.data(), f.size());
  TxDesc(0, 0x40000, 80, 0x8300);
  Csr(0, 0x0008);
  EXPECT_TRUE(sent.empty());
  EXPECT_EQ(RxStatus(0) & 0x8300, 0x0300);
}

}  // namespace
}  // namespace strobe::vmm
