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

// Whether the command line holds the word `word` (delimited by spaces or its ends).
static int has_word(const char* s, const char* word) {
  for (; s && *s; ++s) {
    if (*s == ' ') continue;
    unsigned i = 0;
    while (word[i] && s[i] == word[i]) i++;
    if (!word[i] && (s[i] == 0 || s[i] == ' ')) return 1;
    while (s[1] && s[1] != ' ') ++s;  // skip the rest of this word
  }
  return 0;
}

int wl_run(const char* cmdline) {
  uint32_t scale = wl_parse_scale(cmdline);
  int marks = has_word(cmdline, "marks");
  for (uint32_t i = 1; i < scale; i++) {
    wl_quiet = 1;
    workload_main();
    wl_quiet = 0;
    if (marks) wl_printf("pass %u\n", i);
  }
  wl_quiet = 0;
  return workload_main();
}
