// SPDX-License-Identifier: MIT
// What the IDE register-level tests share (ATA disks: ide_test.cpp, the ATAPI CD-ROM drive:
// atapi_test.cpp): a booted VM whose PIIX4 IDE function is set up as Linux leaves it at enumeration, port
// I/O through the board, the drives' workers settled, guest RAM and PRD tables.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/test_machine.h"
#include "vmm/malta.h"
#include "vmm/monitor.h"
#include "vmm/vm.h"

namespace strobe::vmm {

class IdeMachine : public ::testing::Test {
 protected:
  static constexpr uint32_t kIo = MaltaBoard::kIoBase;
  static constexpr uint32_t kBusMaster = 0xC000;  // where the tests place BAR4

  // A VM (16 MiB, the wait guest) with these IDE drives; null (and a failure) if it does not boot. The
  // caller keeps the drives' backends alive until the VM is gone.
  std::unique_ptr<Vm> MakeVm(std::vector<IdeDisk> drives) {
    VmConfig cfg;
    cfg.ram_bytes = 16u << 20;
    cfg.image = test::WaitImage();
    cfg.ide_disks = std::move(drives);
    auto vm = std::make_unique<Vm>(monitor_, cfg, [](uint8_t) {});
    std::string error;
    if (!vm->Boot(&error)) {
      ADD_FAILURE() << error;
      return nullptr;
    }
    // What Linux does at enumeration: the Malta fixup's IDE decode enable, BAR4, then the driver's
    // pci_enable_device (I/O space) and bus mastering.
    Piix4Ide& ide = vm->board().ide();
    ide.WriteConfig(0x40, 0x80008000u);
    ide.WriteConfig(0x20, kBusMaster | 1);
    ide.WriteConfig(0x04, 0x0005);
    return vm;
  }

  uint32_t In(uint32_t port, unsigned size = 1) {
    uint32_t v = 0;
    EXPECT_TRUE(vm_->board().IoRead(kIo + port, size, &v));
    return v;
  }
  void Out(uint32_t port, uint32_t v, unsigned size = 1) {
    EXPECT_TRUE(vm_->board().IoWrite(kIo + port, size, v));
  }
  // The drives' workers finish everything submitted; the completions run as the run loop would run them.
  void Settle() {
    vm_->DrainDisks();
    vm_->RunCompletions();
  }
  std::vector<uint8_t> Ram(uint32_t paddr, size_t n) {
    std::vector<uint8_t> b(n);
    EXPECT_TRUE(vm_->guest_memory().Read(paddr, b.data(), n));
    return b;
  }
  // A PRD table at `at`: (address, byte count) entries, the last one marked end of table.
  void PutPrd(uint32_t at, std::vector<std::pair<uint32_t, uint32_t>> entries) {
    for (size_t i = 0; i < entries.size(); ++i) {
      uint32_t e[2] = {entries[i].first, entries[i].second | (i + 1 == entries.size() ? 0x80000000u : 0)};
      ASSERT_TRUE(vm_->guest_memory().Write(at + 8 * static_cast<uint32_t>(i), e, sizeof e));
    }
  }

  Monitor monitor_{size_t{256} << 20};
  std::unique_ptr<Vm> vm_;  // reset it before the drives' backends
};

}  // namespace strobe::vmm
