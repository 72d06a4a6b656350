// SPDX-License-Identifier: MIT
// Benchmark: call-heavy recursion, naive Fibonacci. The empty asm statements make each call's result
// opaque, so clang can neither turn the second call into a loop (accumulator tail recursion) nor inline
// the recursion away: every fib(n) for n >= 2 is two real calls and returns.
#include "../workloads/workload.h"

#define N 32

static __attribute__((noinline)) uint32_t fib(uint32_t n) {
  if (n < 2) return n;
  uint32_t x = fib(n - 1);
  __asm__ volatile("" : "+r"(x));
  uint32_t y = fib(n - 2);
  __asm__ volatile("" : "+r"(y));
  return x + y;
}

// The same number, iteratively, for the check and the call count.
static uint32_t fib_iter(uint32_t n) {
  uint32_t a = 0, b = 1;
  while (n--) {
    uint32_t t = a + b;
    a = b;
    b = t;
  }
  return a;
}

int workload_main(void) {
  uint32_t f = fib(N);
  uint32_t calls = 2u * fib_iter(N + 1) - 1u;  // calls made by the recursive fib(N)
  wl_printf("fib(%u)=%u calls=%u\n", (uint32_t)N, f, calls);
  wl_printf("calls: done\n");
  return f == fib_iter(N) ? 0 : 1;
}
