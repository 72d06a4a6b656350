// SPDX-License-Identifier: MIT
// The target description gdb reads with qXfer:features:read (GDB manual, appendix G "Target
// Descriptions", "MIPS Features"): architecture mips:isa32r2 and the features org.gnu.gdb.mips.cpu, .cp0
// and .fpu, whose registers carry the numbers of the raw layout the `g` packet already uses
// (gdb_stub.h's reg::), so that gdb reads the same packet either way. The padding word QEMU sends after
// fir (reg::kFramePointer) is not a register of any feature: with the description in use, `g` ends at fir.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strobe::vmm::gdb {

// The one annex served: "target.xml" (everything inline, no xi:include).
inline constexpr std::string_view kTargetXmlAnnex = "target.xml";
const std::string& TargetXml();

// One qXfer:features:read reply for ANNEX at OFFSET, at most LENGTH bytes: "m" + data when more
// follows, "l" + data for the last part; "E00" for an unknown annex or a zero length, "E01" for an
// offset past the end. *served is set when the description was read (any part of it).
std::string ReadFeatures(std::string_view annex, uint32_t offset, uint32_t length, bool* served);

}  // namespace strobe::vmm::gdb
