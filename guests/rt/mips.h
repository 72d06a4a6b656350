// SPDX-License-Identifier: MIT
// CP0 register access and architectural constants for MIPS32r2 guests.
#ifndef STROBE_RT_MIPS_H
#define STROBE_RT_MIPS_H

#define CP0_INDEX 0
#define CP0_RANDOM 1
#define CP0_ENTRYLO0 2
#define CP0_ENTRYLO1 3
#define CP0_CONTEXT 4
#define CP0_PAGEMASK 5
#define CP0_WIRED 6
#define CP0_HWRENA 7
#define CP0_BADVADDR 8
#define CP0_COUNT 9
#define CP0_ENTRYHI 10
#define CP0_COMPARE 11
#define CP0_STATUS 12
#define CP0_CAUSE 13
#define CP0_EPC 14
#define CP0_PRID 15
#define CP0_CONFIG 16

#define ST_IE 0x00000001u
#define ST_EXL 0x00000002u
#define ST_ERL 0x00000004u
#define ST_KSU_USER 0x00000010u
#define ST_KSU_MASK 0x00000018u
#define ST_IM7 0x00008000u
#define ST_BEV 0x00400000u
#define ST_FR 0x04000000u
#define ST_CU1 0x20000000u

#define CAUSE_BD 0x80000000u
#define CAUSE_CE_SHIFT 28
#define CAUSE_IV 0x00800000u
#define CAUSE_IP7 0x00008000u
#define CAUSE_EXC(c) (((c) >> 2) & 0x1f)

#define EXC_INT 0
#define EXC_MOD 1
#define EXC_TLBL 2
#define EXC_TLBS 3
#define EXC_ADEL 4
#define EXC_ADES 5
#define EXC_SYS 8
#define EXC_BP 9
#define EXC_RI 10
#define EXC_CPU 11
#define EXC_OV 12
#define EXC_TR 13

#define ENTRYLO_G 0x1u
#define ENTRYLO_V 0x2u
#define ENTRYLO_D 0x4u
#define ENTRYLO_C_CACHED (3u << 3)

#ifndef __ASSEMBLER__
#include <stdint.h>

#define STR_(x) #x
#define STR(x) STR_(x)

// Select must be a compile-time constant because it is encoded in the instruction.
#define mfc0(reg, sel)                                                \
  ({                                                                  \
    uint32_t v_;                                                      \
    __asm__ volatile("mfc0 %0, $" STR(reg) ", " STR(sel) : "=r"(v_)); \
    v_;                                                               \
  })
#define mtc0(reg, sel, val)                                                               \
  do {                                                                                    \
    uint32_t v_ = (val);                                                                  \
    __asm__ volatile("mtc0 %0, $" STR(reg) ", " STR(sel) "\n\tehb" ::"r"(v_) : "memory"); \
  } while (0)

static inline void ehb(void) {
  __asm__ volatile("ehb" ::: "memory");
}

// Virtual <-> physical for the unmapped kernel segments.
#define KSEG0(pa) ((uint32_t)(pa) | 0x80000000u)
#define KSEG1(pa) ((uint32_t)(pa) | 0xA0000000u)
#define PHYS(va) ((uint32_t)(va)&0x1FFFFFFFu)
#endif

#endif
