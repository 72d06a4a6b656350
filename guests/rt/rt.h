// SPDX-License-Identifier: MIT
// Strobe guest runtime: console, power control, exception frames.
#ifndef STROBE_RT_H
#define STROBE_RT_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include "mips.h"

// Saved register state; layout shared with vectors.S (offsets in words).
struct frame {
  uint32_t r[32];  // r[0] unused, r[26]/r[27] (k0/k1) not preserved
  uint32_t hi, lo;
  uint32_t epc;  // resume address; handlers may change it
  uint32_t status, cause, badvaddr;
  uint32_t vec;  // 0 = TLB refill (EBase+0), 1 = general (EBase+0x180), 2 = interrupt
};

#define VEC_REFILL 0
#define VEC_GENERAL 1
#define VEC_INTR 2

// Called for every exception with all registers saved in *f; return resumes at f->epc.
// The runtime's weak default reports the exception and powers off.
void mips_exception(struct frame* f);

// Console on the Malta 16550 UART (COM1).
void uart_putc(char c);
int uart_getc(void);            // blocking
int uart_trygetc(void);         // -1 when nothing received
void uart_puts(const char* s);  // no newline appended
void put_hex(uint32_t v);       // 0x%08x
void put_dec(int32_t v);
int vprintf(const char* fmt, va_list ap);
int printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// Board control.
_Noreturn void power_off(void);
_Noreturn void board_reset(void);
_Noreturn void rt_exit(int code);  // prints "exit N" then powers off

// Skip the instruction at f->epc (only valid when Cause.BD = 0).
static inline void skip_insn(struct frame* f) {
  f->epc += 4;
}

void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
void* memmove(void* d, const void* s, size_t n);
int memcmp(const void* a, const void* b, size_t n);
size_t strlen(const char* s);

#endif
