// SPDX-License-Identifier: MIT
// The reset Config registers tell guest software which ISA extensions exist; each claim must agree with
// what the table decodes (an advertised ASE whose instructions are Reserved Instruction, or a decoded ASE
// that is not advertised, misleads feature probing such as Linux's decode_config1/decode_config3).
#include <gtest/gtest.h>

#include "tests/support/test_machine.h"

namespace strobe::mips::test {
namespace {

constexpr uint32_t kConfig1Fp = 1u << 0, kConfig1Ep = 1u << 1, kConfig1Ca = 1u << 2;
constexpr uint32_t kConfig3Dspp = 1u << 10, kConfig3Ulri = 1u << 13, kConfig3Msap = 1u << 28;
constexpr uint32_t kSdbbp = 0x7000003F, kDeret = 0x4200001F, kJalx = 0x74000001;
constexpr uint32_t kLwx = 0x7CA4100A, kMsaSldi = 0x78000019;

bool Decodes(uint32_t word) {
  return Decode(word).op != Opcode::kInvalid;
}

TEST(DecoderConfig, AdvertisedIsaMatchesTheTable) {
  strobe::test::TestMachine m;
  ASSERT_TRUE(m.booted());
  const runtime::Cp0& cp0 = m.cpu().cp0;
  // Config0.AR = 1: Release 2, whose additions are all rows of the table.
  EXPECT_EQ((cp0.config0 >> 10) & 7, 1u);
  for (Opcode op :
       {Opcode::ROTR, Opcode::ROTRV, Opcode::EXT, Opcode::INS, Opcode::WSBH, Opcode::SEB, Opcode::SEH,
        Opcode::RDHWR, Opcode::DI, Opcode::EI, Opcode::RDPGPR, Opcode::WRPGPR, Opcode::SYNCI})
    EXPECT_EQ(Decode(EncodingOf(op).match).op, op) << NameOf(op);
  // The default 24Kc has no FPU (Config1.FP=0): its COP1-space rows raise Coprocessor Unusable because
  // Status.CU1 cannot be set (FpuAdvertisedOnlyOnThe24Kf). Every one of them is flagged as an FPU row.
  EXPECT_EQ(cp0.config1 & kConfig1Fp, 0u);
  for (const Encoding& e : kEncodings) {
    const uint32_t major = e.match >> 26;
    if (major == 0b010001 || major == 0b010011) {
      EXPECT_TRUE(e.flags & kCop1) << e.name;
    }
  }
  // Code compression (MIPS16e): JALX is decoded iff Config1.CA.
  EXPECT_EQ(Decodes(kJalx), (cp0.config1 & kConfig1Ca) != 0);
  // DSP and MSA ASEs: their encodings are decoded iff Config3 says the unit exists.
  EXPECT_EQ(Decodes(kLwx), (cp0.config3 & kConfig3Dspp) != 0);
  EXPECT_EQ(Decodes(kMsaSldi), (cp0.config3 & kConfig3Msap) != 0);
  // UserLocal (Config3.ULRI) is read with RDHWR $29.
  if (cp0.config3 & kConfig3Ulri) {
    EXPECT_EQ(Decode(0x7C03E83B).op, Opcode::RDHWR);
  }
}

// The 24Kf advertises its FPU (Config1.FP, a non-zero FIR) and lets software set CU1; the 24Kc does neither.
TEST(DecoderConfig, FpuAdvertisedOnlyOnThe24Kf) {
  for (runtime::CpuModel model : {runtime::CpuModel::k24Kc, runtime::CpuModel::k24Kf}) {
    strobe::test::TestMachine m(16u << 20, 16, nullptr, vmm::Engine::kInterp, 0, model);
    ASSERT_TRUE(m.booted());
    const bool fpu = model == runtime::CpuModel::k24Kf;
    EXPECT_EQ((m.cpu().cp0.config1 & kConfig1Fp) != 0, fpu);
    EXPECT_EQ(m.cpu().fpu.fir != 0, fpu);
    runtime::WriteCp0(m.cpu(), 12, 0, 1u << 29);
    EXPECT_EQ((m.cpu().cp0.status >> 29) & 1, fpu ? 1u : 0u);
  }
  EXPECT_EQ(Decode(0x46020800).op, Opcode::ADD_S);  // add.s $f0, $f1, $f2
}

// EJTAG: with Config1.EP set, SDBBP must raise a Debug Breakpoint and DERET must exist; the table has
// neither (they raise Reserved Instruction), so Config1.EP must read 0.
TEST(DecoderConfig, EjtagAdvertisedOnlyIfDecoded) {
  strobe::test::TestMachine m;
  ASSERT_TRUE(m.booted());
  const bool advertised = (m.cpu().cp0.config1 & kConfig1Ep) != 0;
  const bool decoded = Decodes(kSdbbp) && Decodes(kDeret);
  EXPECT_EQ(advertised, decoded);
}

}  // namespace
}  // namespace strobe::mips::test
