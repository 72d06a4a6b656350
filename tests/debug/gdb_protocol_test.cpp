// SPDX-License-Identifier: MIT
// The gdb stub's framing (vmm/debug/gdb_protocol.h) and command handling (gdb_stub.h) against a fake
// target: packets, checksums, escapes, and every command's reply, including malformed ones.
#include <gtest/gtest.h>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "vmm/debug/gdb_protocol.h"
#include "vmm/debug/gdb_stub.h"

namespace strobe::vmm::gdb {
namespace {

using Event = PacketDecoder::Event;

std::vector<Event> FeedAll(PacketDecoder& d, const std::string& bytes) {
  std::vector<Event> out;
  for (char c : bytes) {
    const Event e = d.Feed(static_cast<uint8_t>(c));
    if (e != Event::kNone) out.push_back(e);
  }
  return out;
}

TEST(GdbFraming, GoodPacketAcksAndInterrupt) {
  PacketDecoder d;
  EXPECT_EQ(FeedAll(d, "$g#67"), std::vector<Event>{Event::kPacket});
  EXPECT_EQ(d.packet(), "g");
  EXPECT_EQ(FeedAll(d, "+-\x03"), (std::vector<Event>{Event::kAck, Event::kNak, Event::kInterrupt}));
  // Line noise between packets is skipped; the checksum is case-insensitive.
  EXPECT_EQ(FeedAll(d, "xyz$m0,4#FD"), std::vector<Event>{Event::kPacket});
  EXPECT_EQ(d.packet(), "m0,4");
}

TEST(GdbFraming, BadChecksumsAreReported) {
  PacketDecoder d;
  EXPECT_EQ(FeedAll(d, "$g#00"), std::vector<Event>{Event::kBadChecksum});
  EXPECT_EQ(FeedAll(d, "$g#6z"), std::vector<Event>{Event::kBadChecksum});
  EXPECT_EQ(FeedAll(d, "$g#zz"), std::vector<Event>{Event::kBadChecksum});
  // The decoder is back in step afterwards.
  EXPECT_EQ(FeedAll(d, "$g#67"), std::vector<Event>{Event::kPacket});
}

TEST(GdbFraming, HugePacketOverflows) {
  PacketDecoder d;
  const std::string huge = "$" + std::string(3 * kPacketSize, 'a');
  const std::vector<Event> events = FeedAll(d, huge);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0], Event::kOverflow);
}

TEST(GdbFraming, EncodeEscapesAndChecksums) {
  EXPECT_EQ(EncodePacket("OK"), "$OK#9a");
  EXPECT_EQ(EncodePacket(""), "$#00");
  const std::string e = EncodePacket("a#b");
  EXPECT_EQ(e.substr(0, 5),
            "$a}\x03"
            "b");
  PacketDecoder d;  // what we send, gdb reads back (its escapes stay in the raw payload)
  EXPECT_EQ(FeedAll(d, e), std::vector<Event>{Event::kPacket});
  std::vector<uint8_t> raw;
  ASSERT_TRUE(Unescape(d.packet(), &raw));
  EXPECT_EQ(std::string(raw.begin(), raw.end()), "a#b");
  EXPECT_FALSE(Unescape("ab}", &raw));
}

TEST(GdbFraming, HexHelpers) {
  uint32_t v;
  EXPECT_TRUE(ParseHex("80100e40", &v));
  EXPECT_EQ(v, 0x80100e40u);
  EXPECT_FALSE(ParseHex("", &v));
  EXPECT_FALSE(ParseHex("123456789", &v));
  EXPECT_FALSE(ParseHex("12g4", &v));
  EXPECT_EQ(HexWordLe(0x12345678), "78563412");
  EXPECT_TRUE(ParseWordLe("78563412", &v));
  EXPECT_EQ(v, 0x12345678u);
  EXPECT_FALSE(ParseWordLe("785634", &v));
}

// A target with 64 KiB of memory at 0x80000000 and a register file.
class FakeTarget : public DebugTarget {
 public:
  FakeTarget() : mem(0x10000, 0) {
    for (unsigned i = 0; i <= reg::kLast; ++i) regs[i] = 0x1000 + i;
  }
  bool ReadRegister(unsigned n, uint32_t* v) override {
    if (n > reg::kLast) return false;
    *v = regs[n];
    return true;
  }
  bool WriteRegister(unsigned n, uint32_t v) override {
    if (n > reg::kLast) return false;
    regs[n] = v;
    return true;
  }
  size_t ReadMemory(uint32_t addr, uint8_t* out, size_t size) override {
    size_t n = 0;
    for (; n < size && In(addr + n); ++n) out[n] = mem[addr + n - kBase];
    return n;
  }
  size_t WriteMemory(uint32_t addr, const uint8_t* data, size_t size) override {
    size_t n = 0;
    for (; n < size && In(addr + n); ++n) mem[addr + n - kBase] = data[n];
    return n;
  }
  bool InsertPoint(BreakType type, uint32_t addr, uint32_t len) override {
    points[{static_cast<int>(type), addr}] = len;
    return In(addr);
  }
  bool RemovePoint(BreakType type, uint32_t addr, uint32_t) override {
    return points.erase({static_cast<int>(type), addr}) != 0;
  }
  static constexpr uint32_t kBase = 0x80000000u;
  bool In(uint64_t a) const { return a >= kBase && a < kBase + mem.size(); }
  uint32_t regs[reg::kLast + 1];
  std::vector<uint8_t> mem;
  std::map<std::pair<int, uint32_t>, uint32_t> points;
};

struct Reply {
  std::string text;
  bool has_reply;
  GdbSession::Action::Kind action;
};
Reply Send(GdbSession& s, const std::string& packet) {
  Reply r;
  r.action = s.Handle(packet, &r.text, &r.has_reply).kind;
  return r;
}

TEST(GdbSession, QueriesAndHandshake) {
  FakeTarget t;
  GdbSession s(t);
  const Reply q = Send(s, "qSupported:multiprocess+;swbreak+;hwbreak+;xmlRegisters=i386");
  EXPECT_NE(q.text.find("PacketSize=4000"), std::string::npos) << q.text;
  EXPECT_NE(q.text.find("swbreak+"), std::string::npos);
  EXPECT_NE(q.text.find("QStartNoAckMode+"), std::string::npos);
  EXPECT_FALSE(s.no_ack());
  EXPECT_EQ(Send(s, "QStartNoAckMode").text, "OK");
  EXPECT_TRUE(s.no_ack());
  EXPECT_EQ(Send(s, "?").text, "T05thread:01;");
  EXPECT_EQ(Send(s, "qAttached").text, "1");
  EXPECT_EQ(Send(s, "qC").text, "QC01");
  EXPECT_EQ(Send(s, "qfThreadInfo").text, "m01");
  EXPECT_EQ(Send(s, "qsThreadInfo").text, "l");
  EXPECT_EQ(Send(s, "Hg0").text, "OK");
  EXPECT_EQ(Send(s, "vCont?").text, "vCont;c;C;s;S");
  // Unknown packets get the empty reply, never an error or a crash.
  for (const char* p : {"vMustReplyEmpty", "qOffsets", "qXfer:auxv:read::0,fff", "!", "\x01"}) {
    const Reply r = Send(s, p);
    EXPECT_TRUE(r.has_reply);
    EXPECT_EQ(r.text, "") << p;
  }
}

// qXfer:features:read:target.xml:OFFSET,LENGTH in pieces, put together as gdb does.
std::string ReadTargetXml(GdbSession& s, uint32_t chunk) {
  std::string xml;
  for (int i = 0; i < 10000; ++i) {
    char p[96];
    std::snprintf(p, sizeof p, "qXfer:features:read:target.xml:%zx,%x", xml.size(), chunk);
    const std::string r = Send(s, p).text;
    if (r.empty() || (r[0] != 'm' && r[0] != 'l')) return "bad reply " + r;
    xml += r.substr(1);
    if (r[0] == 'l') return xml;
  }
  return "no end";
}

TEST(GdbSession, TargetDescription) {
  FakeTarget t;
  GdbSession s(t);
  EXPECT_NE(Send(s, "qSupported:xmlRegisters=i386").text.find("qXfer:features:read+"), std::string::npos);
  // Without the description, QEMU's 73 words.
  EXPECT_EQ(Send(s, "g").text.size(), 8u * reg::kInG);
  const std::string xml = ReadTargetXml(s, 0x3ff);
  EXPECT_EQ(xml, ReadTargetXml(s, 7));  // any piece size gives the same text
  EXPECT_EQ(xml.rfind("<?xml version=\"1.0\"?>", 0), 0u) << xml;
  EXPECT_NE(xml.find("<architecture>mips:isa32r2</architecture>"), std::string::npos);
  for (const char* f : {"org.gnu.gdb.mips.cpu", "org.gnu.gdb.mips.cp0", "org.gnu.gdb.mips.fpu"})
    EXPECT_NE(xml.find(std::string("<feature name=\"") + f + "\">"), std::string::npos) << f;
  // Every register of the g packet up to fir, by the number it has there, 32 bits each; nothing else.
  std::map<unsigned, std::string> regs;
  for (size_t at = xml.find("<reg "); at != std::string::npos; at = xml.find("<reg ", at + 1)) {
    const std::string r = xml.substr(at, xml.find("/>", at) - at);
    const size_t name = r.find("name=\"") + 6, num = r.find("regnum=\"") + 8;
    EXPECT_NE(r.find("bitsize=\"32\""), std::string::npos) << r;
    regs[std::stoul(r.substr(num))] = r.substr(name, r.find('"', name) - name);
  }
  ASSERT_EQ(regs.size(), reg::kFir + 1u);
  EXPECT_EQ(regs.rbegin()->first, reg::kFir);
  EXPECT_EQ(regs[0], "r0");
  EXPECT_EQ(regs[31], "r31");
  EXPECT_EQ(regs[reg::kStatus], "status");
  EXPECT_EQ(regs[reg::kLo], "lo");
  EXPECT_EQ(regs[reg::kHi], "hi");
  EXPECT_EQ(regs[reg::kBadVAddr], "badvaddr");
  EXPECT_EQ(regs[reg::kCause], "cause");
  EXPECT_EQ(regs[reg::kPc], "pc");
  EXPECT_EQ(regs[reg::kFpr0], "f0");
  EXPECT_EQ(regs[reg::kFpr0 + 31], "f31");
  EXPECT_EQ(regs[reg::kFcsr], "fcsr");
  EXPECT_EQ(regs[reg::kFir], "fir");
  // With the description in use, `g` holds exactly its registers (gdb refuses a longer reply).
  const std::string g = Send(s, "g").text;
  ASSERT_EQ(g.size(), 8u * (reg::kFir + 1));
  EXPECT_EQ(g.substr(8 * reg::kFir, 8), HexWordLe(0x1000 + reg::kFir));
  // The end exactly: the empty last part; bad annexes, offsets and lengths: errors, never a crash.
  char at_end[96];
  std::snprintf(at_end, sizeof at_end, "qXfer:features:read:target.xml:%zx,10", xml.size());
  EXPECT_EQ(Send(s, at_end).text, "l");
  std::snprintf(at_end, sizeof at_end, "qXfer:features:read:target.xml:%zx,10", xml.size() + 1);
  EXPECT_EQ(Send(s, at_end).text, "E01");
  EXPECT_EQ(Send(s, "qXfer:features:read:target.xml:ffffffff,ffffffff").text, "E01");
  EXPECT_EQ(Send(s, "qXfer:features:read:target.xml:0,ffffffff").text.substr(1), xml);  // clamped
  for (const char* p : {"qXfer:features:read:mips-cpu.xml:0,100", "qXfer:features:read::0,100",
                        "qXfer:features:read:target.xml", "qXfer:features:read:target.xml:",
                        "qXfer:features:read:target.xml:0", "qXfer:features:read:target.xml:0,",
                        "qXfer:features:read:target.xml:zz,10", "qXfer:features:read:target.xml:0,0",
                        "qXfer:features:read:target.xml:123456789,10", "qXfer:features:read:"})
    EXPECT_EQ(Send(s, p).text, "E00") << p;
  // A new connection's session starts without it.
  GdbSession fresh(t);
  EXPECT_EQ(Send(fresh, "g").text.size(), 8u * reg::kInG);
}

TEST(GdbSession, Registers) {
  FakeTarget t;
  GdbSession s(t);
  const std::string g = Send(s, "g").text;
  ASSERT_EQ(g.size(), 8u * reg::kInG);
  EXPECT_EQ(g.substr(8 * reg::kPc, 8), HexWordLe(0x1000 + reg::kPc));
  EXPECT_EQ(Send(s, "p25").text, HexWordLe(0x1000 + 0x25));
  EXPECT_EQ(Send(s, "p59").text, HexWordLe(0x1000 + 0x59));  // PRId, past the g packet
  EXPECT_EQ(Send(s, "p5a").text, "E22");
  EXPECT_EQ(Send(s, "pzz").text, "E22");
  EXPECT_EQ(Send(s, "P25=40e01080").text, "OK");
  EXPECT_EQ(t.regs[reg::kPc], 0x8010e040u);
  EXPECT_EQ(Send(s, "P25=40e010").text, "E22");
  // G writes what it is given, in order.
  std::string regs;
  for (unsigned i = 0; i < reg::kInG; ++i) regs += HexWordLe(0xA0000000u + i);
  EXPECT_EQ(Send(s, "G" + regs).text, "OK");
  EXPECT_EQ(t.regs[5], 0xA0000005u);
  EXPECT_EQ(t.regs[reg::kFir], 0xA0000000u + reg::kFir);
  EXPECT_EQ(Send(s, "G123").text, "E22");
}

TEST(GdbSession, Memory) {
  FakeTarget t;
  GdbSession s(t);
  EXPECT_EQ(Send(s, "M80000010,4:deadbeef").text, "OK");
  EXPECT_EQ(Send(s, "m80000010,4").text, "deadbeef");
  EXPECT_EQ(Send(s, "m80000010,0").text, "");
  // Binary write with escapes: 0x23 ('#') and 0x7d ('}') arrive as }\x03 and }\x5d.
  EXPECT_EQ(Send(s, std::string("X80000020,3:\x01}\x03}\x5d")).text, "OK");
  EXPECT_EQ(Send(s, "m80000020,3").text, "01237d");
  EXPECT_EQ(Send(s, "X80000020,0:").text, "OK");
  // Unreachable memory: E14; a read that runs off the end returns what could be read.
  EXPECT_EQ(Send(s, "m1000,4").text, "E14");
  EXPECT_EQ(Send(s, "M1000,1:00").text, "E14");
  EXPECT_EQ(Send(s, "m8000fffe,4").text.size(), 4u);
  // A huge length is clamped to what a reply holds.
  EXPECT_EQ(Send(s, "m80000000,ffffffff").text.size(), kPacketSize);
  // Malformed requests.
  for (const char* p : {"m", "m80000000", "m,4", "mzz,4", "M80000000,4:dead", "M80000000,2:zzzz",
                        "M80000000,2", "X80000000,2:a"})
    EXPECT_EQ(Send(s, p).text, "E22") << p;
}

TEST(GdbSession, BreakAndWatchPoints) {
  FakeTarget t;
  GdbSession s(t);
  EXPECT_EQ(Send(s, "Z0,80000100,4").text, "OK");
  EXPECT_EQ(t.points.count({0, 0x80000100u}), 1u);
  EXPECT_EQ(Send(s, "z0,80000100,4").text, "OK");
  EXPECT_EQ(Send(s, "z0,80000100,4").text, "E14");  // not set
  EXPECT_EQ(Send(s, "Z1,80000104,4").text, "OK");
  EXPECT_EQ(Send(s, "Z2,80000200,4").text, "OK");
  EXPECT_EQ((t.points[{2, 0x80000200u}]), 4u);
  EXPECT_EQ(Send(s, "Z3,80000200,2").text, "OK");
  EXPECT_EQ(Send(s, "Z4,80000200,1").text, "OK");
  EXPECT_EQ(Send(s, "Z0,80000102,4").text, "E22");  // misaligned
  EXPECT_EQ(Send(s, "Z0,80000100,2").text, "E22");  // a MIPS16 kind
  EXPECT_EQ(Send(s, "Z2,80000200,0").text, "E22");
  EXPECT_EQ(Send(s, "Z5,80000200,4").text, "");  // unsupported type
  EXPECT_EQ(Send(s, "Z0").text, "");
  EXPECT_EQ(Send(s, "Z0,zz,4").text, "E22");
}

TEST(GdbSession, ResumeDetachKill) {
  FakeTarget t;
  GdbSession s(t);
  Reply r = Send(s, "c");
  EXPECT_EQ(r.action, GdbSession::Action::Kind::kContinue);
  EXPECT_FALSE(r.has_reply);
  r = Send(s, "s80001000");
  EXPECT_EQ(r.action, GdbSession::Action::Kind::kStep);
  EXPECT_EQ(t.regs[reg::kPc], 0x80001000u);
  EXPECT_EQ(Send(s, "C05;80002000").action, GdbSession::Action::Kind::kContinue);
  EXPECT_EQ(t.regs[reg::kPc], 0x80002000u);
  EXPECT_EQ(Send(s, "vCont;c").action, GdbSession::Action::Kind::kContinue);
  EXPECT_EQ(Send(s, "vCont;s:1;c").action, GdbSession::Action::Kind::kStep);
  EXPECT_EQ(Send(s, "vCont;s:2;c").action, GdbSession::Action::Kind::kContinue);  // not our thread
  EXPECT_EQ(Send(s, "vCont;c:-1").action, GdbSession::Action::Kind::kContinue);
  r = Send(s, "vCont;t");
  EXPECT_EQ(r.action, GdbSession::Action::Kind::kNone);
  EXPECT_EQ(r.text, "E22");
  r = Send(s, "czz");
  EXPECT_EQ(r.action, GdbSession::Action::Kind::kNone);
  EXPECT_EQ(r.text, "E22");
  r = Send(s, "D");
  EXPECT_EQ(r.action, GdbSession::Action::Kind::kDetach);
  EXPECT_EQ(r.text, "OK");
  r = Send(s, "k");
  EXPECT_EQ(r.action, GdbSession::Action::Kind::kKill);
  EXPECT_FALSE(r.has_reply);
}

TEST(GdbSession, StopReplies) {
  FakeTarget t;
  GdbSession s(t);
  StopEvent e;
  e.kind = StopEvent::Kind::kBreakpoint;
  EXPECT_EQ(s.StopReply(e), "T05thread:01;");  // swbreak not negotiated
  Send(s, "qSupported:swbreak+;hwbreak+");
  EXPECT_EQ(s.StopReply(e), "T05swbreak:;thread:01;");
  e.hardware = true;
  EXPECT_EQ(s.StopReply(e), "T05hwbreak:;thread:01;");
  e = {};
  e.kind = StopEvent::Kind::kWatch;
  e.watch_addr = 0x80001180;
  EXPECT_EQ(s.StopReply(e), "T05thread:01;watch:80001180;");
  e.watch_type = BreakType::kRead;
  EXPECT_EQ(s.StopReply(e), "T05thread:01;rwatch:80001180;");
  e.watch_type = BreakType::kAccess;
  EXPECT_EQ(s.StopReply(e), "T05thread:01;awatch:80001180;");
  e = {};
  e.kind = StopEvent::Kind::kInterrupt;
  EXPECT_EQ(s.StopReply(e), "T02thread:01;");
  s.set_last_stop(e);
  EXPECT_EQ(Send(s, "?").text, "T02thread:01;");
  e.kind = StopEvent::Kind::kExited;
  e.exit_status = 3;
  EXPECT_EQ(s.StopReply(e), "W03");
}

}  // namespace
}  // namespace strobe::vmm::gdb
