// SPDX-License-Identifier: MIT
// The guest's instruction count from strobe's --stats line on stderr ("strobe: power-off after S s at pc
// P: N instructions (M MIPS), ..."): empty when there is none.
#pragma once

#include <string>

namespace strobe::test {

inline std::string InstructionCount(const std::string& err) {
  const size_t at = err.find(" at pc ");
  if (at == std::string::npos) return "";
  const size_t colon = err.find(": ", at);
  if (colon == std::string::npos) return "";
  const size_t end = err.find(" instructions", colon);
  return end == std::string::npos ? "" : err.substr(colon + 2, end - colon - 2);
}

}  // namespace strobe::test
