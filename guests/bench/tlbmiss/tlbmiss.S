// SPDX-License-Identifier: MIT
// tlbmiss: the TLB refill handler (copied to EBase + 0) and the user loop (transitions: rt/user.S).
#include "mips.h"
#include "tlbmiss.h"

    .set noreorder
    .set noat

// user_run and user_exit_to_kernel come from rt/user.S.
    .text

// TLB refill handler, copied by main() to EBase + 0 (so it must stay under 0x80 bytes and use only
// absolute or PC-relative addressing, k0/k1 only). Context = PTEBase | BadVPN2 << 4 addresses the
// 16-byte page-table slot {EntryLo0, EntryLo1, -, -} of the faulting page pair; EntryHi already holds
// VPN2 and ASID. Replacement is FIFO through a software index (tlbwi) that walks from RS_TOP down to 1
// (entry 0 is the wired code page), so the miss count does not depend on the CPU's Random register.
    .section .rodata.refill, "a"
    .align 4
    .globl refill_begin, refill_end
refill_begin:
    mfc0    $k0, $4             // Context
    lw      $k1, 0($k0)
    mtc0    $k1, $2             // EntryLo0
    lw      $k1, 4($k0)
    mtc0    $k1, $3             // EntryLo1
    la      $k0, tlbmiss_refill_state
    lw      $k1, RS_NEXT($k0)
    mtc0    $k1, $0             // Index
    ehb
    tlbwi
    addiu   $k1, $k1, -1
    bnez    $k1, 1f
    sw      $k1, RS_NEXT($k0)   // delay slot
    lw      $k1, RS_TOP($k0)    // wrapped past entry 1: start again at the top
    sw      $k1, RS_NEXT($k0)
1:  lw      $k1, RS_COUNT($k0)
    addiu   $k1, $k1, 1
    sw      $k1, RS_COUNT($k0)
    eret
refill_end:

// ---------------------------------------------------------------------------
// The user program, copied to a frame mapped at USER_CODE (PC-relative branches only).
// Pass k reads one word of every second page: page 2j + (k & 1) for pairs j = i * STRIDE_PAIRS mod N_PAIRS,
// word (k >> 1) mod 1024. The pair sequence repeats every N_PAIRS accesses, so with FIFO replacement and
// fewer than N_PAIRS TLB entries every load misses. The sum is passed back with the exit syscall.
    .section .rodata.user, "a"
    .align 4
    .globl user_code_begin, user_code_end
user_code_begin:
    lui     $s0, (USER_DATA >> 16)
    li      $s1, PASSES
    li      $s3, STRIDE_PAIRS * 8192
    li      $s4, N_PAIRS * 8192 - 1
    move    $v1, $zero          // sum
    move    $s2, $zero          // pass
1:  andi    $t0, $s2, 1
    sll     $t0, $t0, 12        // odd pass: odd page of each pair
    sll     $t1, $s2, 1
    andi    $t1, $t1, 0xffc     // word offset (pass >> 1) * 4 mod 4096
    addu    $t2, $s0, $t0
    addu    $t2, $t2, $t1
    move    $t3, $zero          // pair offset (j * STRIDE_PAIRS mod N_PAIRS) * 8192
    li      $t4, N_PAIRS
2:  addu    $t5, $t2, $t3
    lw      $t6, 0($t5)         // TLB refill
    addu    $t3, $t3, $s3
    addiu   $t4, $t4, -1
    addu    $v1, $v1, $t6
    bnez    $t4, 2b
    and     $t3, $t3, $s4       // delay slot
    addiu   $s2, $s2, 1
    bne     $s2, $s1, 1b
    nop
    move    $a0, $v1
    li      $v0, SYS_EXIT
    syscall
3:  b       3b
    nop
user_code_end:
