// SPDX-License-Identifier: MIT
// User mode and TLB test: a software page table walked by the refill handler
// (refill.S), lazily validated pages (TLBL/TLBS), a clean page (TLB Mod),
// syscalls, Count/Compare interrupts during user code, AdEL on a kernel
// address, and ASID-tagged wired TLB entries.
#include "rt.h"

// Page table: 16-byte slot per even/odd page pair, indexed by VA[31:13], at an
// 8 MiB aligned kseg0 address so that Context can point straight at a slot.
struct pte_pair {
  uint32_t lo[2];
  uint32_t lazy;  // bit n: lo[n] is mapped but starts with V = 0
  uint32_t pad;
};
#define PT_BASE 0x80800000u  // physical 8 MiB .. 12 MiB
#define PT_BYTES (1u << 22)  // covers all of kuseg
#define page_table ((struct pte_pair*)PT_BASE)
#define FRAME_POOL 0x80C00000u  // user frames from 12 MiB up

#define USER_CODE 0x00400000u
#define USER_DATA 0x10000000u
#define ASID_VA 0x20000000u
#define TIMER_INTERVAL 20000u

#define SYS_WRITE 1
#define SYS_EXIT 2
#define SYS_TICKS 3
#define SYS_ASID 4
#define SYS_REPORT 5

extern const uint8_t user_code_begin[], user_code_end[];
uint32_t user_run(uint32_t pc, uint32_t asid, uint32_t status_bits);
_Noreturn void user_exit_to_kernel(uint32_t value);

volatile uint32_t refill_count;  // incremented by refill.S
static volatile uint32_t ticks, n_tlbl, n_tlbs, n_mod, n_adel, n_syscall, n_user_exc;
static uint32_t adel_badvaddr, report[8];
static uint32_t next_frame = FRAME_POOL;
static int passed, failed;

static void check(const char* name, uint32_t got, uint32_t want) {
  if (got == want) {
    passed++;
    printf("ok %s\n", name);
  } else {
    failed++;
    printf("FAIL %s got=0x%08x want=0x%08x\n", name, got, want);
  }
}

// --------------------------------------------------------------- TLB helpers
static void tlb_write_index(uint32_t index, uint32_t hi, uint32_t lo0, uint32_t lo1) {
  mtc0(CP0_INDEX, 0, index);
  mtc0(CP0_ENTRYHI, 0, hi);
  mtc0(CP0_ENTRYLO0, 0, lo0);
  mtc0(CP0_ENTRYLO1, 0, lo1);
  __asm__ volatile("tlbwi\n\tehb" ::: "memory");
}

static uint32_t tlb_entries(void) {
  return ((mfc0(CP0_CONFIG, 1) >> 25) & 0x3f) + 1;
}

// Invalidate every entry with a distinct VPN2 in unmapped kseg0 (never matches).
static void tlb_flush_all(void) {
  uint32_t n = tlb_entries();
  for (uint32_t i = 0; i < n; i++) tlb_write_index(i, 0x80000000u + (i << 13), 0, 0);
  mtc0(CP0_ENTRYHI, 0, 0);
}

// Reload the TLB entry for va's page pair from the page table (probe, then
// overwrite the matching entry or write a random one).
static void tlb_update(uint32_t va) {
  struct pte_pair* p = &page_table[va >> 13];
  uint32_t asid = mfc0(CP0_ENTRYHI, 0) & 0xff;
  mtc0(CP0_ENTRYHI, 0, (va & ~0x1fffu) | asid);
  __asm__ volatile("tlbp\n\tehb" ::: "memory");
  uint32_t index = mfc0(CP0_INDEX, 0);
  mtc0(CP0_ENTRYLO0, 0, p->lo[0]);
  mtc0(CP0_ENTRYLO1, 0, p->lo[1]);
  if (index & 0x80000000u)
    __asm__ volatile("tlbwr\n\tehb" ::: "memory");
  else
    __asm__ volatile("tlbwi\n\tehb" ::: "memory");
}

// ------------------------------------------------------------- page tables
static uint32_t alloc_frame(void) {
  uint32_t f = next_frame;
  next_frame += 4096;
  memset((void*)f, 0, 4096);
  return f;
}

static uint32_t entrylo(uint32_t kseg0_frame, uint32_t flags) {
  return ((PHYS(kseg0_frame) >> 12) << 6) | ENTRYLO_C_CACHED | flags;
}

// Map one 4 KiB user page; returns its kseg0 alias for the kernel.
static uint32_t map_page(uint32_t va, uint32_t flags, int lazy) {
  uint32_t frame = alloc_frame();
  struct pte_pair* p = &page_table[va >> 13];
  int odd = (va >> 12) & 1;
  p->lo[odd] = entrylo(frame, flags);
  p->lo[!odd] |= flags & ENTRYLO_G;  // G must be set in both halves to count
  if (lazy) p->lazy |= 1u << odd;
  return frame;
}

// User virtual address -> kseg0 pointer via the page table (no TLB use).
static volatile uint8_t* user_ptr(uint32_t va) {
  uint32_t lo = page_table[va >> 13].lo[(va >> 12) & 1];
  if (va >= 0x80000000u || !(lo >> 6)) return 0;
  return (volatile uint8_t*)KSEG0(((lo >> 6) << 12) | (va & 0xfff));
}

static void user_write(uint32_t va) {
  for (int n = 0; n < 256; n++, va++) {
    volatile uint8_t* c = user_ptr(va);
    if (!c || !*c) return;
    uart_putc((char)*c);
  }
}

// ------------------------------------------------------------- exceptions
static void do_syscall(struct frame* f) {
  uint32_t a0 = f->r[4], a1 = f->r[5];
  n_syscall++;
  f->epc += 4;
  switch (f->r[2]) {
    case SYS_WRITE: user_write(a0); break;
    case SYS_EXIT: user_exit_to_kernel(a0);
    case SYS_TICKS: f->r[2] = ticks; break;
    case SYS_ASID: mtc0(CP0_ENTRYHI, 0, (mfc0(CP0_ENTRYHI, 0) & ~0xffu) | (a0 & 0xff)); break;
    case SYS_REPORT:
      if (a0 < 8) report[a0] = a1;
      break;
    default: printf("bad syscall %u\n", f->r[2]); user_exit_to_kernel((uint32_t)-1);
  }
}

// TLB invalid / modified: fix the page table entry, then the TLB entry.
static void fix_tlb(struct frame* f, uint32_t code) {
  struct pte_pair* p = &page_table[f->badvaddr >> 13];
  int odd = (f->badvaddr >> 12) & 1;
  if (code == EXC_MOD) {
    n_mod++;
    p->lo[odd] |= ENTRYLO_D;
  } else if (p->lazy & (1u << odd)) {
    if (code == EXC_TLBL)
      n_tlbl++;
    else
      n_tlbs++;
    p->lazy &= ~(1u << odd);
    p->lo[odd] |= ENTRYLO_V;
  } else {
    printf("user fault: unmapped va=0x%08x epc=0x%08x code=%u\n", f->badvaddr, f->epc, code);
    user_exit_to_kernel((uint32_t)-2);
  }
  tlb_update(f->badvaddr);
}

void mips_exception(struct frame* f) {
  uint32_t code = CAUSE_EXC(f->cause);
  if ((f->status & ST_KSU_MASK) == ST_KSU_USER)
    n_user_exc++;
  else if (code != EXC_INT) {
    printf("kernel exception code=%u epc=0x%08x badvaddr=0x%08x\n", code, f->epc, f->badvaddr);
    rt_exit(100 + (int)code);
  }
  switch (code) {
    case EXC_INT:
      if (f->cause & CAUSE_IP7) {
        ticks++;
        mtc0(CP0_COMPARE, 0, mfc0(CP0_COUNT, 0) + TIMER_INTERVAL);  // also acks IP7
      }
      break;
    case EXC_MOD:
    case EXC_TLBL:
    case EXC_TLBS: fix_tlb(f, code); break;
    case EXC_ADEL:
      n_adel++;
      adel_badvaddr = f->badvaddr;
      printf("user AdEL at epc=0x%08x badvaddr=0x%08x: skipped\n", f->epc, f->badvaddr);
      f->epc += 4;
      break;
    case EXC_SYS: do_syscall(f); break;
    default:
      printf("unexpected user exception code=%u epc=0x%08x\n", code, f->epc);
      user_exit_to_kernel((uint32_t)-3);
  }
}

static void copy_str(uint32_t kva, const char* s) {
  char* d = (char*)kva;
  while ((*d++ = *s++))
    ;
}

int main(void) {
  uint32_t ntlb = tlb_entries();
  printf("usermode: %u TLB entries\n", ntlb);

  memset(page_table, 0, PT_BYTES);
  mtc0(CP0_CONTEXT, 0, PT_BASE);  // PTEBase; BadVPN2 is filled by hardware
  mtc0(CP0_PAGEMASK, 0, 0);
  tlb_flush_all();

  // User code (read-only, global) and data pages.
  uint32_t code = map_page(USER_CODE, ENTRYLO_V | ENTRYLO_G, 0);
  memcpy((void*)code, user_code_begin, (size_t)(user_code_end - user_code_begin));
  uint32_t data = map_page(USER_DATA, ENTRYLO_V | ENTRYLO_D | ENTRYLO_G, 0);
  copy_str(data, "user: hello via syscall write\n");
  copy_str(data + 0x100, "user: done, calling exit\n");
  uint32_t lazy_load = map_page(USER_DATA + 0x2000, ENTRYLO_D | ENTRYLO_G, 1);
  *(volatile uint32_t*)lazy_load = 0xa5a50001;
  map_page(USER_DATA + 0x4000, ENTRYLO_D | ENTRYLO_G, 1);
  map_page(USER_DATA + 0x6000, ENTRYLO_V | ENTRYLO_G, 0);  // clean: D = 0

  // ASID test: one VA, two wired non-global entries with different frames.
  uint32_t page_a = alloc_frame(), page_b = alloc_frame();
  *(volatile uint32_t*)page_a = 0x11111111;
  *(volatile uint32_t*)page_b = 0x22222222;
  tlb_write_index(0, ASID_VA | 1, entrylo(page_a, ENTRYLO_V), 0);
  tlb_write_index(1, ASID_VA | 2, entrylo(page_b, ENTRYLO_V), 0);
  mtc0(CP0_WIRED, 0, 2);
  check("wired", mfc0(CP0_WIRED, 0), 2);

  mtc0(CP0_COMPARE, 0, mfc0(CP0_COUNT, 0) + TIMER_INTERVAL);
  int rc = (int)user_run(USER_CODE, 1, ST_IE | ST_IM7);  // the timer interrupts user code
  mtc0(CP0_COMPARE, 0, mfc0(CP0_COUNT, 0) - 1);          // ack; IM7 is off again

  printf("events: refill=%u tlbl=%u tlbs=%u mod=%u adel=%u syscall=%u timer=%u user_exc=%u\n", refill_count,
         n_tlbl, n_tlbs, n_mod, n_adel, n_syscall, ticks, n_user_exc);
  check("exit.code", (uint32_t)rc, 0);
  // Code page + 4 data page pairs; random replacement may add more.
  check("refill.atleast5", refill_count >= 5, 1);
  check("data.read", report[0], 0x72657375);  // "user", little-endian
  check("tlbl.invalid.count", n_tlbl, 1);
  check("tlbl.invalid.data", report[1], 0xa5a50001);
  check("tlbs.invalid.count", n_tlbs, 1);
  check("tlbs.invalid.data", report[2], 0x5555);
  check("mod.count", n_mod, 1);
  check("mod.data", report[3], 0x6666);
  check("adel.count", n_adel, 1);
  check("adel.badvaddr", adel_badvaddr, 0x80000000);
  check("adel.skipped", report[4], 0x80000000);
  check("asid1.data", report[5], 0x11111111);
  check("asid2.data", report[6], 0x22222222);
  check("timer.atleast3", ticks >= 3, 1);
  check("timer.during.loop.atleast3", report[7] >= 3, 1);
  check("syscall.atleast15", n_syscall >= 15, 1);
  check("status.kernel.again", mfc0(CP0_STATUS, 0) & (ST_KSU_MASK | ST_EXL | ST_IE), 0);
  printf("usermode: %d passed, %d failed\n", passed, failed);
  return failed;
}
