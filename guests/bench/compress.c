// SPDX-License-Identifier: MIT
// Benchmark: LZSS compression with a hash-chain match finder (32 KiB window, 3-byte hash, bounded chain),
// then the matching decompressor, over 1.5 MiB of generated text-like data. Byte loads in data-dependent
// loops, short unpredictable branches and overlapping byte copies: the shape of real compressors.
//
// Stream format: a flag byte per group of up to 8 tokens (bit n set: token n is a match), then the tokens.
// A literal is one byte; a match is three: (offset - 1) as 16 bits little-endian, then (length - 3).
#include "../workloads/workload.h"

#define INPUT_BYTES (3u << 19)  // 1.5 MiB
#define WINDOW_BITS 15
#define WINDOW (1u << WINDOW_BITS)
#define WINDOW_MASK (WINDOW - 1)
#define HASH_BITS 15
#define HASH_SIZE (1u << HASH_BITS)
#define MIN_MATCH 3u
#define MAX_MATCH 258u
#define MAX_CHAIN 32u
#define PACKED_CAP (INPUT_BYTES + INPUT_BYTES / 8 + 16)  // worst case: all literals plus flag bytes

static uint8_t input[INPUT_BYTES];
static uint8_t packed[PACKED_CAP];
static uint8_t unpacked[INPUT_BYTES];
static int32_t head[HASH_SIZE];  // newest position per hash, -1 when none
static int32_t prev[WINDOW];     // previous position with the same hash, indexed by position & WINDOW_MASK
static uint32_t n_matches, n_literals;

// ------------------------------------------------------------------ input data

// Text-like data: words from a small generated vocabulary (skewed towards the first words), punctuation,
// line breaks, some digit runs (poorly compressible) and now and then a repeated earlier phrase.
static void generate(uint8_t* out, uint32_t n) {
  static uint8_t vocab[256][10];
  static uint8_t vocab_len[256];
  uint32_t seed = 0x1234abcdu;
  for (uint32_t w = 0; w < 256; w++) {
    uint32_t len = 2 + wl_rand(&seed) % 8;
    for (uint32_t i = 0; i < len; i++) vocab[w][i] = (uint8_t)('a' + wl_rand(&seed) % 26);
    vocab_len[w] = (uint8_t)len;
  }

  uint32_t pos = 0, col = 0;
  while (pos < n) {
    uint32_t r = wl_rand(&seed);
    if ((r & 31) == 0 && pos > 4096) {
      // Repeat a phrase of 16..79 bytes from up to 24 KiB back.
      uint32_t dist = 64 + (r >> 5) % 24000;
      if (dist > pos) dist = pos;
      uint32_t len = 16 + (r >> 20) % 64;
      for (uint32_t i = 0; i < len && pos < n; i++, pos++) out[pos] = out[pos - dist];
      col += len;
    } else if ((r & 63) == 1) {
      // A number: 3..10 random digits.
      uint32_t len = 3 + (r >> 6) % 8;
      for (uint32_t i = 0; i < len && pos < n; i++, pos++) out[pos] = (uint8_t)('0' + wl_rand(&seed) % 10);
      col += len;
    } else {
      // A word; small indices are much more likely (mask width 1..8 bits).
      uint32_t w = (r >> 8) & ((1u << (1 + ((r >> 5) & 7))) - 1);
      for (uint32_t i = 0; i < vocab_len[w] && pos < n; i++, pos++) out[pos] = vocab[w][i];
      col += vocab_len[w];
    }
    if (pos < n) {
      uint32_t s = (r >> 16) & 15;
      if (col > 70) {
        out[pos++] = '\n';
        col = 0;
      } else if (s == 0 && pos + 1 < n) {
        out[pos++] = '.';
        out[pos++] = ' ';
        col += 2;
      } else if (s == 1 && pos + 1 < n) {
        out[pos++] = ',';
        out[pos++] = ' ';
        col += 2;
      } else {
        out[pos++] = ' ';
        col++;
      }
    }
  }
}

// ------------------------------------------------------------------ compressor

static inline uint32_t hash3(const uint8_t* p) {
  uint32_t v = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
  return (v * 2654435761u) >> (32 - HASH_BITS);
}

static inline void insert(const uint8_t* in, uint32_t pos) {
  uint32_t h = hash3(in + pos);
  prev[pos & WINDOW_MASK] = head[h];
  head[h] = (int32_t)pos;
}

// Returns the compressed size (at most PACKED_CAP).
static uint32_t compress(const uint8_t* in, uint32_t n, uint8_t* out) {
  for (uint32_t i = 0; i < HASH_SIZE; i++) head[i] = -1;

  uint32_t op = 0, flag_pos = 0, flag_bit = 8, pos = 0;
  while (pos < n) {
    if (flag_bit == 8) {
      flag_pos = op;
      out[op++] = 0;
      flag_bit = 0;
    }
    uint32_t best_len = 0, best_off = 0;
    if (pos + MIN_MATCH <= n) {
      uint32_t max_len = n - pos < MAX_MATCH ? n - pos : MAX_MATCH;
      int32_t limit = pos > WINDOW ? (int32_t)(pos - WINDOW) : -1;
      const uint8_t* cur = in + pos;
      int32_t cand = head[hash3(cur)];
      for (uint32_t chain = MAX_CHAIN; cand > limit && chain; chain--) {
        const uint8_t* c = in + cand;
        // best_len < max_len, so both bytes are inside the input.
        if (c[best_len] == cur[best_len] && c[0] == cur[0]) {
          uint32_t len = 1;
          while (len < max_len && c[len] == cur[len]) len++;
          if (len > best_len) {
            best_len = len;
            best_off = pos - (uint32_t)cand;
            if (len == max_len) break;
          }
        }
        cand = prev[(uint32_t)cand & WINDOW_MASK];
      }
      insert(in, pos);
    }
    if (best_len >= MIN_MATCH) {
      out[flag_pos] |= (uint8_t)(1u << flag_bit);
      out[op++] = (uint8_t)(best_off - 1);
      out[op++] = (uint8_t)((best_off - 1) >> 8);
      out[op++] = (uint8_t)(best_len - MIN_MATCH);
      for (uint32_t i = 1; i < best_len; i++)
        if (pos + i + MIN_MATCH <= n) insert(in, pos + i);
      pos += best_len;
      n_matches++;
    } else {
      out[op++] = in[pos++];
      n_literals++;
    }
    flag_bit++;
  }
  return op;
}

// ------------------------------------------------------------------ decompressor

// Returns the decompressed size, or 0xffffffff for a malformed stream.
static uint32_t decompress(const uint8_t* in, uint32_t n, uint8_t* out, uint32_t cap) {
  uint32_t ip = 0, op = 0;
  while (ip < n) {
    uint32_t flags = in[ip++];
    for (uint32_t bit = 0; bit < 8 && ip < n; bit++) {
      if (flags & (1u << bit)) {
        if (ip + 3 > n) return 0xffffffffu;
        uint32_t off = ((uint32_t)in[ip] | (uint32_t)in[ip + 1] << 8) + 1;
        uint32_t len = in[ip + 2] + MIN_MATCH;
        ip += 3;
        if (off > op || len > cap - op) return 0xffffffffu;
        const uint8_t* src = out + op - off;
        for (uint32_t i = 0; i < len; i++)  // may overlap: byte by byte
          out[op + i] = src[i];
        op += len;
      } else {
        if (op >= cap) return 0xffffffffu;
        out[op++] = in[ip++];
      }
    }
  }
  return op;
}

// ------------------------------------------------------------------ driver

static uint32_t fnv1a(const uint8_t* p, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) h = (h ^ p[i]) * 0x01000193u;
  return h;
}

int workload_main(void) {
  n_matches = n_literals = 0;  // main may run the workload several times (scale=N)
  generate(input, INPUT_BYTES);
  uint32_t in_fnv = fnv1a(input, INPUT_BYTES);

  uint32_t packed_len = compress(input, INPUT_BYTES, packed);
  uint32_t packed_fnv = fnv1a(packed, packed_len);

  for (uint32_t i = 0; i < INPUT_BYTES; i++) unpacked[i] = 0;
  uint32_t out_len = decompress(packed, packed_len, unpacked, INPUT_BYTES);
  uint32_t mismatched = out_len == INPUT_BYTES ? 0 : 1;
  for (uint32_t i = 0; i < INPUT_BYTES; i++) mismatched += unpacked[i] != input[i];

  wl_printf("bytes=%u packed=%u ratio=%u.%02u matches=%u literals=%u\n", INPUT_BYTES, packed_len,
            INPUT_BYTES / packed_len, INPUT_BYTES % packed_len * 100 / packed_len, n_matches, n_literals);
  wl_printf("in_fnv=%08x packed_fnv=%08x out_len=%u mismatched=%u\n", in_fnv, packed_fnv, out_len,
            mismatched);
  if (mismatched) {
    wl_printf("compress: round trip FAILED\n");
    return 1;
  }
  wl_printf("compress: done\n");
  return 0;
}
