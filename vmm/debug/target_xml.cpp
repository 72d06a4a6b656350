// SPDX-License-Identifier: MIT
#include "vmm/debug/target_xml.h"

#include <algorithm>

#include "vmm/debug/gdb_stub.h"

namespace strobe::vmm::gdb {

namespace {
// <reg name="NAME" bitsize="32" regnum="N"[ type=..][ group=..]/>: every register numbered explicitly,
// so the order of the `g` packet is the raw layout's whatever the order of the features.
std::string Reg(const std::string& name, unsigned regnum, std::string_view extra = "") {
  std::string r = "    <reg name=\"" + name + "\" bitsize=\"32\" regnum=\"" + std::to_string(regnum) + "\"";
  if (!extra.empty()) r += " " + std::string(extra);
  return r + "/>\n";
}

std::string Build() {
  std::string x =
      "<?xml version=\"1.0\"?>\n"
      "<!DOCTYPE target SYSTEM \"gdb-target.dtd\">\n"
      "<target version=\"1.0\">\n"
      "  <architecture>mips:isa32r2</architecture>\n"
      "  <feature name=\"org.gnu.gdb.mips.cpu\">\n";
  for (unsigned n = 0; n < 32; ++n) x += Reg("r" + std::to_string(n), n);
  x += Reg("lo", reg::kLo) + Reg("hi", reg::kHi) + Reg("pc", reg::kPc);
  x += "  </feature>\n  <feature name=\"org.gnu.gdb.mips.cp0\">\n";
  x += Reg("status", reg::kStatus) + Reg("badvaddr", reg::kBadVAddr) + Reg("cause", reg::kCause);
  x += "  </feature>\n  <feature name=\"org.gnu.gdb.mips.fpu\">\n";
  // The low word of each FPR (with Status.FR=0, single register n), as the `g` packet has it.
  for (unsigned n = 0; n < 32; ++n) x += Reg("f" + std::to_string(n), reg::kFpr0 + n, "type=\"ieee_single\"");
  x += Reg("fcsr", reg::kFcsr, "group=\"float\"") + Reg("fir", reg::kFir, "group=\"float\"");
  x += "  </feature>\n</target>\n";
  return x;
}
}  // namespace

const std::string& TargetXml() {
  static const std::string xml = Build();
  return xml;
}

std::string ReadFeatures(std::string_view annex, uint32_t offset, uint32_t length, bool* served) {
  if (annex != kTargetXmlAnnex || length == 0) return "E00";
  const std::string& xml = TargetXml();
  if (offset > xml.size()) return "E01";
  *served = true;
  const size_t n = std::min<size_t>(length, xml.size() - offset);
  return (offset + n < xml.size() ? "m" : "l") + xml.substr(offset, n);
}

}  // namespace strobe::vmm::gdb
