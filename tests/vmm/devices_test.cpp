// SPDX-License-Identifier: MIT
// The Malta board's devices and address map, driven through the bus the CPU uses.
#include <gtest/gtest.h>

#include <string>

#include "tests/vmm/test_board.h"
#include "vmm/devices/piix4_pm.h"
#include "vmm/devices/uart16550.h"
#include "vmm/malta.h"

namespace strobe::test {
namespace {

using Board = TestBoard;

constexpr uint32_t kCom1 = vmm::MaltaBoard::kIoBase + 0x3F8;

TEST(Uart16550, TransmitsAndReportsAnIdleTransmitter) {
  Board b;
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 0x60, 0x60u);  // THRE and TEMT: earlycon polls for both
  b.board.IoWrite(kCom1, 1, 'h');
  b.board.IoWrite(kCom1, 1, 'i');
  EXPECT_EQ(b.out, "hi");
  EXPECT_EQ(b.Read(kCom1 + 6, 1), 0xB0u);  // modem status: CTS, DSR, DCD
}

TEST(Uart16550, DivisorLatchDoesNotTransmit) {
  Board b;
  b.board.IoWrite(kCom1 + 3, 1, 0x80);  // DLAB
  b.board.IoWrite(kCom1, 1, 3);
  b.board.IoWrite(kCom1 + 1, 1, 0);
  EXPECT_EQ(b.Read(kCom1, 1), 3u);
  b.board.IoWrite(kCom1 + 3, 1, 0x03);
  EXPECT_EQ(b.out, "");
}

TEST(Uart16550, DetectionSequenceOfTheLinuxDriver) {
  Board b;
  b.board.IoWrite(kCom1 + 1, 1, 0);
  EXPECT_EQ(b.Read(kCom1 + 1, 1), 0u);
  b.board.IoWrite(kCom1 + 1, 1, 0x0F);
  EXPECT_EQ(b.Read(kCom1 + 1, 1), 0x0Fu);
  b.board.IoWrite(kCom1 + 2, 1, 0x01);            // FIFO enable
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0xC0, 0xC0u);  // 16550A: FIFOs reported enabled
  b.board.IoWrite(kCom1 + 2, 1, 0x21);
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x20, 0u);  // no 64-byte FIFO
  b.board.IoWrite(kCom1 + 7, 1, 0xA5);
  EXPECT_EQ(b.Read(kCom1 + 7, 1), 0xA5u);
}

TEST(Uart16550, ThreInterruptRaisesOnEnableAndIsAcknowledgedByIirRead) {
  Board b;
  vmm::Uart16550& u = b.board.uart();
  b.board.IoWrite(kCom1 + 1, 1, 0);
  EXPECT_FALSE(u.IrqLevel());
  b.board.IoWrite(kCom1 + 1, 1, 0x02);  // enabling THRE while THR is empty: pending at once
  EXPECT_TRUE(u.IrqLevel());
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x0F, 0x02u);
  EXPECT_FALSE(u.IrqLevel());  // the IIR read acknowledged it
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x0F, 0x01u);
  b.board.IoWrite(kCom1 + 1, 1, 0);
  b.board.IoWrite(kCom1 + 1, 1, 0x02);  // re-arming works again (the driver tests this too)
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x0F, 0x02u);
  b.board.IoWrite(kCom1, 1, 'x');  // a transmitted byte re-arms THRE
  EXPECT_TRUE(u.IrqLevel());
}

TEST(Uart16550, ReceivesHostInputWithRxInterruptPriority) {
  Board b;
  vmm::Uart16550& u = b.board.uart();
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 1, 0u);
  u.PushInput('a');
  u.PushInput('b');
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 1, 1u);
  b.board.IoWrite(kCom1 + 1, 1, 0x03);            // RX and THRE interrupts
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x0F, 0x04u);  // received data outranks THRE
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('a'));
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('b'));
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 1, 0u);
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x0F, 0x02u);
}

// The 8250 driver's FIFO-size probe (size_fifo), as Linux runs it on every boot: loopback on, 256 bytes
// sent, then read back while LSR.DR is set. The count is the receive FIFO's depth and nothing reaches the
// console.
TEST(Uart16550, LoopbackProbeMeasuresTheFifoAndPrintsNothing) {
  Board b;
  b.board.IoWrite(kCom1 + 3, 1, 0x00);
  b.board.IoWrite(kCom1 + 2, 1, 0x07);  // FIFOs on, both cleared
  b.board.IoWrite(kCom1 + 4, 1, 0x10);  // loopback
  b.board.IoWrite(kCom1 + 3, 1, 0x03);  // 8 bits
  for (int i = 0; i < 256; i++) b.board.IoWrite(kCom1, 1, i);
  EXPECT_EQ(b.out, "");
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 0x63, 0x63u);  // DR, OE (240 bytes overran), THRE, TEMT
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 0x02, 0u);     // reading LSR cleared OE
  int count = 0;
  for (; count < 256 && (b.Read(kCom1 + 5, 1) & 1); count++) {
    EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>(count));  // the first 16 bytes, in order
  }
  EXPECT_EQ(count, 16);
  b.board.IoWrite(kCom1 + 4, 1, 0x0B);  // loopback off: the transmitter drives the line again
  b.board.IoWrite(kCom1, 1, 'x');
  EXPECT_EQ(b.out, "x");
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 1, 0u);
}

TEST(Uart16550, LoopbackWithoutFifosHoldsOneByteAndTheNewestWins) {
  Board b;
  b.board.IoWrite(kCom1 + 4, 1, 0x10);
  b.board.IoWrite(kCom1, 1, 'a');
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 0x03, 0x01u);
  b.board.IoWrite(kCom1, 1, 'b');
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 0x03, 0x03u);  // overrun
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('b'));
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 0x03, 0u);
  EXPECT_EQ(b.out, "");
}

TEST(Uart16550, LoopbackRaisesTheReceiveInterrupt) {
  Board b;
  vmm::Uart16550& u = b.board.uart();
  b.board.IoWrite(kCom1 + 4, 1, 0x10);
  b.board.IoWrite(kCom1 + 1, 1, 0x01);
  EXPECT_FALSE(u.IrqLevel());
  b.board.IoWrite(kCom1, 1, 'z');
  EXPECT_TRUE(u.IrqLevel());
  EXPECT_EQ(b.Read(kCom1 + 2, 1) & 0x0F, 0x04u);
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('z'));
  EXPECT_FALSE(u.IrqLevel());
}

TEST(Uart16550, LoopbackWiresModemOutputsToModemStatus) {
  Board b;
  EXPECT_EQ(b.Read(kCom1 + 6, 1), 0xB0u);
  b.board.IoWrite(kCom1 + 4, 1, 0x10 | 0x0A);  // RTS and OUT2: the driver's UART test expects CTS and DCD
  EXPECT_EQ(b.Read(kCom1 + 6, 1) & 0xF0, 0x90u);
  b.board.IoWrite(kCom1 + 4, 1, 0x10 | 0x05);  // DTR and OUT1: DSR and RI
  EXPECT_EQ(b.Read(kCom1 + 6, 1) & 0xF0, 0x60u);
  b.board.IoWrite(kCom1 + 4, 1, 0x10);
  EXPECT_EQ(b.Read(kCom1 + 6, 1) & 0xF0, 0x00u);
  EXPECT_EQ(b.Read(kCom1 + 4, 1), 0x10u);
  b.board.IoWrite(kCom1 + 4, 1, 0x00);
  EXPECT_EQ(b.Read(kCom1 + 6, 1), 0xB0u);
}

TEST(Uart16550, HostInputWaitsWhileInLoopback) {
  Board b;
  vmm::Uart16550& u = b.board.uart();
  b.board.IoWrite(kCom1 + 2, 1, 0x01);  // FIFOs on: room for the looped-back byte beside it
  u.PushInput('a');                     // already received: stays in the receiver
  b.board.IoWrite(kCom1 + 4, 1, 0x10);
  u.PushInput('b');  // on the line while the receiver listens to the transmitter
  b.board.IoWrite(kCom1, 1, 'L');
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('a'));
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('L'));
  EXPECT_EQ(b.Read(kCom1 + 5, 1) & 1, 0u);
  EXPECT_FALSE(u.HasInput());
  b.board.IoWrite(kCom1 + 4, 1, 0x0B);
  EXPECT_TRUE(u.HasInput());
  EXPECT_EQ(b.Read(kCom1, 1), static_cast<uint32_t>('b'));
  EXPECT_EQ(b.out, "");
}

TEST(MaltaBoard, AddressMap) {
  Board b;
  EXPECT_EQ(b.Read(0x1FC00010), 0x00000420u);  // board revision: CoreLV, GT-64120
  EXPECT_EQ(b.Read(0x1FC00010, 2), 0x0420u);
  EXPECT_EQ(b.Read(vmm::MaltaBoard::kIoBase + 0x60, 1), 0xFFu);  // no i8042: all ones
  EXPECT_EQ(b.Read(vmm::MaltaBoard::kIoBase + 0x2F8, 4), 0xFFFFFFFFu);
  EXPECT_EQ(b.Read(0x1E000000), 0u);               // empty slot reads zero
  EXPECT_EQ(b.Read(0x1F000210), 0u);               // FPGA jumpers: 33 MHz PCI clock
  EXPECT_EQ(b.Read(0x1F000208), 0x10u);            // FPGA status: little-endian
  EXPECT_TRUE(b.board.IoWrite(0x1E000000, 4, 1));  // ignored, no fault
  uint32_t v;
  EXPECT_FALSE(b.board.IoRead(0x20000000, 4, &v));  // beyond 512 MiB nothing answers: bus error
  EXPECT_FALSE(b.board.IoWrite(0x40000000, 4, 0));
  // RAM goes through the pmap, not through IoRead.
  EXPECT_NE(b.board.LookupRam(0x1000).host, nullptr);
  EXPECT_EQ(b.board.LookupRam(4u << 20).host, nullptr);
}

TEST(MaltaBoard, FpgaDisplayAndLeds) {
  Board b;
  b.board.IoWrite(0x1F000408, 4, 0x1A5);
  EXPECT_EQ(b.Read(0x1F000408), 0xA5u);
  b.board.IoWrite(0x1F000410, 4, 0xCAFE0042);
  EXPECT_STREQ(b.board.fpga().display(), "CAFE0042");
  b.board.IoWrite(0x1F000418, 4, 'S');
  EXPECT_EQ(b.board.fpga().display()[0], 'S');
}

TEST(MaltaBoard, SoftResetAndPowerOffRequests) {
  Board b;
  b.board.IoWrite(0x1F000500, 4, 0x41);  // not the magic value
  EXPECT_EQ(b.power.request.load(), vmm::PowerRequest::kNone);
  b.board.IoWrite(0x1F000500, 4, 0x42);
  EXPECT_EQ(b.power.request.load(), vmm::PowerRequest::kReset);

  Board c;
  const uint32_t pm = vmm::MaltaBoard::kIoBase + 0x1000;
  EXPECT_EQ(c.Read(pm, 2), 0x0001u);
  c.board.IoWrite(pm + 4, 2, (1u << 13) | (5u << 10));  // SUS_EN with a sleep type: not soft-off
  EXPECT_EQ(c.power.request.load(), vmm::PowerRequest::kNone);
  c.board.IoWrite(pm + 4, 2, 1u << 13);  // SUS_EN, SUS_TYP 0: soft off
  EXPECT_EQ(c.power.request.load(), vmm::PowerRequest::kPowerOff);
  c.board.IoWrite(0x1F000500, 4, 0x42);  // a later reset does not override the power-off
  EXPECT_EQ(c.power.request.load(), vmm::PowerRequest::kPowerOff);
}

}  // namespace
}  // namespace strobe::test
