// SPDX-License-Identifier: MIT
// Benchmark: random-access loads and stores over an 8 MiB buffer (xorshift32 addresses), twice the reach
// of Strobe's soft TLB and far beyond a host L2, so both the TLB slow path and the data cache miss path show.
#include "../workloads/workload.h"

#define BUF_WORDS (2u << 20) /* 8 MiB of uint32_t */
#define ACCESSES 5000000u

static uint32_t buf[BUF_WORDS];

int workload_main(void) {
  for (uint32_t i = 0; i < BUF_WORDS; i++) buf[i] = i * 0x9e3779b9u;

  uint32_t seed = 0x2545f491u, sum = 0;
  for (uint32_t n = 0; n < ACCESSES; n++) {
    uint32_t r = wl_rand(&seed);
    uint32_t i = r & (BUF_WORDS - 1);
    uint32_t j = (r >> 9) & (BUF_WORDS - 1);
    uint32_t v = buf[i];
    sum += v;
    buf[j] = v ^ r;
  }
  uint32_t fold = 0;
  for (uint32_t i = 0; i < BUF_WORDS; i += 4099) fold = (fold << 1 | fold >> 31) ^ buf[i];
  wl_printf("bytes=%u accesses=%u sum=%08x fold=%08x\n", BUF_WORDS * 4u, ACCESSES, sum, fold);
  wl_printf("memrand: done\n");
  return 0;
}
