// SPDX-License-Identifier: MIT
// Guest entry for a workload: the runtime prints "exit N" after main returns.
#include "rt.h"
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
