// SPDX-License-Identifier: MIT
// Layout and sizes shared by tlbmiss.c (kernel side) and tlbmiss.S (user loop, refill handler).
// Only #defines: included from C and from assembly.
#ifndef STROBE_TLBMISS_H
#define STROBE_TLBMISS_H

#define USER_CODE 0x00400000  // one page, wired in TLB entry 0
#define USER_DATA 0x10000000  // N_PAGES consecutive 4 KiB pages
#define N_PAGES 1024
#define N_PAIRS (N_PAGES / 2)
#define STRIDE_PAIRS 37  // odd, so j * STRIDE_PAIRS mod N_PAIRS visits every pair once per pass
#define PASSES 8192      // a multiple of 2048: every (page parity, word offset) pair equally often

#define SYS_EXIT 2  // a0 = result

// struct refill_state (tlbmiss.c): byte offsets used by the refill handler.
#define RS_COUNT 0
#define RS_NEXT 4
#define RS_TOP 8

#endif
