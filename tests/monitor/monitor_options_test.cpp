// SPDX-License-Identifier: MIT
// -monitor and -qmp values: QEMU's spellings of stdio, unix and tcp server sockets, and what is refused.
#include <gtest/gtest.h>

#include "vmm/monitor/server.h"

namespace strobe::test {
namespace {

using vmm::mon::MonitorSpec;
using vmm::mon::ParseMonitorSpec;

std::string Error(const std::string& value, bool qmp = false) {
  MonitorSpec s;
  std::string error;
  EXPECT_FALSE(ParseMonitorSpec(value, qmp, &s, &error)) << value;
  return error;
}

TEST(MonitorOptions, QemuSpellings) {
  MonitorSpec s;
  std::string error;
  ASSERT_TRUE(ParseMonitorSpec("unix:/tmp/m.sock,server,nowait", false, &s, &error)) << error;
  EXPECT_EQ(s.transport, MonitorSpec::Transport::kUnix);
  EXPECT_EQ(s.path, "/tmp/m.sock");
  EXPECT_FALSE(s.wait);
  EXPECT_FALSE(s.qmp);
  ASSERT_TRUE(ParseMonitorSpec("unix:/tmp/q.sock,server=on,wait=off", true, &s, &error)) << error;
  EXPECT_TRUE(s.qmp);
  EXPECT_FALSE(s.wait);
  ASSERT_TRUE(ParseMonitorSpec("tcp::4444,server", false, &s, &error)) << error;
  EXPECT_EQ(s.transport, MonitorSpec::Transport::kTcp);
  EXPECT_EQ(s.host, "");  // 127.0.0.1
  EXPECT_EQ(s.port, 4444);
  EXPECT_TRUE(s.wait);  // QEMU's default for a server
  ASSERT_TRUE(ParseMonitorSpec("tcp:0.0.0.0:4445,server,nowait", true, &s, &error)) << error;
  EXPECT_EQ(s.host, "0.0.0.0");
  ASSERT_TRUE(ParseMonitorSpec("stdio", false, &s, &error)) << error;
  EXPECT_EQ(s.transport, MonitorSpec::Transport::kStdio);
  // none: no monitor, and no error.
  EXPECT_EQ(Error("none"), "");
}

TEST(MonitorOptions, RefusalsAreOneClearLine) {
  EXPECT_NE(Error("unix:/tmp/m.sock").find("only server mode"), std::string::npos);
  EXPECT_NE(Error("tcp:localhost:4444").find("only server mode"), std::string::npos);
  EXPECT_NE(Error("vc").find("only stdio, unix:"), std::string::npos);
  EXPECT_NE(Error("tcp:4444,server").find("expected tcp:[HOST]:PORT"), std::string::npos);
  EXPECT_NE(Error("tcp::70000,server").find("bad port"), std::string::npos);
  EXPECT_NE(Error("tcp::x,server").find("bad port"), std::string::npos);
  EXPECT_NE(Error("unix:,server").find("needs a path"), std::string::npos);
  EXPECT_NE(Error("unix:/" + std::string(200, 'a') + ",server").find("longer than"), std::string::npos);
  EXPECT_NE(Error("stdio,server").find("stdio takes no options"), std::string::npos);
  EXPECT_EQ(
      Error("unix:/tmp/m,server,telnet", true).rfind("-qmp unix:/tmp/m,server,telnet: unknown option", 0),
      0u);
}

}  // namespace
}  // namespace strobe::test
