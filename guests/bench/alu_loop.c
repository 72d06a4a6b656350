// SPDX-License-Identifier: MIT
// Benchmark: a tight register-only ALU loop (adds, xors, shifts, a rotate), no memory traffic.
// The empty asm statement makes the three values opaque to the compiler at the end of every iteration, so
// clang (for MIPS and for the host) keeps a real loop instead of folding it into a closed form.
#include "../workloads/workload.h"

#define ITERATIONS 20000000u

int workload_main(void) {
  uint32_t a = 0x12345678u, b = 0x9abcdef0u, c = 0x0f1e2d3cu;
  for (uint32_t i = 0; i < ITERATIONS; i++) {
    a += b ^ i;
    b ^= a << 7;
    c += (a >> 3) ^ b;
    b = (b << 11) | (b >> 21);
    __asm__ volatile("" : "+r"(a), "+r"(b), "+r"(c));
  }
  wl_printf("iterations=%u a=%08x b=%08x c=%08x\n", ITERATIONS, a, b, c);
  wl_printf("alu_loop: done\n");
  return 0;
}
