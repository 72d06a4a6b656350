// SPDX-License-Identifier: MIT
// What every test of bad input to the strobe binary expects: one line on stderr, starting "strobe: " and
// saying what is wrong, the given exit status, and no crash or hang.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "tests/support/process.h"

namespace strobe::test {

inline void ExpectOneLineFailure(const ProcessResult& r, const std::string& needle, int code = 1) {
  EXPECT_FALSE(r.timed_out);
  EXPECT_EQ(r.signal, 0) << "crashed: " << r.err;
  EXPECT_EQ(r.exit_code, code) << r.err;
  EXPECT_EQ(r.err.rfind("strobe: ", 0), 0u) << r.err;
  EXPECT_NE(r.err.find(needle), std::string::npos) << r.err;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << r.err;
}

}  // namespace strobe::test
