// SPDX-License-Identifier: MIT
// Kernel<->user transitions shared by the user-mode guests.
#include "mips.h"

    .set noreorder

// uint32_t user_run(uint32_t pc, uint32_t asid, uint32_t status_bits): runs user code at pc in address
// space asid with Status.IE/IM bits from status_bits (e.g. ST_IE | ST_IM7 for the timer), until the kernel
// calls user_exit_to_kernel(value); returns that value. Callee-saved state is kept in kernel_ctx.
    .text
    .globl user_run
    .ent user_run
user_run:
    la      $t0, kernel_ctx
    sw      $s0, 0($t0)
    sw      $s1, 4($t0)
    sw      $s2, 8($t0)
    sw      $s3, 12($t0)
    sw      $s4, 16($t0)
    sw      $s5, 20($t0)
    sw      $s6, 24($t0)
    sw      $s7, 28($t0)
    sw      $fp, 32($t0)
    sw      $sp, 36($t0)
    sw      $ra, 40($t0)
    mtc0    $a1, $10            // EntryHi: ASID of the user address space
    mtc0    $a0, $14            // EPC = user entry
    // User mode after eret: KSU = 2, EXL = 1 now (cleared by eret), plus the caller's interrupt bits.
    mfc0    $t1, $12
    li      $t2, ~(ST_KSU_MASK | ST_ERL | ST_EXL | ST_IE | 0xff00)
    and     $t1, $t1, $t2
    andi    $a2, $a2, ST_IE | 0xff00
    or      $t1, $t1, $a2
    ori     $t1, $t1, ST_KSU_USER | ST_EXL
    mtc0    $t1, $12
    ehb
    // Do not leak kernel pointers into user registers that matter.
    move    $sp, $zero
    move    $gp, $zero
    eret
    .end user_run

// void user_exit_to_kernel(uint32_t value): called from the exception handler; abandons the exception
// frame and returns value from user_run.
    .globl user_exit_to_kernel
    .ent user_exit_to_kernel
user_exit_to_kernel:
    mfc0    $t1, $12
    li      $t2, ~(ST_KSU_MASK | ST_ERL | ST_EXL | ST_IE | 0xff00)
    and     $t1, $t1, $t2
    mtc0    $t1, $12
    ehb
    la      $t0, kernel_ctx
    lw      $s0, 0($t0)
    lw      $s1, 4($t0)
    lw      $s2, 8($t0)
    lw      $s3, 12($t0)
    lw      $s4, 16($t0)
    lw      $s5, 20($t0)
    lw      $s6, 24($t0)
    lw      $s7, 28($t0)
    lw      $fp, 32($t0)
    lw      $sp, 36($t0)
    lw      $ra, 40($t0)
    jr      $ra
    move    $v0, $a0
    .end user_exit_to_kernel

    .bss
    .align 2
kernel_ctx:
    .space 44
