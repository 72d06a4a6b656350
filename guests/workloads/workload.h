// SPDX-License-Identifier: MIT
// Interface between a portable compute workload and its (MIPS or native) main.
// Workload sources use only this header and <stdint.h>, so the same code runs
// on the host and gives the reference output for the guest run.
#ifndef STROBE_WORKLOAD_H
#define STROBE_WORKLOAD_H

#include <stdint.h>

// printf subset available on both sides: %u %d %x %08x %s.
void wl_printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Runs the workload, prints its result lines; returns 0 on success.
int workload_main(void);

// Both mains take the command line "scale=N" (the guest's from -append): the workload runs N times with
// output only from the last run, so the output does not depend on N and benchmarks can run long enough
// for start-up costs not to matter.
// With the word "marks" on the command line, each quiet run is followed by a line "pass K", so that a
// benchmark can time the passes one by one (strobe_bench's Warm/).
// wl_run parses the command line, runs the workload and returns its status; wl_printf prints nothing
// while wl_quiet is set.
uint32_t wl_parse_scale(const char* cmdline);
int wl_run(const char* cmdline);
extern int wl_quiet;

// xorshift32: deterministic data without libc.
static inline uint32_t wl_rand(uint32_t* state) {
  uint32_t x = *state;
  x ^= x << 13;
  x ^= x >> 17;
  x ^= x << 5;
  return *state = x;
}

#endif
