// SPDX-License-Identifier: MIT
// The gdb stub's test guest (tests/debug): a loop that calls a small function which stores to a global
// (breakpoints, watchpoints, steps across a call's delay slot), and with "spin" on the command line a
// tight loop that never ends (gdb's Ctrl-C). With "tick" it prints "tick N" lines forever, a few hundred a
// second (the monitor's tests: a stopped VM's console stops advancing); gdb_magic is a word they read.
#include "rt.h"

volatile uint32_t gdb_counter;              // written by gdb_bump on every call
volatile uint32_t gdb_snapshot;             // read once, near the end
volatile uint32_t gdb_magic = 0x5742524Fu;  // a known value in .data (tests/monitor: x and xp)

__attribute__((noinline)) uint32_t gdb_bump(uint32_t v) {
  gdb_counter = v;
  return v * 3 + 1;
}

__attribute__((noinline)) static void spin(void) {
  for (volatile uint32_t i = 0;; i = i + 1) {
  }
}

static int has_word(const char* s, const char* w) {
  for (; *s; ++s) {
    size_t i = 0;
    while (w[i] && s[i] == w[i]) ++i;
    if (!w[i]) return 1;
  }
  return 0;
}

__attribute__((noinline)) static void tick(void) {
  for (uint32_t n = 0;; ++n) {
    printf("tick %u\n", (unsigned)n);
    for (volatile uint32_t i = 0; i < 20000; i = i + 1) {
    }
  }
}

int main(int argc, char** argv) {
  if (argc > 1 && has_word(argv[1], "spin")) spin();
  if (argc > 1 && has_word(argv[1], "tick")) tick();
  uint32_t acc = 0;
  for (uint32_t i = 1; i <= 100000; ++i) acc += gdb_bump(i);
  acc += gdb_snapshot;
  printf("gdb_target %u\n", (unsigned)acc);
  return 0;
}
