// SPDX-License-Identifier: MIT
// Guest entry for a workload: the runtime prints "exit N" after main returns.
#include "rt.h"
#include "workload.h"

void wl_printf(const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vprintf(fmt, ap);
  va_end(ap);
}

int main(void) {
  return workload_main();
}
