// SPDX-License-Identifier: MIT
// Minimal printf: %d %u %x %X %s %c %p %%, optional '0' flag and width, 'l' ignored.
// No 64-bit conversions, so no libgcc division helpers are needed.
#include "rt.h"

static int emit(char c) {
  uart_putc(c);
  return 1;
}

static int emit_num(uint32_t v, unsigned base, int neg, int width, char pad, int upper) {
  const char* digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
  char buf[12];
  int n = 0, out = 0;
  do {
    buf[n++] = digits[v % base];
    v /= base;
  } while (v);
  if (neg) buf[n++] = '-';
  // Zero padding goes between the sign and the digits.
  if (pad == '0' && neg) {
    out += emit(buf[--n]);
    width--;
  }
  for (int i = n; i < width; i++) out += emit(pad);
  while (n) out += emit(buf[--n]);
  return out;
}

int vprintf(const char* fmt, va_list ap) {
  int out = 0;
  for (; *fmt; fmt++) {
    if (*fmt != '%') {
      out += emit(*fmt);
      continue;
    }
    char pad = ' ';
    int width = 0;
    fmt++;
    if (*fmt == '0') {
      pad = '0';
      fmt++;
    }
    while (*fmt >= '0' && *fmt <= '9') width = width * 10 + (*fmt++ - '0');
    while (*fmt == 'l') fmt++;
    switch (*fmt) {
      case 'd': {
        int32_t v = va_arg(ap, int32_t);
        out += emit_num(v < 0 ? 0u - (uint32_t)v : (uint32_t)v, 10, v < 0, width, pad, 0);
        break;
      }
      case 'u': out += emit_num(va_arg(ap, uint32_t), 10, 0, width, pad, 0); break;
      case 'x': out += emit_num(va_arg(ap, uint32_t), 16, 0, width, pad, 0); break;
      case 'X': out += emit_num(va_arg(ap, uint32_t), 16, 0, width, pad, 1); break;
      case 'p':
        out += emit('0') + emit('x');
        out += emit_num((uint32_t)va_arg(ap, void*), 16, 0, 8, '0', 0);
        break;
      case 'c': out += emit((char)va_arg(ap, int)); break;
      case 's': {
        const char* s = va_arg(ap, const char*);
        int len = (int)strlen(s);
        for (int i = len; i < width; i++) out += emit(' ');
        while (*s) out += emit(*s++);
        break;
      }
      case '\0': return out;
      default: out += emit('%') + emit(*fmt); break;
    }
  }
  return out;
}

int printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  int n = vprintf(fmt, ap);
  va_end(ap);
  return n;
}
