// SPDX-License-Identifier: MIT
// The user program of the usermode guest (the kernel<->user transitions are in rt/user.S).
#include "mips.h"

    .set noreorder

// user_run and user_exit_to_kernel come from rt/user.S.
    .text

// ---------------------------------------------------------------------------
// The user program. It is copied to a physical page and mapped at USER_CODE
// (0x00400000), so it only uses PC-relative branches and absolute kuseg data
// addresses. Syscall ABI: v0 = number, a0/a1 = arguments, v0 = result.
#define SYS_WRITE  1   // a0 = NUL-terminated string
#define SYS_EXIT   2   // a0 = code
#define SYS_TICKS  3   // v0 = timer interrupts so far
#define SYS_ASID   4   // a0 = new ASID
#define SYS_REPORT 5   // a0 = slot, a1 = value

#define SYSCALL(n) li $v0, n; syscall
#define REPORT(slot, reg) li $a0, slot; move $a1, reg; SYSCALL(SYS_REPORT)

    .section .rodata.user, "a"
    .align 4
    .globl user_code_begin, user_code_end
user_code_begin:
    lui     $s0, 0x1000         // data page pair at 0x10000000

    lw      $t0, 0($s0)         // first touch of the data page: TLB refill
    REPORT(0, $t0)
    move    $a0, $s0            // greeting prepared by the kernel
    SYSCALL(SYS_WRITE)

    lw      $t0, 0x2000($s0)    // page mapped with V = 0: TLBL, then retried
    REPORT(1, $t0)

    li      $t1, 0x5555
    sw      $t1, 0x4000($s0)    // page mapped with V = 0: TLBS, then retried
    lw      $t0, 0x4000($s0)
    REPORT(2, $t0)

    li      $t1, 0x6666
    sw      $t1, 0x6000($s0)    // valid page with D = 0: TLB Mod, then retried
    lw      $t0, 0x6000($s0)
    REPORT(3, $t0)

    lui     $t0, 0x8000
    lw      $t0, 0($t0)         // kernel address from user mode: AdEL, skipped
    REPORT(4, $t0)

    lui     $t2, 0x2000         // same VA, different page per ASID (wired TLB entries)
    lw      $t3, 0($t2)
    REPORT(5, $t3)
    li      $a0, 2
    SYSCALL(SYS_ASID)
    lw      $t3, 0($t2)
    REPORT(6, $t3)
    li      $a0, 1
    SYSCALL(SYS_ASID)

    // Spin until three more timer interrupts were taken (bounded).
    SYSCALL(SYS_TICKS)
    move    $s2, $v0
    li      $s1, 20000
1:  li      $t0, 2000
2:  addiu   $t0, $t0, -1
    bnez    $t0, 2b
    nop
    SYSCALL(SYS_TICKS)
    subu    $v0, $v0, $s2
    sltiu   $t1, $v0, 3
    beqz    $t1, 3f
    addiu   $s1, $s1, -1
    bnez    $s1, 1b
    nop
3:  REPORT(7, $v0)              // ticks seen during the loop

    addiu   $a0, $s0, 0x100     // second message
    SYSCALL(SYS_WRITE)
    li      $a0, 0
    SYSCALL(SYS_EXIT)
4:  b       4b                  // not reached
    nop
user_code_end:
