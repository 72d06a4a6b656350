// SPDX-License-Identifier: MIT
#include "vmm/devices/pcnet.h"

#include <zlib.h>

#include <algorithm>
#include <cstring>
#include "vmm/state_io.h"

namespace strobe::vmm {
namespace {

// CSR0 bits.
constexpr uint16_t kInit = 0x0001, kStrt = 0x0002, kStop = 0x0004, kTdmd = 0x0008, kTxon = 0x0010,
                   kRxon = 0x0020, kIena = 0x0040, kIntr = 0x0080, kIdon = 0x0100, kTint = 0x0200,
                   kRint = 0x0400, kMerr = 0x0800, kMiss = 0x1000, kCerr = 0x2000, kBabl = 0x4000,
                   kErr = 0x8000;
constexpr uint16_t kCsr0Flags = kIdon | kTint | kRint | kMerr | kMiss | kCerr | kBabl;  // write 1 to clear
constexpr uint16_t kCsr0Interrupts = kIdon | kTint | kRint | kMerr | kMiss | kBabl;     // masked by CSR3

// Descriptor status bits (RMD1/TMD1 bits 16-31 in the 32-bit styles).
constexpr uint16_t kOwn = 0x8000, kDescErr = 0x4000, kStp = 0x0200, kEnp = 0x0100;
constexpr uint16_t kRxFram = 0x2000, kRxOflo = 0x1000, kRxCrc = 0x0800, kRxBuff = 0x0400;
constexpr uint16_t kRxPam = 0x0040, kRxLafm = 0x0020, kRxBam = 0x0010;
constexpr uint16_t kTxLtint = 0x1000;
constexpr uint32_t kTxBuff = 0x80000000u, kTxUflo = 0x40000000u;  // TMD2

constexpr size_t kMinFrame = 60;  // without FCS
constexpr size_t kMaxFrame = net::kMaxFrameBytes;

// CSR4 flag/mask pairs (flag one bit above its mask) and CSR5's (flag one bit above its enable).
constexpr uint16_t kCsr4Flags = 0x026A;  // JAB, TXSTRT, RCVCCO, UINT, MFCO: write 1 to clear
constexpr uint16_t kCsr5Flags = 0x0A90;  // SINT, SLPINT, EXDINT, MPINT: write 1 to clear

// The Ethernet CRC (IEEE 802.3, reflected): zlib's CRC-32 is the same polynomial, initial value and final
// inversion, and computes it several bytes a step (a byte-wise table was 4.5% of the host CPU while two
// VMs moved 48 MiB over the in-process switch).
uint32_t EthernetCrc(const uint8_t* data, size_t length) {
  return static_cast<uint32_t>(crc32(0L, data, static_cast<uInt>(length)));
}

uint32_t Le32(const uint8_t* p) {
  return p[0] | p[1] << 8 | p[2] << 16 | static_cast<uint32_t>(p[3]) << 24;
}
uint16_t Le16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] | p[1] << 8);
}
void PutLe32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void PutLe16(uint8_t* p, uint16_t v) {
  p[0] = static_cast<uint8_t>(v);
  p[1] = static_cast<uint8_t>(v >> 8);
}

// The byte count a descriptor's BCNT field describes (a 12-bit two's complement; 0 means 4096).
size_t BufferBytes(uint16_t bcnt) {
  const unsigned n = (0x1000 - (bcnt & 0x0FFF)) & 0x0FFF;
  return n ? n : 0x1000;
}

}  // namespace

Pcnet::Pcnet(const std::array<uint8_t, 6>& mac) {
  // The address PROM: the station address, reserved zeros, hardware ID 0x11, a checksum over bytes
  // 0x00-0x0B and 0x0E-0x0F in bytes 0x0C-0x0D, and "WW" (what AMD's drivers check for).
  std::copy(mac.begin(), mac.end(), prom_.begin());
  prom_[9] = 0x11;
  prom_[14] = prom_[15] = 0x57;
  uint16_t sum = 0;
  for (unsigned i = 0; i < 16; ++i) sum = static_cast<uint16_t>(sum + prom_[i]);
  PutLe16(&prom_[12], sum);
  HardReset();
}

void Pcnet::HardReset() {
  std::fill(std::begin(bcr_), std::end(bcr_), 0);
  bcr_[0] = 0x0005;   // MSRDA
  bcr_[1] = 0x0005;   // MSWRA
  bcr_[2] = 0x0002;   // MC: ASEL (automatic media selection)
  bcr_[4] = 0x00C0;   // LNKST LED: link status enabled
  bcr_[5] = 0x0084;   // LED1
  bcr_[6] = 0x0088;   // LED2
  bcr_[7] = 0x0090;   // LED3
  bcr_[9] = 0x0000;   // FDC
  bcr_[18] = 0x9001;  // BSBC (DWIO clear)
  bcr_[19] = 0x0002;  // EECAS
  bcr_[20] = 0x0200;  // SWS: style 0, CSRPCNET
  bcr_[22] = 0xFF06;  // PCI latency
  std::fill(std::begin(csr_), std::end(csr_), 0);
  SoftReset();
}

void Pcnet::SoftReset() {
  rap_ = 0;
  rdra_ = tdra_ = 0;
  rx_len_ = tx_len_ = 1;
  rx_index_ = tx_index_ = 0;
  bcr_[18] &= ~0x0080;  // back to 16-bit I/O
  csr_[0] = kStop;
  csr_[3] = 0;
  csr_[4] = 0x0115;
  csr_[5] = 0;
  csr_[6] = 0;
  for (unsigned i = 8; i <= 11; ++i) csr_[i] = 0;
  for (unsigned i = 0; i < 3; ++i) csr_[12 + i] = Le16(&prom_[2 * i]);
  csr_[15] &= 0x21C4;
  csr_[72] = csr_[74] = csr_[76] = csr_[78] = 1;
  csr_[80] = 0x1410;
  csr_[88] = 0x1003;  // chip ID 0x2621003: PCnet-PCI II 79C970A, AMD
  csr_[89] = 0x0262;
  csr_[94] = 0;
  csr_[100] = 0x0200;
  csr_[103] = 0x0105;
  csr_[112] = csr_[114] = csr_[122] = csr_[124] = 0;
  tx_frame_.clear();
  UpdateIrq();
}

uint32_t Pcnet::Phys(uint32_t addr) const {
  return ssize32() ? addr : (addr & 0x00FFFFFFu) | (static_cast<uint32_t>(csr_[2] & 0xFF00) << 16);
}

// ---- register window -------------------------------------------------------------------------------

uint32_t Pcnet::Read(uint32_t offset, unsigned size) {
  const uint32_t ones = size == 4 ? 0xFFFFFFFFu : (1u << (8 * size)) - 1;
  offset &= kWindowBytes - 1;
  uint32_t value = ones;
  if (offset < 0x10) {  // the address PROM: bytes or words in WIO mode, dwords in DWIO mode
    if ((!dword_io() && size <= 2 && offset % size == 0) || (dword_io() && size == 4 && offset % 4 == 0)) {
      value = 0;
      for (unsigned i = 0; i < size; ++i) value |= static_cast<uint32_t>(prom_[offset + i]) << (8 * i);
    }
  } else if (!dword_io() && size == 2) {
    switch (offset) {
      case 0x10: value = ReadCsr(rap_); break;
      case 0x12: value = rap_; break;
      case 0x14:
        SoftReset();
        value = 0;
        break;
      case 0x16: value = ReadBcr(rap_); break;
    }
  } else if (dword_io() && size == 4) {
    switch (offset) {
      case 0x10:
        value = ReadCsr(rap_);
        if (rap_ == 88) value |= static_cast<uint32_t>(csr_[89]) << 16;
        break;
      case 0x14: value = rap_; break;
      case 0x18:
        SoftReset();
        value = 0;
        break;
      case 0x1C: value = ReadBcr(rap_); break;
    }
  }
  UpdateIrq();
  return value & ones;
}

void Pcnet::Write(uint32_t offset, unsigned size, uint32_t value) {
  offset &= kWindowBytes - 1;
  if (offset < 0x10) {  // writable only with BCR2.APROMWE
    if (bcr_[2] & 0x0100) {
      if ((!dword_io() && size <= 2 && offset % size == 0) || (dword_io() && size == 4 && offset % 4 == 0))
        for (unsigned i = 0; i < size; ++i) prom_[offset + i] = static_cast<uint8_t>(value >> (8 * i));
    }
  } else if (!dword_io()) {
    if (size == 2) {
      switch (offset) {
        case 0x10: WriteCsr(rap_, static_cast<uint16_t>(value)); break;
        case 0x12: rap_ = value & 0x7F; break;
        case 0x16: WriteBcr(rap_, static_cast<uint16_t>(value)); break;
      }
    } else if (size == 4 && offset == 0x10) {
      bcr_[18] |= 0x0080;  // a dword write to RDP selects 32-bit I/O (the data is not written)
    }
  } else if (size == 4) {
    switch (offset) {
      case 0x10: WriteCsr(rap_, static_cast<uint16_t>(value)); break;
      case 0x14: rap_ = value & 0x7F; break;
      case 0x1C: WriteBcr(rap_, static_cast<uint16_t>(value)); break;
    }
  }
  UpdateIrq();
}

// ---- CSRs and BCRs ---------------------------------------------------------------------------------

uint16_t Pcnet::ReadCsr(unsigned index) {
  switch (index) {
    case 0: {
      UpdateIrq();
      uint16_t v = csr_[0];
      if (v & (kBabl | kCerr | kMiss | kMerr)) v |= kErr;
      return v;
    }
    case 16: return csr_[1];  // aliases of the initialisation block address
    case 17: return csr_[2];
    case 58: return bcr_[20];
    case 72: return static_cast<uint16_t>(rx_len_ - rx_index_);  // the chip counts down
    case 74: return static_cast<uint16_t>(tx_len_ - tx_index_);
    default: return csr_[index & 127];
  }
}

void Pcnet::WriteCsr(unsigned index, uint16_t value) {
  const bool configurable = stopped() || suspended();
  switch (index) {
    case 0: WriteCsr0(value); return;
    case 3: csr_[3] = value & 0x5F7C; return;
    case 4:
      csr_[4] = static_cast<uint16_t>((csr_[4] & ~value & kCsr4Flags) | (value & ~kCsr4Flags & 0xFFFF));
      return;
    case 5: csr_[5] = static_cast<uint16_t>((csr_[5] & ~value & kCsr5Flags) | (value & ~kCsr5Flags)); return;
    case 16: WriteCsr(1, value); return;
    case 17: WriteCsr(2, value); return;
    case 58: WriteBcr(20, value); return;
    case 1:
    case 2:
    case 8:
    case 9:
    case 10:
    case 11:
    case 12:
    case 13:
    case 14:
    case 15:
    case 47:
    case 112:
      if (configurable) csr_[index] = value;
      return;
    case 76:
    case 78:
      if (configurable) {
        const unsigned len = value ? std::min<unsigned>(value, 0xFFFF) : 0x10000;
        (index == 76 ? rx_len_ : tx_len_) = len;
        (index == 76 ? rx_index_ : tx_index_) = 0;
        csr_[index] = value;
      }
      return;
    default: return;  // read-only or not modelled: ignored as the chip ignores writes outside STOP
  }
}

void Pcnet::WriteCsr0(uint16_t value) {
  uint16_t& c = csr_[0];
  c = static_cast<uint16_t>(c & ~(value & kCsr0Flags));  // acknowledge interrupts
  c = static_cast<uint16_t>((c & ~kIena) | (value & kIena));
  if (value & kStop) {  // STOP wins over INIT and STRT written with it
    Stop();
    return;
  }
  if ((value & kInit) && !(c & kInit)) Init();
  if ((value & kStrt) && !(c & kStrt)) Start();
  if (value & kTdmd) c |= kTdmd;
  if ((c & kTdmd) || (value & kStrt)) TransmitRing();
}

uint16_t Pcnet::ReadBcr(unsigned index) const {
  index &= 127;
  if (index >= 4 && index <= 7) {  // LED registers: LEDOUT follows the (always up) link when enabled
    uint16_t v = bcr_[index] & 0x7FFF;
    if (v & 0x017F & 0x0040) v |= 0x8000;
    return v;
  }
  return index < 32 ? bcr_[index] : 0;  // no MII management on the 79C970A: BCR32+ read 0
}

void Pcnet::WriteBcr(unsigned index, uint16_t value) {
  index &= 127;
  switch (index) {
    case 20: {  // software style; SSIZE32 and CSRPCNET follow it (read-only)
      if (!(stopped() || suspended())) return;
      uint16_t v = value & 0x00FF;
      switch (v) {
        case 0: v |= 0x0200; break;
        case 1: v |= 0x0100; break;
        case 2:
        case 3: v |= 0x0300; break;
        default: v = 0x0200; break;  // reserved styles: back to style 0
      }
      bcr_[20] = v;
      return;
    }
    case 2:
    case 4:
    case 5:
    case 6:
    case 7:
    case 9:
    case 19:
    case 22: bcr_[index] = value; return;
    case 18:
      bcr_[18] = static_cast<uint16_t>((value & ~0x0080) | (bcr_[18] & 0x0080));  // DWIO is read-only
      return;
    default: return;
  }
}

// ---- initialisation, start, stop -------------------------------------------------------------------

void Pcnet::Init() {
  const uint32_t iadr = Phys(csr_[1] | static_cast<uint32_t>(csr_[2]) << 16);
  uint8_t block[28];
  unsigned rlen, tlen;
  uint16_t mode, padr[3], ladrf[4];
  uint32_t rdra, tdra;
  if (ssize32()) {  // mode, RLEN<<4, TLEN<<4, PADR[6], reserved, LADRF[8], RDRA, TDRA
    if (!memory_ || !memory_->Read(iadr, block, 28)) return MemoryError();
    mode = Le16(block);
    rlen = block[2] >> 4;
    tlen = block[3] >> 4;
    for (int i = 0; i < 3; ++i) padr[i] = Le16(block + 4 + 2 * i);
    for (int i = 0; i < 4; ++i) ladrf[i] = Le16(block + 12 + 2 * i);
    rdra = Le32(block + 20);
    tdra = Le32(block + 24);
  } else {  // mode, PADR[6], LADRF[8], RDRA (24 bits, RLEN in 31-29), TDRA (TLEN in 31-29)
    if (!memory_ || !memory_->Read(iadr, block, 24)) return MemoryError();
    mode = Le16(block);
    for (int i = 0; i < 3; ++i) padr[i] = Le16(block + 2 + 2 * i);
    for (int i = 0; i < 4; ++i) ladrf[i] = Le16(block + 8 + 2 * i);
    rdra = Le32(block + 16);
    tdra = Le32(block + 20);
    rlen = rdra >> 29;
    tlen = tdra >> 29;
    rdra &= 0x00FFFFFF;
    tdra &= 0x00FFFFFF;
  }
  rx_len_ = rlen < 9 ? 1u << rlen : 512;
  tx_len_ = tlen < 9 ? 1u << tlen : 512;
  csr_[76] = static_cast<uint16_t>(rx_len_);
  csr_[78] = static_cast<uint16_t>(tx_len_);
  csr_[6] = static_cast<uint16_t>((tlen & 0xF) << 12 | (rlen & 0xF) << 8);
  csr_[15] = mode;
  for (int i = 0; i < 4; ++i) csr_[8 + i] = ladrf[i];
  for (int i = 0; i < 3; ++i) csr_[12 + i] = padr[i];
  csr_[24] = static_cast<uint16_t>(rdra);
  csr_[25] = static_cast<uint16_t>(rdra >> 16);
  csr_[30] = static_cast<uint16_t>(tdra);
  csr_[31] = static_cast<uint16_t>(tdra >> 16);
  rdra_ = Phys(rdra);
  tdra_ = Phys(tdra);
  rx_index_ = tx_index_ = 0;
  csr_[0] = static_cast<uint16_t>((csr_[0] & ~kStop) | kInit | kIdon);
}

void Pcnet::Start() {
  uint16_t& c = csr_[0];
  if (!(csr_[15] & 0x0002)) c |= kTxon;  // unless DTX
  if (!(csr_[15] & 0x0001)) c |= kRxon;  // unless DRX
  c = static_cast<uint16_t>((c & ~kStop) | kStrt);
}

void Pcnet::Stop() {
  csr_[0] = kStop;  // every other CSR0 bit clears, interrupts included
  csr_[4] &= ~0x02C2;
  csr_[5] &= ~0x0011;
  tx_frame_.clear();
}

void Pcnet::MemoryError() {
  // A master abort (no RAM at a descriptor, buffer or the initialisation block): MERR, and the chip stops
  // moving data until the driver re-initialises it.
  csr_[0] = static_cast<uint16_t>((csr_[0] & ~(kTxon | kRxon | kTdmd)) | kMerr);
  tx_frame_.clear();
}

void Pcnet::UpdateIrq() {
  bool intr = (csr_[0] & ~csr_[3] & kCsr0Interrupts) != 0 ||
              (((csr_[4] >> 1) & ~csr_[4]) & 0x0115) != 0 ||  // JAB, TXSTRT, RCVCCO, MFCO unless masked
              (((csr_[5] >> 1) & csr_[5]) & 0x0048) != 0;     // EXDINT, MPINT when enabled
  if ((csr_[4] & 0x0080) && (csr_[0] & kIena)) {              // UINTCMD: a user interrupt
    csr_[4] = static_cast<uint16_t>((csr_[4] & ~0x0080) | 0x0040);
  }
  if (csr_[4] & 0x0040) intr = true;                     // UINT
  if (((csr_[5] >> 1) & csr_[5]) & 0x0500) intr = true;  // SINT, SLPINT when enabled
  csr_[0] = static_cast<uint16_t>(intr ? csr_[0] | kIntr : csr_[0] & ~kIntr);
  const bool level = intr && (csr_[0] & kIena);
  if (level != irq_) {
    irq_ = level;
    if (irq_changed_) irq_changed_(level);
  }
}

// ---- descriptors -----------------------------------------------------------------------------------

bool Pcnet::LoadDescriptor(uint32_t addr, bool rx, Descriptor* d) {
  uint8_t raw[16];
  if (!memory_ || !memory_->Read(addr, raw, DescriptorBytes())) return false;
  if (!ssize32()) {  // 16-bit: address bits 0-23 with the status byte above, BCNT, MCNT/TMD3
    const uint32_t w0 = Le32(raw);
    d->buffer = w0 & 0x00FFFFFF;
    d->status = static_cast<uint16_t>((w0 >> 16) & 0xFF00);
    d->bcnt = Le16(raw + 4);
    // RMD3 is the message count; TMD3's error bits are TMD2's upper half in the 32-bit styles.
    d->misc = rx ? Le16(raw + 6) : static_cast<uint32_t>(Le16(raw + 6)) << 16;
    return true;
  }
  const bool style3 = swstyle() == 3;  // words 0 and 2 swapped
  d->buffer = Le32(raw + (style3 ? 8 : 0));
  d->bcnt = Le16(raw + 4);
  d->status = Le16(raw + 6);
  d->misc = Le32(raw + (style3 ? 0 : 8));
  return true;
}

bool Pcnet::StoreDescriptor(uint32_t addr, bool rx, const Descriptor& d) {
  uint8_t raw[16] = {};
  if (!ssize32()) {
    PutLe32(raw, (d.buffer & 0x00FFFFFF) | static_cast<uint32_t>(d.status & 0xFF00) << 16);
    PutLe16(raw + 4, d.bcnt);
    PutLe16(raw + 6, static_cast<uint16_t>(rx ? d.misc : d.misc >> 16));
    return memory_ && memory_->Write(addr, raw, 8);
  }
  // The driver's reserved word (bytes 12-15) is left alone: only the first 12 bytes are written back.
  const bool style3 = swstyle() == 3;
  PutLe32(raw + (style3 ? 8 : 0), d.buffer);
  PutLe16(raw + 4, d.bcnt);
  PutLe16(raw + 6, d.status);
  PutLe32(raw + (style3 ? 0 : 8), d.misc);
  return memory_ && memory_->Write(addr, raw, 12);
}

// ---- receive ---------------------------------------------------------------------------------------

bool Pcnet::AddressMatches(const uint8_t* frame) const {
  const uint16_t mode = csr_[15];
  if (mode & 0x8000) return true;  // PROM
  uint8_t padr[6];
  for (int i = 0; i < 3; ++i) PutLe16(padr + 2 * i, csr_[12 + i]);
  if (!(mode & 0x2000) && std::memcmp(frame, padr, 6) == 0) return true;  // unless DRCVPA
  static const uint8_t kBroadcast[6] = {0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
  if (std::memcmp(frame, kBroadcast, 6) == 0) return !(mode & 0x4000);  // unless DRCVBC
  if (frame[0] & 1) {  // multicast: the logical address filter, indexed by the CRC's top 6 bits
    const uint32_t crc = ~EthernetCrc(frame, 6);
    const unsigned bit = crc >> 26;
    return (csr_[8 + bit / 16] >> (bit % 16)) & 1;
  }
  return false;
}

std::array<uint8_t, 6> Pcnet::StationAddress() {
  std::array<uint8_t, 6> a;
  for (int i = 0; i < 3; ++i) PutLe16(&a[2 * i], csr_[12 + i]);
  return a;
}

bool Pcnet::CanReceive(size_t) {
  if (!(csr_[0] & kRxon) || stopped() || suspended() || !rdra_) return false;
  Descriptor d;
  return LoadDescriptor(RxDescAddr(rx_index_), true, &d) && (d.status & kOwn);
}

void Pcnet::Receive(const uint8_t* data, size_t length) {
  if (!(csr_[0] & kRxon) || stopped() || suspended() || length < 14 || length > kMaxFrame) return;
  const bool loopback = (csr_[15] & 0x0004) != 0;
  if (!loopback && !AddressMatches(data)) return;
  // What the chip stores: the frame padded to the minimum length, then its FCS (MCNT counts it).
  rx_frame_.assign(data, data + length);
  if (rx_frame_.size() < kMinFrame) rx_frame_.resize(kMinFrame, 0);
  const uint32_t fcs = EthernetCrc(rx_frame_.data(), rx_frame_.size());
  for (int i = 0; i < 4; ++i) rx_frame_.push_back(static_cast<uint8_t>(fcs >> (8 * i)));

  Descriptor d;
  uint32_t addr = RxDescAddr(rx_index_);
  if (!LoadDescriptor(addr, true, &d)) return MemoryError();
  if (!(d.status & kOwn)) {  // no buffer: the frame is lost
    csr_[0] |= kMiss;
    ++csr_[112];
    UpdateIrq();
    return;
  }
  const bool is_padr = !(csr_[15] & 0x8000) && !(data[0] & 1);
  const bool is_bcast =
      !(csr_[15] & 0x8000) && std::all_of(data, data + 6, [](uint8_t b) { return b == 0xFF; });
  const bool is_lafm = !(csr_[15] & 0x8000) && (data[0] & 1) && !is_bcast;
  size_t done = 0;
  bool first = true;
  for (;;) {
    const size_t room = BufferBytes(d.bcnt);
    const size_t n = std::min(room, rx_frame_.size() - done);
    if (!memory_->Write(Phys(d.buffer), rx_frame_.data() + done, n)) return MemoryError();
    done += n;
    d.status = static_cast<uint16_t>(d.status & ~(kOwn | kDescErr | kRxFram | kRxOflo | kRxCrc | kRxBuff |
                                                  kStp | kEnp | kRxPam | kRxLafm | kRxBam));
    if (first) d.status |= kStp;
    first = false;
    const unsigned next = (rx_index_ + 1) % rx_len_;
    if (done == rx_frame_.size()) {  // the last buffer: ENP, the message count and the match flags
      d.status |= kEnp;
      if (is_padr) d.status |= kRxPam;
      if (is_bcast) d.status |= kRxBam;
      if (is_lafm) d.status |= kRxLafm;
      d.misc = (d.misc & ~0x0FFFu) | static_cast<uint32_t>(rx_frame_.size() & 0x0FFF);
      if (!StoreDescriptor(addr, true, d)) return MemoryError();
      rx_index_ = next;
      break;
    }
    // More to store: chain into the next descriptor if the driver owns it to the chip.
    Descriptor nd;
    const uint32_t next_addr = RxDescAddr(next);
    if (!LoadDescriptor(next_addr, true, &nd)) return MemoryError();
    if (!(nd.status & kOwn) || next == rx_index_) {  // overflow: the rest of the frame is lost
      d.status |= kDescErr | kRxBuff | kRxOflo;
      if (!StoreDescriptor(addr, true, d)) return MemoryError();
      rx_index_ = next;
      break;
    }
    if (!StoreDescriptor(addr, true, d)) return MemoryError();
    rx_index_ = next;
    addr = next_addr;
    d = nd;
  }
  csr_[0] |= kRint;
  UpdateIrq();
}

// ---- transmit --------------------------------------------------------------------------------------

void Pcnet::TransmitRing() {
  if (in_transmit_) return;  // loopback delivers from inside the loop
  if (!(csr_[0] & kTxon) || !tdra_) {
    csr_[0] &= ~kTdmd;
    return;
  }
  in_transmit_ = true;
  for (unsigned budget = tx_len_; budget > 0; --budget) {
    Descriptor d;
    const uint32_t addr = TxDescAddr(tx_index_);
    if (!LoadDescriptor(addr, false, &d)) {
      in_transmit_ = false;
      return MemoryError();
    }
    if (!(d.status & kOwn)) {
      if (!tx_frame_.empty()) {  // the chain ended without ENP: underflow, the frame is dropped
        const uint32_t prev = TxDescAddr((tx_index_ + tx_len_ - 1) % tx_len_);
        Descriptor pd;
        if (LoadDescriptor(prev, false, &pd)) {
          pd.status |= kDescErr;
          pd.misc |= kTxBuff | kTxUflo;
          StoreDescriptor(prev, false, pd);
        }
        tx_frame_.clear();
        csr_[0] |= kTint;
        if (!(csr_[3] & 0x0040)) csr_[0] &= ~kTxon;  // unless DXSUFLO, the transmitter stops
      }
      break;
    }
    if (d.status & kStp) tx_frame_.clear();
    const size_t n = BufferBytes(d.bcnt);
    if (tx_frame_.size() + n <= kMaxFrame) {
      const size_t at = tx_frame_.size();
      tx_frame_.resize(at + n);
      if (!memory_->Read(Phys(d.buffer), tx_frame_.data() + at, n)) {
        in_transmit_ = false;
        return MemoryError();
      }
    }
    if (d.status & kEnp) {
      if (tx_frame_.size() < kMinFrame && (csr_[4] & 0x0800)) tx_frame_.resize(kMinFrame, 0);  // APAD_XMT
      csr_[4] |= 0x0008;                                                                       // TXSTRT
      if (csr_[15] & 0x0004) {  // LOOP: the frame comes back to the receiver
        std::vector<uint8_t> frame;
        frame.swap(tx_frame_);
        Receive(frame.data(), frame.size());
      } else if (transmit_ && tx_frame_.size() >= 14) {
        transmit_(tx_frame_.data(), tx_frame_.size());
      }
      tx_frame_.clear();
    }
    d.status &= ~kOwn;
    if (!StoreDescriptor(addr, false, d)) {
      in_transmit_ = false;
      return MemoryError();
    }
    // TINT once a frame's last descriptor is given back, unless CSR5.TOKINTD (then only for LTINT with
    // LTINTEN).
    const bool tokintd = (csr_[5] & 0x8000) != 0, ltinten = (csr_[5] & 0x4000) != 0;
    if ((d.status & kEnp) && (!tokintd || (ltinten && (d.status & kTxLtint)))) csr_[0] |= kTint;
    tx_index_ = (tx_index_ + 1) % tx_len_;
  }
  csr_[0] &= ~kTdmd;
  in_transmit_ = false;
  UpdateIrq();
}

void Pcnet::State(StateIo& io) {
  io.Raw(prom_.data(), prom_.size());
  io.Field(csr_);
  io.Field(bcr_);
  uint32_t rap = rap_, rx_len = rx_len_, tx_len = tx_len_, rx_index = rx_index_, tx_index = tx_index_;
  for (uint32_t* v : {&rap, &rdra_, &tdra_, &rx_len, &tx_len, &rx_index, &tx_index}) io.Field(*v);
  io.Field(irq_);
  io.Bytes(tx_frame_, 1u << 16);
  if (!io.Check(rap < 128 && rx_len >= 1 && tx_len >= 1 && rx_len <= 65535 && tx_len <= 65535 &&
                    rx_index < rx_len && tx_index < tx_len,
                "PCnet ring state out of range"))
    return;
  rap_ = rap;
  rx_len_ = rx_len;
  tx_len_ = tx_len;
  rx_index_ = rx_index;
  tx_index_ = tx_index;
}

}  // namespace strobe::vmm
