// SPDX-License-Identifier: MIT
// Polled driver for the Malta COM1 16550 (ISA port 0x3f8 via kseg1 0xB8000000).
#include "rt.h"

#define UART_BASE 0xB80003F8u
#define UART_RBR 0  // receive buffer (read)
#define UART_THR 0  // transmit holding (write)
#define UART_LSR 5  // line status
#define LSR_DR 0x01
#define LSR_THRE 0x20

static inline volatile uint8_t* uart_reg(int r) {
  return (volatile uint8_t*)(UART_BASE + r);
}

void uart_putc(char c) {
  if (c == '\n') uart_putc('\r');
  while (!(*uart_reg(UART_LSR) & LSR_THRE))
    ;
  *uart_reg(UART_THR) = (uint8_t)c;
}

int uart_trygetc(void) {
  if (!(*uart_reg(UART_LSR) & LSR_DR)) return -1;
  return *uart_reg(UART_RBR);
}

int uart_getc(void) {
  int c;
  while ((c = uart_trygetc()) < 0)
    ;
  return c;
}

void uart_puts(const char* s) {
  while (*s) uart_putc(*s++);
}

void put_hex(uint32_t v) {
  printf("0x%08x", v);
}

void put_dec(int32_t v) {
  printf("%d", v);
}
