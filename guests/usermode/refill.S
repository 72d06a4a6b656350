// SPDX-License-Identifier: MIT
// Fast TLB refill handler, reached from the stub at EBase + 0 (k0/k1 only).
// Context = PTEBase | BadVPN2 << 4, so Context is directly the address of the
// 16-byte page-table slot {EntryLo0, EntryLo1, flags, pad} for the faulting
// even/odd page pair. EntryHi already holds the faulting VPN2 and the ASID.
#include "mips.h"

    .set noreorder
    .set noat
    .text
    .globl mips_refill_entry
    .ent mips_refill_entry
mips_refill_entry:
    mfc0    $k0, $4             // Context
    lw      $k1, 0($k0)
    mtc0    $k1, $2             // EntryLo0
    lw      $k1, 4($k0)
    mtc0    $k1, $3             // EntryLo1
    ehb
    tlbwr
    la      $k0, refill_count   // statistics for the report
    lw      $k1, 0($k0)
    addiu   $k1, $k1, 1
    sw      $k1, 0($k0)
    eret
    .end mips_refill_entry
