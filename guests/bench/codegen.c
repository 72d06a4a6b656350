// SPDX-License-Identifier: MIT
// Benchmark: a guest that writes code and runs it, over and over, as a JIT compiler or a self-patching
// program inside the guest does. Each round generates a fresh function of random ALU instructions into
// one code page, makes it visible to instruction fetch (SYNCI per line, SYNC), calls it a few times and
// folds the results into a checksum. The MIPS build runs the generated words; the native twin evaluates
// the same instructions in C (Eval below), so both print the same checksum and the native run is the
// oracle for the emulator's execution of code that changes under it.
#include "../workloads/workload.h"

#define ROUNDS 3000
#define CALLS 8  // calls per generated function
#define BODY 40  // random ALU instructions per function
#define NREGS 8  // t0-t7 ($8-$15)

enum Op { kAddu, kSubu, kXor, kOr, kAnd, kNor, kSll, kSrl, kRotr, kSltu, kOps };

typedef struct {
  uint8_t op, rd, rs, rt, sa;
} Insn;

typedef struct {
  uint16_t init[NREGS];  // t_i = a0 + init[i] (ADDIU, sign-extended)
  Insn body[BODY];
} Function;

static void Generate(Function* f, uint32_t* rng) {
  for (int i = 0; i < NREGS; i++) f->init[i] = (uint16_t)wl_rand(rng);
  for (int i = 0; i < BODY; i++) {
    uint32_t r = wl_rand(rng);
    Insn* in = &f->body[i];
    in->op = (uint8_t)(r % kOps);
    in->rd = (uint8_t)((r >> 8) & 7);
    in->rs = (uint8_t)((r >> 11) & 7);
    in->rt = (uint8_t)((r >> 14) & 7);
    in->sa = (uint8_t)((r >> 17) & 31);
  }
}

// The reference semantics of the generated function, in C.
static uint32_t Eval(const Function* f, uint32_t a0) {
  uint32_t t[NREGS];
  for (int i = 0; i < NREGS; i++) t[i] = a0 + (uint32_t)(int32_t)(int16_t)f->init[i];
  for (int i = 0; i < BODY; i++) {
    const Insn* in = &f->body[i];
    uint32_t s = t[in->rs], u = t[in->rt], v = 0;
    switch (in->op) {
      case kAddu: v = s + u; break;
      case kSubu: v = s - u; break;
      case kXor: v = s ^ u; break;
      case kOr: v = s | u; break;
      case kAnd: v = s & u; break;
      case kNor: v = ~(s | u); break;
      case kSll: v = u << in->sa; break;
      case kSrl: v = u >> in->sa; break;
      case kRotr: v = in->sa ? (u >> in->sa) | (u << (32 - in->sa)) : u; break;
      case kSltu: v = s < u; break;
    }
    t[in->rd] = v;
  }
  uint32_t v0 = 0;
  for (int i = 0; i < NREGS; i++) v0 ^= t[i];
  return v0;
}

#ifdef __mips__
// One page that holds nothing but the generated code, so that writing it touches no other code.
static uint32_t code_page[1024] __attribute__((aligned(4096)));

static uint32_t RType(unsigned rs, unsigned rt, unsigned rd, unsigned sa, unsigned funct) {
  return (rs << 21) | (rt << 16) | (rd << 11) | (sa << 6) | funct;
}

// Emits the function as MIPS32r2 code: ADDIU t_i, a0, init[i]; the body; v0 = t0 ^ ... ^ t7; JR ra.
static unsigned Emit(const Function* f, uint32_t* out) {
  unsigned n = 0;
  for (unsigned i = 0; i < NREGS; i++) out[n++] = (9u << 26) | (4u << 21) | ((8u + i) << 16) | f->init[i];
  for (int i = 0; i < BODY; i++) {
    const Insn* in = &f->body[i];
    const unsigned rd = 8u + in->rd, rs = 8u + in->rs, rt = 8u + in->rt;
    static const unsigned kFunct[] = {0x21, 0x23, 0x26, 0x25, 0x24, 0x27, 0x00, 0x02, 0x02, 0x2b};
    switch (in->op) {
      case kSll:
      case kSrl: out[n++] = RType(0, rt, rd, in->sa, kFunct[in->op]); break;
      case kRotr: out[n++] = RType(1, rt, rd, in->sa, kFunct[in->op]); break;  // SRL with R = 1
      default: out[n++] = RType(rs, rt, rd, 0, kFunct[in->op]); break;
    }
  }
  out[n++] = RType(8, 9, 2, 0, 0x26);  // xor v0, t0, t1
  for (unsigned i = 2; i < NREGS; i++) out[n++] = RType(2, 8u + i, 2, 0, 0x26);
  out[n++] = RType(31, 0, 0, 0, 0x08);  // jr ra
  out[n++] = 0;                         // nop (delay slot)
  return n;
}

// Makes freshly written words visible to instruction fetch (MIPS32r2: SYNCI each line, then SYNC; the
// call that follows is a JALR, and the function's own JR ends it).
static void SyncICache(const uint32_t* begin, unsigned words) {
  for (unsigned off = 0; off < words * 4u; off += 16)
    __asm__ volatile("synci 0(%0)" : : "r"((const char*)begin + off) : "memory");
  __asm__ volatile("sync" : : : "memory");
}

static uint32_t Call(const Function* f, uint32_t a0) {
  (void)f;
  typedef uint32_t (*Fn)(uint32_t);
  return ((Fn)(void*)code_page)(a0);
}
#endif

int workload_main(void) {
  uint32_t rng = 0x9E3779B9u, sum = 0, input = 1;
  Function f;
  for (int round = 0; round < ROUNDS; round++) {
    Generate(&f, &rng);
#ifdef __mips__
    SyncICache(code_page, Emit(&f, code_page));
#endif
    for (int call = 0; call < CALLS; call++) {
#ifdef __mips__
      uint32_t r = Call(&f, input);
#else
      uint32_t r = Eval(&f, input);
#endif
      sum = (sum << 5 | sum >> 27) ^ r;
      input = input * 1664525u + 1013904223u;
    }
  }
#ifdef __mips__
  // A last check against the C model, so a wrong execution shows even without the native twin.
  const uint32_t expected = Eval(&f, 12345u), got = Call(&f, 12345u);
  if (expected != got) {
    wl_printf("codegen: generated code gave %08x, the model %08x\n", got, expected);
    return 1;
  }
#endif
  wl_printf("codegen: %u functions, checksum %08x\n", (uint32_t)ROUNDS, sum);
  wl_printf("codegen: done\n");
  return 0;
}
