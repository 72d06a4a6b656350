// SPDX-License-Identifier: MIT
#include "translator/code/abi.h"

#if !defined(__x86_64__)
#error "strobe_jit_enter is written for x86-64 hosts (the translation tier emits x86-64 code)"
#endif
// GHC convention on x86-64 (LLVM's X86CallingConv.td): integer arguments in R13, RBP, R12, RBX, R14, ...; i32
// arguments are widened to 64 bits. Stack: 8 mod 16 at the call, as for the C ABI.
asm(R"(
    .text
    .globl strobe_jit_enter
    .type strobe_jit_enter, @function
strobe_jit_enter:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    sub $8, %rsp
    mov %rdi, %r13
    mov %esi, %ebp
    mov %edx, %r12d
    mov %rcx, %rbx
    mov %r9, %r14
    call *%r8
    add $8, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size strobe_jit_enter, .-strobe_jit_enter
)");
