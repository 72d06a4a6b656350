// SPDX-License-Identifier: MIT
// The scale=N convention shared by the guest and native mains (see workload.h).
#include "workload.h"

int wl_quiet;

uint32_t wl_parse_scale(const char* s) {
  static const char key[] = "scale=";
  uint32_t n = 0;
  for (; s && *s; ++s) {
    unsigned i = 0;
    while (key[i] && s[i] == key[i]) i++;
    if (key[i]) continue;
    for (s += i; *s >= '0' && *s <= '9'; ++s) n = n * 10 + (uint32_t)(*s - '0');
    break;
  }
  return n ? n : 1;
}

int wl_run(const char* cmdline) {
  uint32_t scale = wl_parse_scale(cmdline);
  wl_quiet = 1;
  for (uint32_t i = 1; i < scale; i++) workload_main();
  wl_quiet = 0;
  return workload_main();
}
