// SPDX-License-Identifier: MIT
// Host entry for a workload: same output lines as the guest, as a reference.
#include <stdarg.h>
#include <stdio.h>
#include "workload.h"

void wl_printf(const char* fmt, ...) {
  if (wl_quiet) return;
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

int main(int argc, char** argv) {
  return wl_run(argc > 1 ? argv[1] : 0);
}
