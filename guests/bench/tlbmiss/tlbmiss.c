// SPDX-License-Identifier: MIT
// Benchmark: a user-mode loop that misses the TLB on every load. The kernel maps N_PAGES 4 KiB user pages
// through a software page table (Context.PTEBase), installs a FIFO refill handler at EBase + 0 and runs
// the user loop (tlbmiss.S), which reads one word per page, strided over all page pairs, PASSES times.
// The kernel then checks the sum and the refill count (exactly one refill per load) and prints both.
#include "tlbmiss.h"
#include "rt.h"

#define PT_BASE 0x80800000u     // page table: 8 MiB aligned kseg0 address, slots indexed by VA[31:13]
#define FRAME_POOL 0x80C00000u  // user frames from physical 12 MiB up

struct pte_pair {
  uint32_t lo[2];
  uint32_t pad[2];
};
#define page_table ((volatile struct pte_pair*)PT_BASE)

// Read and written by the refill handler (tlbmiss.S: RS_COUNT, RS_NEXT, RS_TOP).
struct refill_state {
  uint32_t count;  // refills taken
  uint32_t next;   // TLB index the next refill writes
  uint32_t top;    // highest index; the handler wraps from 1 back to it
};
volatile struct refill_state tlbmiss_refill_state;

extern const uint8_t user_code_begin[], user_code_end[], refill_begin[], refill_end[];
uint32_t user_run(uint32_t pc, uint32_t asid, uint32_t status_bits);
_Noreturn void user_exit_to_kernel(uint32_t value);

static uint32_t next_frame = FRAME_POOL;

static uint32_t tlb_entries(void) {
  return ((mfc0(CP0_CONFIG, 1) >> 25) & 0x3f) + 1;
}

static void tlb_write_index(uint32_t index, uint32_t hi, uint32_t lo0, uint32_t lo1) {
  mtc0(CP0_INDEX, 0, index);
  mtc0(CP0_ENTRYHI, 0, hi);
  mtc0(CP0_ENTRYLO0, 0, lo0);
  mtc0(CP0_ENTRYLO1, 0, lo1);
  __asm__ volatile("tlbwi\n\tehb" ::: "memory");
}

static uint32_t entrylo(uint32_t kseg0_frame, uint32_t flags) {
  return ((PHYS(kseg0_frame) >> 12) << 6) | ENTRYLO_C_CACHED | flags;
}

static uint32_t alloc_frame(void) {
  uint32_t f = next_frame;
  next_frame += 4096;
  return f;
}

static void copy_words(uint32_t dst, const uint8_t* begin, const uint8_t* end) {
  volatile uint32_t* d = (volatile uint32_t*)dst;
  const uint32_t* s = (const uint32_t*)begin;
  for (uint32_t i = 0; i < (uint32_t)(end - begin) / 4; i++) d[i] = s[i];
}

void mips_exception(struct frame* f) {
  uint32_t code = CAUSE_EXC(f->cause);
  if ((f->status & ST_KSU_MASK) == ST_KSU_USER && code == EXC_SYS && f->r[2] == SYS_EXIT)
    user_exit_to_kernel(f->r[4]);
  printf("tlbmiss: unexpected exception code=%u epc=0x%08x badvaddr=0x%08x vec=%u\n", code, f->epc,
         f->badvaddr, f->vec);
  rt_exit(100 + (int)code);
}

int main(void) {
  uint32_t ntlb = tlb_entries();
  if (ntlb < 2 || ntlb > N_PAIRS) {
    printf("tlbmiss: unsupported TLB size %u\n", ntlb);
    return 1;
  }
  if (user_code_end - user_code_begin > 4096 || refill_end - refill_begin > 0x80) {
    printf("tlbmiss: user code or refill handler too large\n");
    return 1;
  }

  // Invalidate every TLB entry (distinct kseg0 VPN2s never match), then wire the code page in entry 0.
  mtc0(CP0_PAGEMASK, 0, 0);
  mtc0(CP0_WIRED, 0, 0);
  for (uint32_t i = 0; i < ntlb; i++) tlb_write_index(i, 0x80000000u + (i << 13), 0, 0);
  uint32_t code = alloc_frame();
  copy_words(code, user_code_begin, user_code_end);
  tlb_write_index(0, USER_CODE & ~0x1fffu, entrylo(code, ENTRYLO_V | ENTRYLO_G), ENTRYLO_G);
  mtc0(CP0_WIRED, 0, 1);
  mtc0(CP0_ENTRYHI, 0, 0);

  // Data pages: word w of page p holds a hash of (p, w); total is the sum of all of them.
  uint32_t total = 0;
  for (uint32_t p = 0; p < N_PAGES; p++) {
    uint32_t frame = alloc_frame();
    volatile uint32_t* words = (volatile uint32_t*)frame;
    for (uint32_t w = 0; w < 1024; w++) {
      uint32_t v = (p << 10 | w) * 0x9e3779b9u;
      v ^= v >> 15;
      v *= 0x85ebca6bu;
      words[w] = v;
      total += v;
    }
    uint32_t va = USER_DATA + p * 4096;
    page_table[va >> 13].lo[p & 1] = entrylo(frame, ENTRYLO_V | ENTRYLO_D | ENTRYLO_G);
  }
  mtc0(CP0_CONTEXT, 0, PT_BASE);  // PTEBase; BadVPN2 is filled in by the CPU

  // FIFO refill over entries ntlb-1 .. 1, handler at EBase + 0.
  tlbmiss_refill_state.count = 0;
  tlbmiss_refill_state.next = ntlb - 1;
  tlbmiss_refill_state.top = ntlb - 1;
  copy_words(0x80000000u, refill_begin, refill_end);

  uint32_t sum = user_run(USER_CODE, 0, 0);  // interrupts stay off in user mode
  uint32_t refills = tlbmiss_refill_state.count;

  uint32_t want_sum = total * (PASSES / 2048);
  uint32_t want_refills = PASSES * N_PAIRS;  // every load misses: FIFO, fewer entries than pairs
  printf("pages=%u passes=%u loads=%u\n", N_PAGES, PASSES, PASSES * N_PAIRS);
  printf("sum=%08x refills=%u\n", sum, refills);
  if (sum != want_sum || refills != want_refills) {
    printf("tlbmiss: FAILED want sum=%08x refills=%u\n", want_sum, want_refills);
    return 1;
  }
  printf("tlbmiss: done\n");
  return 0;
}
