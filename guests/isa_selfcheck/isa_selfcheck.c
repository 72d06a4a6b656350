// SPDX-License-Identifier: MIT
// MIPS32r2 integer ISA self-check. Every instruction under test is written in
// inline asm so the compiler cannot substitute another one; expected values
// come from the MIPS32 architecture manual (little-endian) and were confirmed
// under QEMU's Malta model.
#include "rt.h"

static int passed, failed;

// Prints "ok <name><suffix>" or "FAIL <name><suffix> got=... want=...".
static void check_sfx(const char* name, const char* suffix, uint32_t got, uint32_t want) {
  if (got == want) {
    passed++;
    printf("ok %s%s\n", name, suffix);
  } else {
    failed++;
    printf("FAIL %s%s got=0x%08x want=0x%08x\n", name, suffix, got, want);
  }
}

static void check(const char* name, uint32_t got, uint32_t want) {
  check_sfx(name, "", got, want);
}

// ---------------------------------------------------------------- exceptions

// What the last exception(s) looked like; reset before each provoking test.
static volatile struct { uint32_t count, cause, epc, badvaddr; } exc;

static void exc_reset(void) {
  exc.count = 0;
  exc.cause = exc.epc = exc.badvaddr = 0xffffffffu;
}

// Record and skip the faulting instruction (and its branch when in a delay slot).
void mips_exception(struct frame* f) {
  exc.count++;
  exc.cause = f->cause;
  exc.epc = f->epc;
  exc.badvaddr = f->badvaddr;
  if (CAUSE_EXC(f->cause) == EXC_INT || exc.count > 8) {
    printf("unexpected exception cause=0x%08x epc=0x%08x\n", f->cause, f->epc);
    rt_exit(99);
  }
  f->epc += (f->cause & CAUSE_BD) ? 8 : 4;
}

// Exactly one exception, with the given code, at the given EPC.
static void check_exc(const char* name, uint32_t code, uint32_t epc) {
  check(name, exc.count, 1);
  check_sfx(name, ".code", CAUSE_EXC(exc.cause), code);
  check_sfx(name, ".epc", exc.epc, epc);
}

#define ASM_BEGIN ".set push\n.set noreorder\n.set mips32r2\n"
#define ASM_END "\n.set pop"

// rd = insn rs, rt  /  rd = insn rs, imm  /  rd = insn rs
#define RR(insn, a, b)                                          \
  ({                                                            \
    uint32_t r_;                                                \
    __asm__ volatile(ASM_BEGIN insn " %0, %1, %2" ASM_END       \
                     : "=r"(r_)                                 \
                     : "r"((uint32_t)(a)), "r"((uint32_t)(b))); \
    r_;                                                         \
  })
#define RI(insn, a, imm)                                                                       \
  ({                                                                                           \
    uint32_t r_;                                                                               \
    __asm__ volatile(ASM_BEGIN insn " %0, %1, " #imm ASM_END : "=r"(r_) : "r"((uint32_t)(a))); \
    r_;                                                                                        \
  })
#define R1(insn, a)                                                                     \
  ({                                                                                    \
    uint32_t r_;                                                                        \
    __asm__ volatile(ASM_BEGIN insn " %0, %1" ASM_END : "=r"(r_) : "r"((uint32_t)(a))); \
    r_;                                                                                 \
  })

// Overflow-trapping op: returns the destination (preloaded with 0x5a5a5a5a),
// stores the instruction address in *at.
#define TRAP_RR(insn, a, b, at)                                            \
  ({                                                                       \
    uint32_t r_ = 0x5a5a5a5au, pc_;                                        \
    __asm__ volatile(ASM_BEGIN "la %1, 1f\n1: " insn " %0, %2, %3" ASM_END \
                     : "+r"(r_), "=&r"(pc_)                                \
                     : "r"((uint32_t)(a)), "r"((uint32_t)(b))              \
                     : "memory");                                          \
    *(at) = pc_;                                                           \
    r_;                                                                    \
  })
#define TRAP_RI(insn, a, imm, at)                                             \
  ({                                                                          \
    uint32_t r_ = 0x5a5a5a5au, pc_;                                           \
    __asm__ volatile(ASM_BEGIN "la %1, 1f\n1: " insn " %0, %2, " #imm ASM_END \
                     : "+r"(r_), "=&r"(pc_)                                   \
                     : "r"((uint32_t)(a))                                     \
                     : "memory");                                             \
    *(at) = pc_;                                                              \
    r_;                                                                       \
  })

static void test_overflow(void) {
  uint32_t pc;
  check("add", RR("add", 0x7ffffffe, 1), 0x7fffffff);
  check("add.neg", RR("add", 0xfffffff0, 0x10), 0);
  exc_reset();
  check("add.ov.dest", TRAP_RR("add", 0x7fffffff, 1, &pc), 0x5a5a5a5a);
  check_exc("add.ov", EXC_OV, pc);
  exc_reset();
  check("add.ov2.dest", TRAP_RR("add", 0x80000000, 0x80000000, &pc), 0x5a5a5a5a);
  check_exc("add.ov2", EXC_OV, pc);

  check("addu.wrap", RR("addu", 0xffffffff, 2), 1);
  check("addu.nov", RR("addu", 0x7fffffff, 1), 0x80000000);
  check("addi", RI("addi", 5, -7), 0xfffffffe);
  exc_reset();
  check("addi.ov.dest", TRAP_RI("addi", 0x7fffffff, 1, &pc), 0x5a5a5a5a);
  check_exc("addi.ov", EXC_OV, pc);
  exc_reset();
  check("addi.ov2.dest", TRAP_RI("addi", 0x80000000, -1, &pc), 0x5a5a5a5a);
  check_exc("addi.ov2", EXC_OV, pc);
  check("addiu.nov", RI("addiu", 0x7fffffff, 1), 0x80000000);
  check("addiu.sext", RI("addiu", 0, -32768), 0xffff8000);

  check("sub", RR("sub", 5, 7), 0xfffffffe);
  exc_reset();
  check("sub.ov.dest", TRAP_RR("sub", 0x80000000, 1, &pc), 0x5a5a5a5a);
  check_exc("sub.ov", EXC_OV, pc);
  check("subu.nov", RR("subu", 0x80000000, 1), 0x7fffffff);
  check("subu.wrap", RR("subu", 0, 1), 0xffffffff);
}

static void test_logic(void) {
  check("and", RR("and", 0xf0f0ff00, 0x0ff0f0f0), 0x00f0f000);
  check("or", RR("or", 0xf0f0ff00, 0x0ff0f0f0), 0xfff0fff0);
  check("xor", RR("xor", 0xf0f0ff00, 0x0ff0f0f0), 0xff000ff0);
  check("nor", RR("nor", 0xf0f0ff00, 0x0ff0f0f0), 0x000f000f);
  check("andi.zext", RI("andi", 0xffffffff, 0x8001), 0x00008001);
  check("ori.zext", RI("ori", 0x12340000, 0xffff), 0x1234ffff);
  check("xori.zext", RI("xori", 0xffffffff, 0x8000), 0xffff7fff);
  uint32_t r;
  __asm__ volatile("lui %0, 0x8765" : "=r"(r));
  check("lui", r, 0x87650000);

  check("slt.t", RR("slt", -1, 1), 1);
  check("slt.f", RR("slt", 1, -1), 0);
  check("sltu.t", RR("sltu", 1, 0xffffffff), 1);
  check("sltu.f", RR("sltu", 0xffffffff, 1), 0);
  check("slti.t", RI("slti", -5, -4), 1);
  check("slti.f", RI("slti", 0, -1), 0);
  check("sltiu.sext", RI("sltiu", 5, -1), 1);
  check("sltiu.f", RI("sltiu", 0xffffffff, -1), 0);
}

static void test_shift(void) {
  check("sll", RI("sll", 0x80000001, 1), 2);
  check("sll31", RI("sll", 3, 31), 0x80000000);
  check("srl31", RI("srl", 0x80000000, 31), 1);
  check("sra", RI("sra", 0x80000000, 4), 0xf8000000);
  check("sra.pos", RI("sra", 0x70000000, 4), 0x07000000);
  // Variable shifts use only the low 5 bits of rs; note operand order rd, rt, rs.
  check("sllv", RR("sllv", 0x40000001, 33), 0x80000002);
  check("srlv", RR("srlv", 0xf0000000, 36), 0x0f000000);
  check("srav", RR("srav", 0xf0000000, 0x24), 0xff000000);
  check("rotr", RI("rotr", 0x12345678, 8), 0x78123456);
  check("rotr0", RI("rotr", 0x12345678, 0), 0x12345678);
  check("rotrv", RR("rotrv", 0x80000001, 33), 0xc0000000);
}

// HI/LO helpers.
static void set_hilo(uint32_t hi, uint32_t lo) {
  __asm__ volatile("mthi %0\n\tmtlo %1" ::"r"(hi), "r"(lo));
}
static uint32_t get_hi(void) {
  uint32_t v;
  __asm__ volatile("mfhi %0" : "=r"(v));
  return v;
}
static uint32_t get_lo(void) {
  uint32_t v;
  __asm__ volatile("mflo %0" : "=r"(v));
  return v;
}

// HI/LO = op(rs, rt); written as the real two-operand instructions.
#define MD(insn, a, b) __asm__ volatile(insn " %0, %1" ::"r"((uint32_t)(a)), "r"((uint32_t)(b)))
#define DIV(insn, a, b)                                                                             \
  __asm__ volatile(ASM_BEGIN insn " $zero, %0, %1" ASM_END ::"r"((uint32_t)(a)), "r"((uint32_t)(b)) \
                   : "memory")

static void test_muldiv(void) {
  set_hilo(0xdeadbeef, 0x12345678);
  check("mfhi", get_hi(), 0xdeadbeef);
  check("mflo", get_lo(), 0x12345678);

  check("mul.wrap", RR("mul", 0x10000, 0x10000), 0);
  check("mul.neg", RR("mul", -3, 7), 0xffffffeb);

  MD("mult", 0x80000000, 0x80000000);
  check("mult.hi", get_hi(), 0x40000000);
  check("mult.lo", get_lo(), 0);
  MD("mult", -1, 5);
  check("mult.neg.hi", get_hi(), 0xffffffff);
  check("mult.neg.lo", get_lo(), 0xfffffffb);
  MD("multu", 0xffffffff, 0xffffffff);
  check("multu.hi", get_hi(), 0xfffffffe);
  check("multu.lo", get_lo(), 1);

  DIV("div", 7, -2);
  check("div.lo", get_lo(), 0xfffffffd);
  check("div.hi", get_hi(), 1);
  DIV("div", -7, 2);
  check("div.neg.lo", get_lo(), 0xfffffffd);
  check("div.neg.hi", get_hi(), 0xffffffff);
  DIV("divu", 0xffffffff, 16);
  check("divu.lo", get_lo(), 0x0fffffff);
  check("divu.hi", get_hi(), 0xf);
  // Architecturally UNPREDICTABLE results; they just must not trap or hang.
  exc_reset();
  DIV("div", 0x80000000, -1);
  DIV("div", 1234, 0);
  DIV("divu", 1234, 0);
  check("div.unpredictable.noexc", exc.count, 0);

  set_hilo(0, 0xffffffff);
  MD("madd", 2, 3);
  check("madd.hi", get_hi(), 1);
  check("madd.lo", get_lo(), 5);
  set_hilo(0, 0);
  MD("madd", -2, 3);
  check("madd.neg.hi", get_hi(), 0xffffffff);
  check("madd.neg.lo", get_lo(), 0xfffffffa);
  set_hilo(0, 0xffffffff);
  MD("maddu", 0xffffffff, 2);
  check("maddu.hi", get_hi(), 2);
  check("maddu.lo", get_lo(), 0xfffffffd);
  set_hilo(0, 0);
  MD("msub", -1, 1);
  check("msub.hi", get_hi(), 0);
  check("msub.lo", get_lo(), 1);
  set_hilo(0, 0);
  MD("msub", 2, 3);
  check("msub.neg.hi", get_hi(), 0xffffffff);
  check("msub.neg.lo", get_lo(), 0xfffffffa);
  set_hilo(1, 0);
  MD("msubu", 0xffffffff, 1);
  check("msubu.hi", get_hi(), 0);
  check("msubu.lo", get_lo(), 1);
}

static void test_bits(void) {
  check("clo", R1("clo", 0xfff00000), 12);
  check("clo0", R1("clo", 0), 0);
  check("clo32", R1("clo", 0xffffffff), 32);
  check("clz", R1("clz", 0x00010000), 15);
  check("clz32", R1("clz", 0), 32);
  check("clz0", R1("clz", 0x80000000), 0);

  uint32_t r;
  __asm__ volatile("ext %0, %1, 4, 8" : "=r"(r) : "r"(0x12345678));
  check("ext", r, 0x67);
  __asm__ volatile("ext %0, %1, 0, 32" : "=r"(r) : "r"(0x12345678));
  check("ext.all", r, 0x12345678);
  __asm__ volatile("ext %0, %1, 28, 4" : "=r"(r) : "r"(0x92345678));
  check("ext.top", r, 0x9);
  r = 0xffffffff;
  __asm__ volatile("ins %0, %1, 8, 8" : "+r"(r) : "r"(0x12345600));
  check("ins", r, 0xffff00ff);
  r = 0;
  __asm__ volatile("ins %0, %1, 20, 12" : "+r"(r) : "r"(0xfffffabc));
  check("ins.top", r, 0xabc00000);

  check("seb.neg", R1("seb", 0x12345680), 0xffffff80);
  check("seb.pos", R1("seb", 0xffffff7f), 0x7f);
  check("seh.neg", R1("seh", 0x00018000), 0xffff8000);
  check("seh.pos", R1("seh", 0xffff7fff), 0x7fff);
  check("wsbh", R1("wsbh", 0x11223344), 0x22114433);

  r = 0x1111;
  __asm__ volatile("movn %0, %1, %2" : "+r"(r) : "r"(0x2222), "r"(1));
  check("movn.t", r, 0x2222);
  r = 0x1111;
  __asm__ volatile("movn %0, %1, %2" : "+r"(r) : "r"(0x2222), "r"(0));
  check("movn.f", r, 0x1111);
  r = 0x1111;
  __asm__ volatile("movz %0, %1, %2" : "+r"(r) : "r"(0x2222), "r"(0));
  check("movz.t", r, 0x2222);
  r = 0x1111;
  __asm__ volatile("movz %0, %1, %2" : "+r"(r) : "r"(0x2222), "r"(5));
  check("movz.f", r, 0x1111);
}

// ------------------------------------------------------------------ branches
// Result encoding: +1 from the delay slot, +0x10 from the fall-through path.
// Taken: 0x01. Not taken: 0x11, or 0x10 for branch-likely (slot nullified).
#define BR2(mn, a, b)                                                                           \
  ({                                                                                            \
    uint32_t r_;                                                                                \
    __asm__ volatile(ASM_BEGIN "move %0, $zero\n" mn                                            \
                               " %1, %2, 1f\n addiu %0, %0, 1\n addiu %0, %0, 0x10\n1:" ASM_END \
                     : "=&r"(r_)                                                                \
                     : "r"((uint32_t)(a)), "r"((uint32_t)(b)));                                 \
    r_;                                                                                         \
  })
#define BR1(mn, a)                                                                          \
  ({                                                                                        \
    uint32_t r_;                                                                            \
    __asm__ volatile(ASM_BEGIN "move %0, $zero\n" mn                                        \
                               " %1, 1f\n addiu %0, %0, 1\n addiu %0, %0, 0x10\n1:" ASM_END \
                     : "=&r"(r_)                                                            \
                     : "r"((uint32_t)(a)));                                                 \
    r_;                                                                                     \
  })
// Linking variant: also returns $ra and the expected link address (branch + 8).
#define BRL(mn, a, ra, want)                                                                               \
  ({                                                                                                       \
    uint32_t r_;                                                                                           \
    __asm__ volatile(ASM_BEGIN "move %0, $zero\n la %2, 2f\n" mn                                           \
                               " %3, 1f\n addiu %0, %0, 1\n2: addiu %0, %0, 0x10\n1: move %1, $ra" ASM_END \
                     : "=&r"(r_), "=&r"(*(ra)), "=&r"(*(want))                                             \
                     : "r"((uint32_t)(a))                                                                  \
                     : "$31");                                                                             \
    r_;                                                                                                    \
  })

#define TAKEN 0x01
#define NOT_TAKEN 0x11
#define NULLIFIED 0x10

static void test_branches(void) {
  check("beq.t", BR2("beq", 5, 5), TAKEN);
  check("beq.f", BR2("beq", 5, 6), NOT_TAKEN);
  check("bne.t", BR2("bne", 5, 6), TAKEN);
  check("bne.f", BR2("bne", 5, 5), NOT_TAKEN);
  check("blez.t0", BR1("blez", 0), TAKEN);
  check("blez.tneg", BR1("blez", 0x80000000), TAKEN);
  check("blez.f", BR1("blez", 1), NOT_TAKEN);
  check("bgtz.t", BR1("bgtz", 1), TAKEN);
  check("bgtz.f0", BR1("bgtz", 0), NOT_TAKEN);
  check("bgtz.fneg", BR1("bgtz", -1), NOT_TAKEN);
  check("bltz.t", BR1("bltz", -1), TAKEN);
  check("bltz.f", BR1("bltz", 0), NOT_TAKEN);
  check("bgez.t0", BR1("bgez", 0), TAKEN);
  check("bgez.f", BR1("bgez", 0x80000000), NOT_TAKEN);

  check("beql.t", BR2("beql", 5, 5), TAKEN);
  check("beql.f", BR2("beql", 5, 6), NULLIFIED);
  check("bnel.t", BR2("bnel", 5, 6), TAKEN);
  check("bnel.f", BR2("bnel", 5, 5), NULLIFIED);
  check("blezl.t", BR1("blezl", 0), TAKEN);
  check("blezl.f", BR1("blezl", 1), NULLIFIED);
  check("bgtzl.t", BR1("bgtzl", 1), TAKEN);
  check("bgtzl.f", BR1("bgtzl", 0), NULLIFIED);
  check("bltzl.t", BR1("bltzl", -1), TAKEN);
  check("bltzl.f", BR1("bltzl", 0), NULLIFIED);
  check("bgezl.t", BR1("bgezl", 0), TAKEN);
  check("bgezl.f", BR1("bgezl", -1), NULLIFIED);

  // Linking branches write $ra = branch + 8 whether or not they are taken.
  uint32_t ra, want;
  check("bltzal.t", BRL("bltzal", -1, &ra, &want), TAKEN);
  check("bltzal.t.ra", ra, want);
  check("bltzal.f", BRL("bltzal", 1, &ra, &want), NOT_TAKEN);
  check("bltzal.f.ra", ra, want);
  check("bgezal.t", BRL("bgezal", 0, &ra, &want), TAKEN);
  check("bgezal.t.ra", ra, want);
  check("bgezal.f", BRL("bgezal", -1, &ra, &want), NOT_TAKEN);
  check("bgezal.f.ra", ra, want);
  check("bltzall.t", BRL("bltzall", -1, &ra, &want), TAKEN);
  check("bltzall.t.ra", ra, want);
  check("bltzall.f", BRL("bltzall", 1, &ra, &want), NULLIFIED);
  check("bltzall.f.ra", ra, want);
  check("bgezall.t", BRL("bgezall", 1, &ra, &want), TAKEN);
  check("bgezall.t.ra", ra, want);
  check("bgezall.f", BRL("bgezall", -1, &ra, &want), NULLIFIED);
  check("bgezall.f.ra", ra, want);

  uint32_t r;
  __asm__ volatile(ASM_BEGIN "move %0, $zero\n b 1f\n addiu %0, %0, 1\n addiu %0, %0, 0x10\n1:" ASM_END
                   : "=&r"(r));
  check("b", r, TAKEN);
  __asm__ volatile(ASM_BEGIN
                   "move %0, $zero\n la %2, 2f\n bal 1f\n addiu %0, %0, 1\n"
                   "2: addiu %0, %0, 0x10\n1: move %1, $ra" ASM_END
                   : "=&r"(r), "=&r"(ra), "=&r"(want)::"$31");
  check("bal", r, TAKEN);
  check("bal.ra", ra, want);
}

static void test_jumps(void) {
  uint32_t r, link, want;
  __asm__ volatile(ASM_BEGIN "move %0, $zero\n j 1f\n addiu %0, %0, 1\n addiu %0, %0, 0x10\n1:" ASM_END
                   : "=&r"(r));
  check("j", r, TAKEN);
  __asm__ volatile(ASM_BEGIN
                   "move %0, $zero\n la %2, 2f\n jal 1f\n addiu %0, %0, 1\n"
                   "2: addiu %0, %0, 0x10\n1: move %1, $ra" ASM_END
                   : "=&r"(r), "=&r"(link), "=&r"(want)::"$31");
  check("jal", r, TAKEN);
  check("jal.ra", link, want);
  __asm__ volatile(ASM_BEGIN
                   "move %0, $zero\n la $t9, 1f\n jr $t9\n addiu %0, %0, 1\n"
                   " addiu %0, %0, 0x10\n1:" ASM_END
                   : "=&r"(r)::"$25");
  check("jr", r, TAKEN);
  // jalr with an explicit link register other than $ra.
  __asm__ volatile(ASM_BEGIN
                   "move %0, $zero\n la %2, 2f\n la $t9, 1f\n jalr $t5, $t9\n"
                   " addiu %0, %0, 1\n2: addiu %0, %0, 0x10\n1: move %1, $t5" ASM_END
                   : "=&r"(r), "=&r"(link), "=&r"(want)::"$25", "$13");
  check("jalr.rd", r, TAKEN);
  check("jalr.rd.link", link, want);
  __asm__ volatile(ASM_BEGIN
                   "move %0, $zero\n la %2, 2f\n la $t9, 1f\n jalr $t9\n"
                   " addiu %0, %0, 1\n2: addiu %0, %0, 0x10\n1: move %1, $ra" ASM_END
                   : "=&r"(r), "=&r"(link), "=&r"(want)::"$25", "$31");
  check("jalr.ra", r, TAKEN);
  check("jalr.ra.link", link, want);
}

// ------------------------------------------------------------- loads/stores
static uint32_t mem[4] __attribute__((aligned(16)));

#define LOAD(insn, off)                                                          \
  ({                                                                             \
    uint32_t r_;                                                                 \
    __asm__ volatile(insn " %0, " #off "(%1)" : "=r"(r_) : "r"(mem) : "memory"); \
    r_;                                                                          \
  })
#define STORE(insn, v, off) \
  __asm__ volatile(insn " %0, " #off "(%1)" ::"r"((uint32_t)(v)), "r"(mem) : "memory")
#define LWLR(insn, init, off)                                                    \
  ({                                                                             \
    uint32_t r_ = (init);                                                        \
    __asm__ volatile(insn " %0, " #off "(%1)" : "+r"(r_) : "r"(mem) : "memory"); \
    r_;                                                                          \
  })

static void test_loadstore(void) {
  mem[0] = 0x80ff7f01;  // bytes 01 7f ff 80
  check("lb.neg", LOAD("lb", 3), 0xffffff80);
  check("lb.pos", LOAD("lb", 1), 0x7f);
  check("lbu", LOAD("lbu", 3), 0x80);
  check("lh.neg", LOAD("lh", 2), 0xffff80ff);
  check("lh.pos", LOAD("lh", 0), 0x7f01);
  check("lhu", LOAD("lhu", 2), 0x80ff);
  check("lw", LOAD("lw", 0), 0x80ff7f01);
  mem[1] = 0x11223344;
  STORE("sb", 0xaa, 5);
  check("sb", mem[1], 0x1122aa44);
  STORE("sh", 0x1234beef, 6);
  check("sh", mem[1], 0xbeefaa44);
  STORE("sw", 0xcafef00d, 4);
  check("sw", mem[1], 0xcafef00d);

  // Partial-word accesses, little-endian: memory bytes 00 11 22 ... 77.
  static const uint32_t lwl_want[4] = {0x00bbccdd, 0x1100ccdd, 0x221100dd, 0x33221100};
  static const uint32_t lwr_want[4] = {0x33221100, 0xaa332211, 0xaabb3322, 0xaabbcc33};
  static const uint32_t swl_want[4] = {0x332211aa, 0x3322aabb, 0x33aabbcc, 0xaabbccdd};
  static const uint32_t swr_want[4] = {0xaabbccdd, 0xbbccdd00, 0xccdd1100, 0xdd221100};
  static const char* const names[4][4] = {{"lwl.0", "lwl.1", "lwl.2", "lwl.3"},
                                          {"lwr.0", "lwr.1", "lwr.2", "lwr.3"},
                                          {"swl.0", "swl.1", "swl.2", "swl.3"},
                                          {"swr.0", "swr.1", "swr.2", "swr.3"}};
  uint32_t got[4][4];
  mem[0] = 0x33221100;
  mem[1] = 0x77665544;
  got[0][0] = LWLR("lwl", 0xaabbccdd, 0);
  got[0][1] = LWLR("lwl", 0xaabbccdd, 1);
  got[0][2] = LWLR("lwl", 0xaabbccdd, 2);
  got[0][3] = LWLR("lwl", 0xaabbccdd, 3);
  got[1][0] = LWLR("lwr", 0xaabbccdd, 0);
  got[1][1] = LWLR("lwr", 0xaabbccdd, 1);
  got[1][2] = LWLR("lwr", 0xaabbccdd, 2);
  got[1][3] = LWLR("lwr", 0xaabbccdd, 3);
#define SWLR(row, insn, b)      \
  do {                          \
    mem[0] = 0x33221100;        \
    STORE(insn, 0xaabbccdd, b); \
    got[row][b] = mem[0];       \
  } while (0)
  SWLR(2, "swl", 0);
  SWLR(2, "swl", 1);
  SWLR(2, "swl", 2);
  SWLR(2, "swl", 3);
  SWLR(3, "swr", 0);
  SWLR(3, "swr", 1);
  SWLR(3, "swr", 2);
  SWLR(3, "swr", 3);
  for (int b = 0; b < 4; b++) {
    check(names[0][b], got[0][b], lwl_want[b]);
    check(names[1][b], got[1][b], lwr_want[b]);
    check(names[2][b], got[2][b], swl_want[b]);
    check(names[3][b], got[3][b], swr_want[b]);
  }
  // The usual unaligned-word idiom: lwr at A, lwl at A+3.
  mem[0] = 0x33221100;
  mem[1] = 0x77665544;
  uint32_t u;
  __asm__ volatile("lwr %0, 1(%1)\n\tlwl %0, 4(%1)" : "=&r"(u) : "r"(mem) : "memory");
  check("lwlr.unaligned1", u, 0x44332211);
  __asm__ volatile("lwr %0, 3(%1)\n\tlwl %0, 6(%1)" : "=&r"(u) : "r"(mem) : "memory");
  check("lwlr.unaligned3", u, 0x66554433);
  __asm__ volatile("swr %0, 2(%1)\n\tswl %0, 5(%1)" ::"r"(0xdeadbeef), "r"(mem) : "memory");
  check("swlr.unaligned2.lo", mem[0], 0xbeef1100);
  check("swlr.unaligned2.hi", mem[1], 0x7766dead);

  // ll/sc with nothing in between: sc succeeds (rt = 1) and stores.
  mem[2] = 41;
  uint32_t v, ok;
  __asm__ volatile(ASM_BEGIN "ll %0, 8(%2)\n addiu %1, %0, 1\n sc %1, 8(%2)" ASM_END
                   : "=&r"(v), "=&r"(ok)
                   : "r"(mem)
                   : "memory");
  check("ll", v, 41);
  check("sc.success", ok, 1);
  check("sc.stored", mem[2], 42);
}

// ---------------------------------------------------------------- exceptions
#define TRAP_TEST(name, asmline, taken, ...)                                                            \
  do {                                                                                                  \
    uint32_t pc_;                                                                                       \
    exc_reset();                                                                                        \
    __asm__ volatile(ASM_BEGIN "la %0, 1f\n1: " asmline ASM_END : "=&r"(pc_) : __VA_ARGS__ : "memory"); \
    if (taken)                                                                                          \
      check_exc(name, EXC_TR, pc_);                                                                     \
    else                                                                                                \
      check(name ".none", exc.count, 0);                                                                \
  } while (0)

static void test_traps(void) {
  TRAP_TEST("teq.t", "teq %1, %2", 1, "r"(7), "r"(7));
  TRAP_TEST("teq.f", "teq %1, %2", 0, "r"(7), "r"(8));
  TRAP_TEST("tne.t", "tne %1, %2", 1, "r"(7), "r"(8));
  TRAP_TEST("tne.f", "tne %1, %2", 0, "r"(7), "r"(7));
  TRAP_TEST("tge.t", "tge %1, %2", 1, "r"(1), "r"(-1));
  TRAP_TEST("tge.f", "tge %1, %2", 0, "r"(-1), "r"(1));
  TRAP_TEST("tgeu.t", "tgeu %1, %2", 1, "r"(-1), "r"(1));
  TRAP_TEST("tgeu.f", "tgeu %1, %2", 0, "r"(1), "r"(-1));
  TRAP_TEST("tlt.t", "tlt %1, %2", 1, "r"(-1), "r"(1));
  TRAP_TEST("tlt.f", "tlt %1, %2", 0, "r"(1), "r"(-1));
  TRAP_TEST("tltu.t", "tltu %1, %2", 1, "r"(1), "r"(-1));
  TRAP_TEST("tltu.f", "tltu %1, %2", 0, "r"(-1), "r"(1));
  TRAP_TEST("teqi.t", "teqi %1, -3", 1, "r"(-3));
  TRAP_TEST("teqi.f", "teqi %1, -3", 0, "r"(3));
  TRAP_TEST("tnei.t", "tnei %1, 5", 1, "r"(4));
  TRAP_TEST("tnei.f", "tnei %1, 5", 0, "r"(5));
  TRAP_TEST("tgei.t", "tgei %1, -1", 1, "r"(0));
  TRAP_TEST("tgei.f", "tgei %1, 0", 0, "r"(-1));
  // Immediate is sign-extended, then compared unsigned.
  TRAP_TEST("tgeiu.t", "tgeiu %1, -1", 1, "r"(0xffffffff));
  TRAP_TEST("tgeiu.f", "tgeiu %1, -1", 0, "r"(0xfffffffe));
  TRAP_TEST("tlti.t", "tlti %1, 0", 1, "r"(-1));
  TRAP_TEST("tlti.f", "tlti %1, -1", 0, "r"(-1));
  TRAP_TEST("tltiu.t", "tltiu %1, -1", 1, "r"(5));
  TRAP_TEST("tltiu.f", "tltiu %1, 1", 0, "r"(5));
}

#define EXC_TEST(name, code, asmline, ...)                                                              \
  do {                                                                                                  \
    uint32_t pc_;                                                                                       \
    exc_reset();                                                                                        \
    __asm__ volatile(ASM_BEGIN "la %0, 1f\n1: " asmline ASM_END : "=&r"(pc_) : __VA_ARGS__ : "memory"); \
    check_exc(name, code, pc_);                                                                         \
  } while (0)

static void test_exceptions(void) {
  EXC_TEST("syscall", EXC_SYS, "syscall", "r"(0));
  check("syscall.bd", exc.cause & CAUSE_BD, 0);
  EXC_TEST("break", EXC_BP, "break", "r"(0));

  uint32_t base = (uint32_t)mem;
  EXC_TEST("adel.lw", EXC_ADEL, "lw $zero, 1(%1)", "r"(base));
  check("adel.lw.badvaddr", exc.badvaddr, base + 1);
  EXC_TEST("adel.lh", EXC_ADEL, "lh $zero, 3(%1)", "r"(base));
  check("adel.lh.badvaddr", exc.badvaddr, base + 3);
  mem[0] = 0x12345678;
  EXC_TEST("ades.sw", EXC_ADES, "sw $zero, 2(%1)", "r"(base));
  check("ades.sw.badvaddr", exc.badvaddr, base + 2);
  check("ades.sw.nostore", mem[0], 0x12345678);

  // Fault in a delay slot: EPC is the branch, Cause.BD set; the handler
  // resumes at EPC + 8 (label 2 in both the taken and the not-taken case).
  EXC_TEST("bd.adel", EXC_ADEL, "beq $zero, $zero, 2f\n lw $zero, 1(%1)\n2:", "r"(base));
  check("bd.adel.bd", exc.cause >> 31, 1);
  check("bd.adel.badvaddr", exc.badvaddr, base + 1);

  EXC_TEST("ri", EXC_RI, ".word 0xec000000", "r"(0));         // opcode 0x3b is reserved
  EXC_TEST("cpu.cop1", EXC_CPU, ".word 0x44080000", "r"(0));  // mfc1 $t0, $f0
  check("cpu.cop1.ce", (exc.cause >> CAUSE_CE_SHIFT) & 3, 1);
}

// ----------------------------------------------------------------------- CP0
static void test_cp0(void) {
  uint32_t v;
  __asm__ volatile(ASM_BEGIN "rdhwr %0, $0" ASM_END : "=r"(v));
  check("rdhwr.cpunum", v, mfc0(15, 1) & 0x3ff);
  __asm__ volatile(ASM_BEGIN "rdhwr %0, $3" ASM_END : "=r"(v));
  check("rdhwr.ccres", v, 2);
  uint32_t c0 = mfc0(CP0_COUNT, 0), cc;
  __asm__ volatile(ASM_BEGIN "rdhwr %0, $2" ASM_END : "=r"(cc));
  uint32_t c1 = mfc0(CP0_COUNT, 0);
  check("rdhwr.cc.in.count.window", (cc - c0) <= (c1 - c0), 1);

  uint32_t saved = mfc0(CP0_STATUS, 0), old;
  __asm__ volatile("ei\n\tehb" ::: "memory");
  check("ei", mfc0(CP0_STATUS, 0) & ST_IE, 1);
  __asm__ volatile("di %0\n\tehb" : "=r"(old)::"memory");
  check("di.old", old & ST_IE, 1);
  check("di", mfc0(CP0_STATUS, 0) & ST_IE, 0);
  mtc0(CP0_STATUS, 0, saved | 0xff00);  // IM bits, still IE = 0
  check("status.im", mfc0(CP0_STATUS, 0) & 0xff00, 0xff00);
  mtc0(CP0_STATUS, 0, saved);

  mtc0(CP0_ENTRYHI, 0, 0x12345678);
  check("entryhi", mfc0(CP0_ENTRYHI, 0), 0x12344078);
  mtc0(CP0_ENTRYHI, 0, 0);
  mtc0(CP0_ENTRYLO0, 0, 0x00abcde7);
  check("entrylo0", mfc0(CP0_ENTRYLO0, 0), 0x00abcde7);
  mtc0(CP0_ENTRYLO1, 0, 0x0012345f);
  check("entrylo1", mfc0(CP0_ENTRYLO1, 0), 0x0012345f);
  mtc0(CP0_PAGEMASK, 0, 0);
  check("pagemask", mfc0(CP0_PAGEMASK, 0), 0);
  mtc0(CP0_INDEX, 0, 7);
  check("index", mfc0(CP0_INDEX, 0) & 0x8000003f, 7);
  mtc0(CP0_WIRED, 0, 3);
  check("wired", mfc0(CP0_WIRED, 0), 3);
  mtc0(CP0_WIRED, 0, 0);
  mtc0(CP0_CONTEXT, 0, 0xff800000);
  check("context.ptebase", mfc0(CP0_CONTEXT, 0) & 0xff800000, 0xff800000);
  mtc0(CP0_EPC, 0, 0xdeadbeef);
  check("epc", mfc0(CP0_EPC, 0), 0xdeadbeef);
  mtc0(CP0_COMPARE, 0, 0x12345678);
  check("compare", mfc0(CP0_COMPARE, 0), 0x12345678);
  mtc0(CP0_CAUSE, 0, 0x300);  // software interrupt bits IP1..IP0
  check("cause.ip01", mfc0(CP0_CAUSE, 0) & 0x300, 0x300);
  mtc0(CP0_CAUSE, 0, 0);
  check("cause.ip01.clear", mfc0(CP0_CAUSE, 0) & 0x300, 0);
  check("ebase", mfc0(15, 1) & 0xfffff000, 0x80000000);
}

int main(void) {
  printf("isa_selfcheck: MIPS32r2 integer ISA\n");
  test_overflow();
  test_logic();
  test_shift();
  test_muldiv();
  test_bits();
  test_branches();
  test_jumps();
  test_loadstore();
  test_traps();
  test_exceptions();
  test_cp0();
  printf("isa_selfcheck: %d passed, %d failed\n", passed, failed);
  return failed;
}
