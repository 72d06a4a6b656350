// SPDX-License-Identifier: MIT
// Smallest guest: one line on the console, then power off via rt_exit(0).
#include "rt.h"

int main(void) {
  uart_puts("Hello from Strobe guest\n");
  return 0;
}
