// SPDX-License-Identifier: MIT
// Exception vector stubs (copied to EBase) and the common save/restore path.
#include "mips.h"

#define FRAME_WORDS 40          /* sizeof(struct frame) rounded up to 8 bytes */
#define ARGS        16          /* o32 argument save area below the frame */
#define STACK_ADJ   (FRAME_WORDS * 4 + ARGS)
#define F(n)        (ARGS + (n) * 4)
#define F_HI        F(32)
#define F_LO        F(33)
#define F_EPC       F(34)
#define F_STATUS    F(35)
#define F_CAUSE     F(36)
#define F_BADVADDR  F(37)
#define F_VEC       F(38)

    .set noreorder
    .set noat

// Each stub is 4 instructions, position independent (absolute la), copied to
// EBase + 0, + 0x180 and + 0x200 by rt_install_vectors. Only k0/k1 are used.
// mips_refill_entry is weak so a program can provide its own fast refill handler.
    .section .text.vectors, "ax"
    .globl _vec_refill, _vec_general, _vec_intr, _vec_end
_vec_refill:
    la      $k0, mips_refill_entry
    jr      $k0
    li      $k1, 0
_vec_general:
    la      $k0, _exc_common
    jr      $k0
    li      $k1, 1
_vec_intr:
    la      $k0, _exc_common
    jr      $k0
    li      $k1, 2
_vec_end:

    .text
    .weak   mips_refill_entry
    .set    mips_refill_entry, _exc_common

// k1 = vector id. Save everything on the current stack if we came from kernel
// mode, else on the kernel exception stack.
    .globl _exc_common
    .ent _exc_common
_exc_common:
    mfc0    $k0, $12
    andi    $k0, $k0, ST_KSU_MASK
    beqz    $k0, 1f
    move    $k0, $sp
    la      $k0, _exc_stack_top
1:  addiu   $k0, $k0, -STACK_ADJ
    sw      $k1, F_VEC($k0)
    sw      $1,  F(1)($k0)
    sw      $2,  F(2)($k0)
    sw      $3,  F(3)($k0)
    sw      $4,  F(4)($k0)
    sw      $5,  F(5)($k0)
    sw      $6,  F(6)($k0)
    sw      $7,  F(7)($k0)
    sw      $8,  F(8)($k0)
    sw      $9,  F(9)($k0)
    sw      $10, F(10)($k0)
    sw      $11, F(11)($k0)
    sw      $12, F(12)($k0)
    sw      $13, F(13)($k0)
    sw      $14, F(14)($k0)
    sw      $15, F(15)($k0)
    sw      $16, F(16)($k0)
    sw      $17, F(17)($k0)
    sw      $18, F(18)($k0)
    sw      $19, F(19)($k0)
    sw      $20, F(20)($k0)
    sw      $21, F(21)($k0)
    sw      $22, F(22)($k0)
    sw      $23, F(23)($k0)
    sw      $24, F(24)($k0)
    sw      $25, F(25)($k0)
    sw      $zero, F(26)($k0)
    sw      $zero, F(27)($k0)
    sw      $28, F(28)($k0)
    sw      $29, F(29)($k0)
    sw      $30, F(30)($k0)
    sw      $31, F(31)($k0)
    sw      $zero, F(0)($k0)
    mfhi    $t0
    sw      $t0, F_HI($k0)
    mflo    $t0
    sw      $t0, F_LO($k0)
    mfc0    $t0, $14
    sw      $t0, F_EPC($k0)
    mfc0    $t0, $12
    sw      $t0, F_STATUS($k0)
    mfc0    $t0, $13
    sw      $t0, F_CAUSE($k0)
    mfc0    $t0, $8
    sw      $t0, F_BADVADDR($k0)

    move    $sp, $k0
    jal     mips_exception
    addiu   $a0, $sp, ARGS

    move    $k0, $sp
    lw      $t0, F_HI($k0)
    mthi    $t0
    lw      $t0, F_LO($k0)
    mtlo    $t0
    lw      $t0, F_EPC($k0)
    mtc0    $t0, $14
    lw      $1,  F(1)($k0)
    lw      $2,  F(2)($k0)
    lw      $3,  F(3)($k0)
    lw      $4,  F(4)($k0)
    lw      $5,  F(5)($k0)
    lw      $6,  F(6)($k0)
    lw      $7,  F(7)($k0)
    lw      $8,  F(8)($k0)
    lw      $9,  F(9)($k0)
    lw      $10, F(10)($k0)
    lw      $11, F(11)($k0)
    lw      $12, F(12)($k0)
    lw      $13, F(13)($k0)
    lw      $14, F(14)($k0)
    lw      $15, F(15)($k0)
    lw      $16, F(16)($k0)
    lw      $17, F(17)($k0)
    lw      $18, F(18)($k0)
    lw      $19, F(19)($k0)
    lw      $20, F(20)($k0)
    lw      $21, F(21)($k0)
    lw      $22, F(22)($k0)
    lw      $23, F(23)($k0)
    lw      $24, F(24)($k0)
    lw      $25, F(25)($k0)
    lw      $28, F(28)($k0)
    lw      $30, F(30)($k0)
    lw      $31, F(31)($k0)
    lw      $29, F(29)($k0)
    ehb
    eret
    .end _exc_common
