// SPDX-License-Identifier: MIT
// Entry point: stack, BSS, exception vectors, main(argc, argv), power off.
#include "mips.h"

    .set noreorder
    .section .text.start, "ax"
    .globl _start
    .ent _start
_start:
    move    $s0, $a0         // YAMON's argc and argv (argv[1]: the -append command line), for main
    move    $s1, $a1
    la      $sp, _stack_top
    move    $fp, $zero

    // Zero .bss (linker script aligns both ends to 4 bytes).
    la      $t0, __bss_start
    la      $t1, __bss_end
1:  beq     $t0, $t1, 2f
    nop
    sw      $zero, 0($t0)
    b       1b
    addiu   $t0, $t0, 4
2:
    // Exceptions: EBase = 0x80000000, then copy the vector stubs there.
    li      $t0, 0x80000000
    mtc0    $t0, $15, 1
    ehb
    jal     rt_install_vectors
    nop

    // Kernel mode, interrupts off, normal (RAM) vectors: clear BEV/EXL/ERL/KSU/IE/IM.
    mfc0    $t0, $12
    li      $t1, ~(ST_BEV | ST_ERL | ST_EXL | ST_KSU_MASK | ST_IE | 0xff00)
    and     $t0, $t0, $t1
#ifdef __mips_hard_float
    // Programs built -mhard-float -mfp32 (and this copy of the runtime with them): coprocessor 1 usable
    // (CU1), 32-bit FPU registers in even/odd pairs (FR = 0). On a CPU without an FPU (24Kc) CU1 stays 0
    // and the first FPU instruction, the ctc1 below, takes a Coprocessor Unusable exception.
    li      $t1, ~ST_FR
    and     $t0, $t0, $t1
    li      $t1, ST_CU1
    or      $t0, $t0, $t1
#endif
    mtc0    $t0, $12
    mtc0    $zero, $13       // Cause.IV = 0: interrupts use the general vector
    ehb
#ifdef __mips_hard_float
    ctc1    $zero, $31       // FCSR: round to nearest, no exception enabled, flags clear, no flush to zero
#endif

    move    $a0, $s0
    jal     main
    move    $a1, $s1
    jal     rt_exit
    move    $a0, $v0
3:  b       3b
    nop
    .end _start
