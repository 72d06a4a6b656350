// SPDX-License-Identifier: MIT
// What the option tests ask of tools::ParseRunOptions: the options of a command line that must parse, or
// the one-line message of one that must not.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tools/strobe/options.h"

namespace strobe::test {

inline tools::RunOptions Parse(std::vector<std::string> args) {
  tools::RunOptions o;
  std::string err;
  EXPECT_TRUE(tools::ParseRunOptions(args, &o, &err)) << err;
  return o;
}

inline std::string Error(std::vector<std::string> args) {
  tools::RunOptions o;
  std::string err;
  EXPECT_FALSE(tools::ParseRunOptions(args, &o, &err));
  EXPECT_EQ(err.find('\n'), std::string::npos) << err;  // one line
  return err;
}

}  // namespace strobe::test
