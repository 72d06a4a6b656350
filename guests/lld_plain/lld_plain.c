// SPDX-License-Identifier: MIT
// A guest linked the plain way, `ld.lld-19 -Ttext=0x80100000` with no linker script, exactly as a user
// would: lld then emits a read-only PT_LOAD of the ELF headers at 0x00010000, which QEMU's Malta loader
// places at physical 0x10000. It prints one line on COM1 and resets the board (run it with -no-reboot).
// No runtime, no stack of its own: the boot loader's sp suffices.

#define UART ((volatile unsigned char*)0xB80003F8u)  // COM1 through kseg1
#define SOFTRES (*(volatile unsigned*)0xBF000500u)   // Malta FPGA: writing 0x42 resets the board

void __start(void) {
  for (const char* s = "lld-linked guest runs\n"; *s; ++s) {
    while (!(UART[5] & 0x20)) {
    }
    UART[0] = (unsigned char)*s;
  }
  SOFTRES = 0x42;
  for (;;) {
  }
}
