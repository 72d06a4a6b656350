// SPDX-License-Identifier: MIT
// The PCI seams: BARs a function declares (sizing, decode enable, remapping through the board) and INTx
// pins routed by the Malta's wiring and the PIIX4's PIRQRC registers to the i8259, shared as wired-OR lines.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/vmm/test_board.h"
#include "vmm/malta.h"

namespace strobe::test {
namespace {

using vmm::MaltaBoard;
using vmm::PciSpace;

// A register block that answers with its name and the offset, and records the last write.
class Probe final : public vmm::Device {
 public:
  explicit Probe(uint32_t tag) : tag_(tag) {}
  uint32_t Read(uint32_t offset, unsigned) override { return tag_ | offset; }
  void Write(uint32_t offset, unsigned, uint32_t value) override {
    last_offset = offset;
    last_value = value;
  }
  uint32_t last_offset = ~0u, last_value = 0;

 private:
  uint32_t tag_;
};

// A function with an I/O BAR 0 of 32 ports and a memory BAR 1 of 4 KiB, on INTA.
class TestFunction final : public vmm::PciFunction {
 public:
  explicit TestFunction(uint8_t pin = 1) : PciFunction(0x1234, 0x5678, 1, 0xFF0000, 0) {
    DeclareBar(0, PciSpace::kIo, 32, &io);
    DeclareBar(1, PciSpace::kMemory, 4096, &mem, 0x100);
    SetInterruptPin(pin);
  }
  void Irq(bool level) { SetIntx(level); }
  Probe io{0xA0000000u}, mem{0xB0000000u};
};

struct Board : TestBoard {
  uint32_t In(uint32_t port) { return Read(MaltaBoard::kIoBase + port); }
  // The i8259 pair as Linux programs it: vectors 0-15, cascade on IRQ 2, nothing masked.
  void InitPic() {
    const uint32_t io = MaltaBoard::kIoBase;
    for (auto [port, v] : {std::pair{0x20u, 0x11u},
                           {0x21u, 0x00u},
                           {0x21u, 0x04u},
                           {0x21u, 0x01u},
                           {0xA0u, 0x11u},
                           {0xA1u, 0x08u},
                           {0xA1u, 0x02u},
                           {0xA1u, 0x01u}})
      board.IoWrite(io + port, 1, v);
  }
  vmm::PciFunction& Isa() { return *board.pci().Find(0, 10, 0); }
  // INTA cycle, then non-specific EOIs to both chips (Linux's order); the IRQ acknowledged.
  unsigned AckAndEoi() {
    const unsigned irq = board.pic().Acknowledge();
    board.IoWrite(MaltaBoard::kIoBase + 0xA0, 1, 0x20);
    board.IoWrite(MaltaBoard::kIoBase + 0x20, 1, 0x20);
    return irq;
  }
};

TEST(Pci, BarSizingReportsSizeAndType) {
  TestFunction f;
  f.WriteConfig(0x10, 0xFFFFFFFFu);
  EXPECT_EQ(f.ReadConfig(0x10), 0x0000FFE1u);  // 32 ports, I/O, 16 decoded address bits
  f.WriteConfig(0x14, 0xFFFFFFFFu);
  EXPECT_EQ(f.ReadConfig(0x14), 0xFFFFF000u);  // 4 KiB, 32-bit memory, not prefetchable
  f.WriteConfig(0x18, 0xFFFFFFFFu);
  EXPECT_EQ(f.ReadConfig(0x18), 0u);  // no BAR 2
  f.WriteConfig(0x10, 0x1234);
  EXPECT_EQ(f.ReadConfig(0x10), 0x1221u);  // aligned down to the size
}

TEST(Pci, WindowsDecodeOnlyWhenEnabledAndFollowTheBars) {
  Board b;
  TestFunction f;
  ASSERT_EQ(b.board.FreePciSlot(), 18);
  b.board.AttachPci(18, &f);
  EXPECT_EQ(b.board.FreePciSlot(), 19);
  EXPECT_EQ(b.board.pci().Find(0, 18, 0), &f);

  f.WriteConfig(0x10, 0x1081);
  f.WriteConfig(0x14, 0x10084000u);
  EXPECT_EQ(b.In(0x1084), 0xFFFFFFFFu);         // I/O space off: nobody answers
  EXPECT_EQ(b.Read(0x10084010u), 0u);           // memory off: an empty slot
  f.WriteConfig(0x04, 0x0001);                  // I/O on
  EXPECT_EQ(b.In(0x1084), 0xA0000004u);         // the BAR's base is offset 0
  EXPECT_EQ(b.In(0x109F), 0xA000001Fu);         // the last port
  EXPECT_EQ(b.In(0x10A0), 0xFFFFFFFFu);         // past the BAR
  EXPECT_EQ(b.Read(0x10084010u), 0u);           // memory still off
  f.WriteConfig(0x04, 0x0003);                  // memory on too
  EXPECT_EQ(b.Read(0x10084010u), 0xB0000110u);  // offset 0x10 + the declared 0x100
  b.board.IoWrite(0x10084FFCu, 4, 77);
  EXPECT_EQ(f.mem.last_offset, 0x10FCu);
  EXPECT_EQ(f.mem.last_value, 77u);

  // Remap: the old addresses stop answering, the new ones answer at once.
  f.WriteConfig(0x10, 0x2001);
  f.WriteConfig(0x14, 0x10088000u);
  EXPECT_EQ(b.In(0x1084), 0xFFFFFFFFu);
  EXPECT_EQ(b.In(0x2000), 0xA0000000u);
  EXPECT_EQ(b.Read(0x10084010u), 0u);
  EXPECT_EQ(b.Read(0x10088010u), 0xB0000110u);

  // Sizing moves the memory BAR out of the GT-64120's PCI memory windows: it decodes nowhere the CPU sees.
  f.WriteConfig(0x14, 0xFFFFFFFFu);
  EXPECT_EQ(b.Read(0x10088010u), 0u);
  f.WriteConfig(0x04, 0);
  EXPECT_EQ(b.In(0x2000), 0xFFFFFFFFu);
}

TEST(Pci, IdeBusMasterAndLegacyPortsUseTheSamePath) {
  Board b;
  vmm::Piix4Ide& ide = b.board.ide();
  ide.WriteConfig(0x20, 0xFFFFFFFFu);
  EXPECT_EQ(ide.ReadConfig(0x20), 0x0000FFF1u);
  ide.WriteConfig(0x20, 0xC001);
  EXPECT_EQ(b.In(0xC002) & 0xFF, 0xFFu);  // command register off
  ide.WriteConfig(0x04, 1);
  EXPECT_EQ(b.In(0xC002) & 0xFF, 0x00u);  // bus-master status of a controller with no disks
  EXPECT_EQ(b.In(0x1F7) & 0xFF, 0xFFu);   // legacy ports wait for IDETIM's decode enable
  ide.WriteConfig(0x40, 0x80008000u);
  EXPECT_EQ(b.In(0x1F7) & 0xFF, 0x00u);  // a channel without devices reads 0
  ide.WriteConfig(0x40, 0x00008000u);    // secondary off
  EXPECT_EQ(b.In(0x177) & 0xFF, 0xFFu);
}

TEST(Pci, PowerManagementBlockFollowsPmba) {
  Board b;
  vmm::PciFunction& pm = *b.board.pci().Find(0, 10, 3);
  EXPECT_EQ(b.In(0x1000) & 0xFFFF, 0x0001u);  // PMSTS at the firmware's base
  pm.WriteConfig(0x40, 0x2001);
  EXPECT_EQ(b.In(0x1000), 0xFFFFFFFFu);
  EXPECT_EQ(b.In(0x2000) & 0xFFFF, 0x0001u);
  pm.WriteConfig(0x80, 0);  // PMIOSE off
  EXPECT_EQ(b.In(0x2000), 0xFFFFFFFFu);
}

// What `info pci` reads: the board's functions with QEMU's subsystem IDs, a BAR that decodes only once the
// command register enables it and it has a base.
TEST(Pci, InfoListsFunctionsAndWhereTheirBarsDecode) {
  Board b;
  TestFunction f;
  f.set_qdev("pcnet", "nic7");  // -device pcnet,id=nic7: QEMU's qdev id in info pci and query-pci
  b.board.AttachPci(18, &f);
  std::vector<vmm::PciFunctionInfo> info = b.board.pci().Info();
  ASSERT_EQ(info.size(), 5u);  // host bridge, the PIIX4's ISA, IDE and PM functions, the test function
  EXPECT_EQ(info[0].id, "");
  EXPECT_EQ(info[4].id, "nic7");
  EXPECT_EQ(info[0].device, 0u);
  EXPECT_EQ(info[0].vendor, 0x11ABu);
  EXPECT_EQ(info[0].class_code, 0x0600u);
  EXPECT_EQ(info[2].device, 10u);
  EXPECT_EQ(info[2].function, 1u);
  EXPECT_EQ(info[2].class_code, 0x0101u);
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_TRUE(info[i].has_subsystem);
    EXPECT_EQ(info[i].subsystem_vendor, 0x1AF4u) << i;
    EXPECT_EQ(info[i].subsystem, 0x1100u) << i;
  }
  const vmm::PciFunctionInfo& t = info[4];
  EXPECT_EQ(t.device, 18u);
  EXPECT_EQ(t.irq_pin, 1u);
  ASSERT_EQ(t.bars.size(), 2u);
  EXPECT_TRUE(t.bars[0].io);
  EXPECT_EQ(t.bars[0].size, 32u);
  EXPECT_FALSE(t.bars[0].mapped);
  EXPECT_FALSE(t.bars[1].io);
  EXPECT_FALSE(t.bars[1].wide);

  f.WriteConfig(0x10, 0x1081);
  f.WriteConfig(0x14, 0x10084000u);
  f.WriteConfig(0x3C, 11);
  info = b.board.pci().Info();
  EXPECT_FALSE(info[4].bars[0].mapped);  // assigned, not enabled
  f.WriteConfig(0x04, 0x0001);
  info = b.board.pci().Info();
  EXPECT_TRUE(info[4].bars[0].mapped);
  EXPECT_EQ(info[4].bars[0].address, 0x1080u);
  EXPECT_FALSE(info[4].bars[1].mapped);  // memory still off
  EXPECT_EQ(info[4].irq_line, 11u);
  f.WriteConfig(0x04, 0x0003);
  info = b.board.pci().Info();
  EXPECT_TRUE(info[4].bars[1].mapped);
  EXPECT_EQ(info[4].bars[1].address, 0x10084000u);
}

TEST(Pci, MaltaSlotWiring) {
  EXPECT_EQ(MaltaBoard::PciSlotToPirq(18, 1), 0u);  // slot 1 INTA: PIRQA
  EXPECT_EQ(MaltaBoard::PciSlotToPirq(19, 1), 1u);  // slot 2 INTA: PIRQB
  EXPECT_EQ(MaltaBoard::PciSlotToPirq(21, 2), 0u);  // rotated: slot 4 INTB: PIRQA
  EXPECT_EQ(MaltaBoard::PciSlotToPirq(11, 1), 1u);  // the on-board NIC
  EXPECT_EQ(MaltaBoard::PciSlotToPirq(10, 4), 3u);  // PIIX4 USB
}

TEST(Pci, IntxReachesTheI8259ThroughPirqRouting) {
  Board b;
  b.InitPic();
  TestFunction f;
  b.board.AttachPci(18, &f);  // INTA -> PIRQA -> IRQ 10 (firmware routing)
  EXPECT_EQ(b.board.IrqLines(), 0u);
  f.Irq(true);
  EXPECT_EQ(f.ReadConfig(0x04) >> 16 & 0x08, 0x08u);  // status: interrupt pending
  EXPECT_EQ(b.board.IrqLines(), 1u);
  EXPECT_EQ(b.AckAndEoi(), 10u);
  f.Irq(false);
  EXPECT_EQ(f.ReadConfig(0x04) >> 16 & 0x08, 0u);

  // Interrupt disable (command bit 10) masks the pin.
  f.WriteConfig(0x04, 0x0400);
  f.Irq(true);
  EXPECT_EQ(b.board.IrqLines(), 0u);
  f.WriteConfig(0x04, 0);
  EXPECT_EQ(b.board.IrqLines(), 1u);
  EXPECT_EQ(b.AckAndEoi(), 10u);
  f.Irq(false);

  // Re-routed to IRQ 11, then disabled (bit 7).
  b.Isa().WriteConfig(0x60, 0x0A0A0A0B);
  f.Irq(true);
  EXPECT_EQ(b.AckAndEoi(), 11u);
  f.Irq(false);
  b.Isa().WriteConfig(0x60, 0x0A0A0A8A);
  f.Irq(true);
  EXPECT_EQ(b.board.IrqLines(), 0u);
}

TEST(Pci, SharedLinesAreWiredOr) {
  Board b;
  b.InitPic();
  TestFunction a, c;
  b.board.AttachPci(18, &a);  // PIRQA
  b.board.AttachPci(19, &c);  // PIRQB; both go to IRQ 10
  vmm::PciBus& bus = b.board.pci();
  a.Irq(true);
  c.Irq(true);
  EXPECT_TRUE(bus.PirqLevel(0));
  EXPECT_TRUE(bus.PirqLevel(1));
  EXPECT_EQ(b.AckAndEoi(), 10u);
  a.Irq(false);  // IRQ 10 stays high while the other device asserts it: no new edge
  EXPECT_EQ(b.board.IrqLines(), 0u);
  c.Irq(false);
  a.Irq(true);  // low, then high again: a new request
  EXPECT_EQ(b.AckAndEoi(), 10u);
  a.Irq(false);

  // Two functions on one PIRQ line: slot 18 INTB and slot 19 INTA are both PIRQB.
  TestFunction d(2);
  b.board.AttachPci(20, &d);  // slot 20 INTB: PIRQD -> IRQ 11
  EXPECT_EQ(MaltaBoard::PciSlotToPirq(20, 2), 3u);
  TestFunction e(2);
  b.board.AttachPci(18, &e);  // replaces `a` in slot 18: INTB -> PIRQB, shared with `c`
  c.Irq(true);
  e.Irq(true);
  c.Irq(false);
  EXPECT_TRUE(bus.PirqLevel(1));  // e still holds PIRQB
  e.Irq(false);
  EXPECT_FALSE(bus.PirqLevel(1));
  EXPECT_EQ(b.AckAndEoi(), 10u);  // the request c raised
  d.Irq(true);
  EXPECT_EQ(b.board.pic().Acknowledge(), 11u);
}

}  // namespace
}  // namespace strobe::test
