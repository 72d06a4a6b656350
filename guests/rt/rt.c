// SPDX-License-Identifier: MIT
// Vector installation, board control and the default exception handler.
#include "rt.h"

extern const uint32_t _vec_refill[], _vec_general[], _vec_intr[], _vec_end[];

static void copy_words(uint32_t dst, const uint32_t* src, const uint32_t* end) {
  volatile uint32_t* d = (volatile uint32_t*)dst;
  while (src < end) *d++ = *src++;
}

// EBase is 0x80000000 (set by start.S). Stores to instruction memory need no
// cache maintenance on QEMU or Strobe, which keep instruction fetch coherent.
void rt_install_vectors(void) {
  copy_words(0x80000000u, _vec_refill, _vec_general);
  copy_words(0x80000180u, _vec_general, _vec_intr);
  copy_words(0x80000200u, _vec_intr, _vec_end);
}

_Noreturn void board_reset(void) {
  *(volatile uint32_t*)0xBF000500u = 0x42;  // Malta SOFTRES
  for (;;) __asm__ volatile("wait");
}

_Noreturn void power_off(void) {
  // PIIX4 PMCNTRL: SUS_TYP = 0 (soft off) | SUS_EN. Only works if the PM I/O
  // base was programmed; otherwise fall back to a board reset, which ends
  // an emulator started with -no-reboot.
  *(volatile uint16_t*)0xB8001004u = 0x2000;
  board_reset();
}

_Noreturn void rt_exit(int code) {
  printf("exit %d\n", code);
  power_off();
}

static const char* const exc_names[32] = {
    "Int", "Mod", "TLBL", "TLBS", "AdEL", "AdES", "IBE", "DBE",
    "Sys", "Bp",  "RI",   "CpU",  "Ov",   "Tr",   "?14", "FPE",
};

__attribute__((weak)) void mips_exception(struct frame* f) {
  uint32_t code = CAUSE_EXC(f->cause);
  const char* name = exc_names[code] ? exc_names[code] : "?";
  printf("unhandled exception %s (%u) vec=%u cause=0x%08x epc=0x%08x badvaddr=0x%08x\n", name, code, f->vec,
         f->cause, f->epc, f->badvaddr);
  rt_exit(128 + (int)code);
}
