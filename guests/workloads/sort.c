// SPDX-License-Identifier: MIT
// Sorts 200k pseudo-random 32-bit ints twice (quicksort and heapsort), checks
// both are ordered and identical, and prints an order-sensitive checksum.
#include "workload.h"

#define N 200000u

static uint32_t a[N], b[N];

static void swap(uint32_t* x, uint32_t* y) {
  uint32_t t = *x;
  *x = *y;
  *y = t;
}

// Median-of-three quicksort; recurse into the smaller half to bound the depth.
static void quicksort(uint32_t* v, int32_t lo, int32_t hi) {
  while (hi - lo > 16) {
    int32_t mid = lo + (hi - lo) / 2;
    if (v[mid] < v[lo]) swap(&v[mid], &v[lo]);
    if (v[hi] < v[lo]) swap(&v[hi], &v[lo]);
    if (v[hi] < v[mid]) swap(&v[hi], &v[mid]);
    uint32_t pivot = v[mid];
    int32_t i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        swap(&v[i], &v[j]);
        i++;
        j--;
      }
    }
    if (j - lo < hi - i) {
      quicksort(v, lo, j);
      lo = i;
    } else {
      quicksort(v, i, hi);
      hi = j;
    }
  }
  for (int32_t i = lo + 1; i <= hi; i++) {  // insertion sort for short runs
    uint32_t x = v[i];
    int32_t k = i - 1;
    while (k >= lo && v[k] > x) {
      v[k + 1] = v[k];
      k--;
    }
    v[k + 1] = x;
  }
}

static void sift_down(uint32_t* v, uint32_t root, uint32_t n) {
  for (;;) {
    uint32_t child = 2 * root + 1;
    if (child >= n) return;
    if (child + 1 < n && v[child + 1] > v[child]) child++;
    if (v[root] >= v[child]) return;
    swap(&v[root], &v[child]);
    root = child;
  }
}

static void heapsort(uint32_t* v, uint32_t n) {
  for (uint32_t i = n / 2; i-- > 0;) sift_down(v, i, n);
  for (uint32_t end = n - 1; end > 0; end--) {
    swap(&v[0], &v[end]);
    sift_down(v, 0, end);
  }
}

int workload_main(void) {
  uint32_t seed = 0xC0FFEE11u;
  for (uint32_t i = 0; i < N; i++) a[i] = b[i] = wl_rand(&seed) % 1000000007u;

  quicksort(a, 0, (int32_t)N - 1);
  heapsort(b, N);

  uint32_t unsorted = 0, mismatched = 0, h = 2166136261u;
  for (uint32_t i = 0; i < N; i++) {
    if (i && a[i - 1] > a[i]) unsorted++;
    if (a[i] != b[i]) mismatched++;
    h = (h ^ a[i]) * 16777619u;  // FNV-1a over the sorted words
  }
  wl_printf("n=%u min=%08x median=%08x max=%08x\n", N, a[0], a[N / 2], a[N - 1]);
  wl_printf("unsorted=%u mismatched=%u fnv=%08x\n", unsorted, mismatched, h);
  wl_printf("sort: done\n");
  return unsorted || mismatched;
}
