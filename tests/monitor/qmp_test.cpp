// SPDX-License-Identifier: MIT
// QMP and its JSON against a fake machine: the greeting, negotiation, replies with their id, QEMU 7.2's
// error classes and messages (checked against qemu-system-mipsel -qmp), the stream splitter, and
// malformed, huge and hostile input.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>

#include <random>
#include <vector>

#include "tests/monitor/fake_machine.h"
#include "tests/vmm/test_board.h"
#include "vmm/monitor/json.h"
#include "vmm/monitor/qmp.h"
#include "vmm/monitor/terminal.h"

namespace strobe::test {
namespace {

using vmm::mon::Json;
using vmm::mon::JsonStream;
using vmm::mon::ParseJson;
using vmm::mon::QmpSession;

std::string Roundtrip(const std::string& text) {
  Json v;
  std::string error;
  if (!ParseJson(text, &v, &error)) return "error: " + error;
  return v.Dump();
}

TEST(Json, ParsesAndEmitsWithQemusSpacing) {
  EXPECT_EQ(Roundtrip(R"( {"a":1,"b":[true,false,null],"c":{"d":"x"}} )"),
            R"({"a": 1, "b": [true, false, null], "c": {"d": "x"}})");
  EXPECT_EQ(Roundtrip(R"("\u00e9\ud83d\ude00\n\"\\\/")"), "\"\xc3\xa9\xf0\x9f\x98\x80\\n\\\"\\\\/\"");
  EXPECT_EQ(Roundtrip("-1.5e3"), "-1500");
  EXPECT_EQ(Roundtrip("0.25"), "0.25");
  EXPECT_EQ(Roundtrip("[]"), "[]");
  EXPECT_EQ(Json(std::string("\x01")).Dump(), "\"\\u0001\"");
}

TEST(Json, RefusesWhatIsNotJson) {
  for (const char* bad :
       {"",      "{",       "}",         "{\"a\"}",     "{\"a\":}",    "{\"a\":1,}",  "[1,]",
        "[1 2]", "tru",     "nul",       "01",          "1.",          "-",           "1e",
        "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\ud800\"", "\"\\udc00\"", "{\"a\":1} x", "\"a\tb\"",
        "{1:2}", "'a'",     "[1]]"})
    EXPECT_EQ(Roundtrip(bad).rfind("error: ", 0), 0u) << bad;
  // Deep nesting is refused, not recursed into until the stack ends.
  EXPECT_NE(Roundtrip(std::string(100000, '[') + std::string(100000, ']')).find("nested too deeply"),
            std::string::npos);
  EXPECT_EQ(Roundtrip(std::string(60, '[') + std::string(60, ']')).size(), 120u);
}

TEST(Json, RandomBytesNeverCrash) {
  std::mt19937 rng(15);
  const std::string alphabet = "{}[]\":,\\ tfnule0123456789.-+Ex\x01\xff";
  for (int i = 0; i < 20000; ++i) {
    std::string s(rng() % 40, ' ');
    for (char& c : s) c = alphabet[rng() % alphabet.size()];
    Json v;
    std::string error;
    if (ParseJson(s, &v, &error)) {
      std::string again;
      EXPECT_TRUE(ParseJson(v.Dump(), &v, &again)) << s;  // what parses, dumps to something that parses
    }
  }
}

TEST(JsonStream, SplitsObjectsAcrossReadsAndLines) {
  JsonStream stream;
  std::vector<std::string> texts;
  const std::string in = "{\"execute\":\n \"stop\"}{\"a\":\"}{\"}  [1,[2]]\r\n\"str\"\n42\n";
  for (char c : in) stream.Feed(&c, 1, &texts);  // one byte at a time
  ASSERT_EQ(texts.size(), 5u);
  EXPECT_EQ(texts[0], "{\"execute\":\n \"stop\"}");
  EXPECT_EQ(texts[1], "{\"a\":\"}{\"}");  // braces inside strings do not count
  EXPECT_EQ(texts[2], "[1,[2]]");
  EXPECT_EQ(texts[3], "\"str\"\n");
  EXPECT_EQ(texts[4], "42\n");
  // An endless object is dropped once it passes the limit, reported as one empty text.
  texts.clear();
  const std::string big = "{\"a\":\"" + std::string(JsonStream::kMaxText + 10, 'x') + "\"}";
  stream.Feed(big.data(), big.size(), &texts);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0], "");
  texts.clear();
  stream.Feed("{}", 2, &texts);  // and the stream goes on
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_EQ(texts[0], "{}");
}

TEST(Qmp, GreetingNegotiationAndQueryStatus) {
  FakeMachine m;
  QmpSession qmp(m);
  const std::string greeting = qmp.Greeting();
  EXPECT_EQ(greeting.rfind("{\"QMP\": {\"version\": {\"qemu\": {\"micro\": ", 0), 0u) << greeting;
  EXPECT_NE(greeting.find("\"package\": \"Strobe "), std::string::npos);
  EXPECT_NE(greeting.find("\"capabilities\": []}}"), std::string::npos);
  // Nothing before qmp_capabilities, as QEMU.
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"query-status"})"),
      R"({"error": {"class": "CommandNotFound", "desc": "Expecting capabilities negotiation with 'qmp_capabilities'"}})");
  EXPECT_EQ(m.stops, 0);
  EXPECT_EQ(qmp.Handle(R"({"execute":"stop"})").find("CommandNotFound") != std::string::npos, true);
  EXPECT_EQ(m.stops, 0);
  EXPECT_EQ(qmp.Handle(R"({"execute":"qmp_capabilities","id":7})"), R"({"return": {}, "id": 7})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"qmp_capabilities"})"),
      R"({"error": {"class": "CommandNotFound", "desc": "Capabilities negotiation is already complete, command ignored"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-status","id":"a"})"),
            R"({"return": {"status": "running", "singlestep": false, "running": true}, "id": "a"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"stop"})"), R"({"return": {}})");
  EXPECT_EQ(m.stops, 1);
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-status"})"),
            R"({"return": {"status": "paused", "singlestep": false, "running": false}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"cont","id":{"x":[1]}})"), R"({"return": {}, "id": {"x": [1]}})");
  EXPECT_EQ(m.conts, 1);
  qmp.Handle(R"({"execute":"system_powerdown"})");
  qmp.Handle(R"({"execute":"system_reset"})");
  EXPECT_EQ(m.powerdowns, 1);
  EXPECT_EQ(m.resets, 1);
  EXPECT_FALSE(qmp.quit_pending());
  EXPECT_EQ(qmp.Handle(R"({"execute":"quit"})"), R"({"return": {}})");
  EXPECT_TRUE(qmp.quit_pending());
  EXPECT_EQ(m.quits, 0);  // the caller quits once the reply is out
}

TEST(Qmp, HumanMonitorCommand) {
  FakeMachine m;
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"human-monitor-command","arguments":{"command-line":"info status"}})"),
            R"({"return": "VM status: running\r\n"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"human-monitor-command","arguments":{"command-line":"foo"},"id":3})"),
            R"({"return": "unknown command: 'foo'\r\n", "id": 3})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"human-monitor-command","arguments":{"command-line":"x /1xw 0x80001000"}})"),
      R"({"return": "80001000: 0x160f0801\r\n"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"human-monitor-command"})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'command-line' is missing"}})");
  EXPECT_NE(qmp.Handle(R"({"execute":"human-monitor-command","arguments":{"command-line":5}})")
                .find("GenericError"),
            std::string::npos);
  EXPECT_EQ(qmp.Handle(R"({"execute":"human-monitor-command","arguments":{"command-line":"quit"}})"),
            R"({"return": ""})");
  EXPECT_TRUE(qmp.quit_pending());
}

// The queries management tools ask first, with QEMU 7.2's members (checked against qemu-system-mipsel).
TEST(Qmp, TargetKvmCpusMachinesAndUuid) {
  FakeMachine m;
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-target"})"), R"({"return": {"arch": "mipsel"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-kvm"})"), R"({"return": {"enabled": false, "present": false}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-cpus-fast"})"),
            R"({"return": [{"thread-id": 4321, "qom-path": "/machine/unattached/device[1]", "cpu-index": 0, )"
            R"("target": "mipsel"}]})");
  EXPECT_NE(qmp.Handle(R"({"execute":"query-machines"})").find(R"("name": "malta")"), std::string::npos);
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-uuid"})"),
            R"({"return": {"UUID": "00000000-0000-0000-0000-000000000000"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-name"})"), R"({"return": {}})");
  m.name = "myvm";
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-name"})"), R"({"return": {"name": "myvm"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-kvm","arguments":{"x":1}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}})");
}

// memsave and pmemsave: QEMU's arguments (val, size, filename), their types, and the bytes in the file.
TEST(Qmp, MemsaveAndPmemsave) {
  FakeMachine m;
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  const std::string file = ::testing::TempDir() + "strobe_qmp_memsave_" + std::to_string(getpid()) + ".bin";
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"pmemsave","arguments":{"val":4096,"size":4,"filename":")" + file + R"("}})"),
      R"({"return": {}})");
  std::ifstream f(file, std::ios::binary);
  EXPECT_EQ(std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>()),
            std::string("\x01\x08\x0f\x16", 4));
  EXPECT_EQ(qmp.Handle(R"({"execute":"memsave","arguments":{"val":2147487744,"size":4,"filename":")" + file +
                       R"(","cpu-index":0}})"),
            R"({"return": {}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"memsave","arguments":{"val":0,"size":4,"filename":")" + file + R"("}})"),
      R"({"error": {"class": "GenericError", "desc": "Invalid addr 0x0000000000000000/size 4 specified"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"pmemsave","arguments":{"val":0,"size":4}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'filename' is missing"}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"pmemsave","arguments":{"val":"0","size":4,"filename":"x"}})"),
      R"({"error": {"class": "GenericError", "desc": "Invalid parameter type for 'val', expected: integer"}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"pmemsave","arguments":{"val":0,"size":4,"filename":"x","cpu-index":0}})"),
      R"({"error": {"class": "GenericError", "desc": "Parameter 'cpu-index' is unexpected"}})");
  unlink(file.c_str());
}

// The media commands' schema (types, required and unexpected members, device or id) before the machine;
// query-block's members.
TEST(Qmp, MediaCommandsAndQueryBlock) {
  MediaMachine m;
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"eject","arguments":{"device":"ide1-cd0","force":true}})"),
            R"({"return": {}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"blockdev-open-tray","arguments":{"id":"/machine/piix4-ide/ide.1/unit.0"}})"),
      R"({"return": {}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"blockdev-close-tray","arguments":{"device":"ide1-cd0"}})"),
            R"({"return": {}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"blockdev-change-medium","arguments":{"device":"ide1-cd0",)"
                       R"("filename":"/discs/b.iso","format":"raw","read-only-mode":"retain"}})"),
            R"({"return": {}})");
  EXPECT_EQ(m.calls, (std::vector<std::string>{"eject ide1-cd0 force", "open /machine/piix4-ide/ide.1/unit.0",
                                               "close ide1-cd0", "change ide1-cd0 /discs/b.iso raw"}));
  const std::string need =
      R"({"error": {"class": "GenericError", "desc": "Need exactly one of 'device' and 'id'"}})";
  EXPECT_EQ(qmp.Handle(R"({"execute":"eject","arguments":{}})"), need);
  EXPECT_EQ(qmp.Handle(R"({"execute":"eject","arguments":{"device":"a","id":"b"}})"), need);
  EXPECT_EQ(qmp.Handle(R"({"execute":"blockdev-change-medium","arguments":{"device":"ide1-cd0"}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'filename' is missing"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"blockdev-change-medium","arguments":{"filename":"/x.iso"}})"), need);
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"blockdev-change-medium","arguments":{"device":"ide1-cd0",)"
                 R"("filename":"/x.iso","read-only-mode":"bogus"}})"),
      R"({"error": {"class": "GenericError", "desc": "Parameter 'read-only-mode' does not accept value 'bogus'"}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"eject","arguments":{"device":"ide1-cd0","force":"yes"}})"),
      R"({"error": {"class": "GenericError", "desc": "Invalid parameter type for 'force', expected: boolean"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"blockdev-close-tray","arguments":{"device":"ide1-cd0","force":true}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'force' is unexpected"}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"eject","arguments":{"device":7}})"),
      R"({"error": {"class": "GenericError", "desc": "Invalid parameter type for 'device', expected: string"}})");
  EXPECT_EQ(m.calls.size(), 4u);
  EXPECT_EQ(qmp.Handle(R"({"execute":"eject","arguments":{"device":"locked-cd"}})"),
            R"({"error": {"class": "GenericError", "desc": "Device 'locked-cd' is locked"}})");
  const std::string blocks = qmp.Handle(R"({"execute":"query-block"})");
  const std::string head =
      R"({"return": [{"io-status": "ok", "device": "ide1-cd0", "locked": false, "removable": true, "inserted": )"
      R"({"detect_zeroes": "off", "image": {"virtual-size": 614400, "filename": "/discs/a.iso", "format": )"
      R"("raw"}, "ro": true, "backing_f)";
  EXPECT_EQ(blocks.substr(0, head.size()), head);
  EXPECT_NE(
      blocks.find(R"("qdev": "/machine/piix4-ide/ide.1/unit.0", "tray_open": false, "type": "unknown"})"),
      std::string::npos);
  EXPECT_NE(
      blocks.find(R"({"io-status": "ok", "device": "ide1-cd1", "locked": false, "removable": true, "qdev": )"
                  R"("/machine/piix4-ide/ide.1/unit.1", "tray_open": true, "type": "unknown"})"),
      std::string::npos);
  EXPECT_NE(blocks.find(R"("removable": false, "inserted")"), std::string::npos);  // the disk: no tray
  EXPECT_NE(
      blocks.find(R"({"detect_zeroes": "unmap", "image": {"virtual-size": 1048576, "filename": )"
                  R"("/disks/root.qcow2", "format": )"
                  R"("qcow2", "backing-filename": "/disks/base.img"}, "ro": false, "backing_file_depth": 1, )"
                  R"("drv": "qcow2")"),
      std::string::npos)
      << blocks;
  EXPECT_NE(blocks.find(R"("file": "/disks/root.qcow2", "backing_file": "/disks/base.img"})"),
            std::string::npos)
      << blocks;
}

// query-pci of the Malta board as qemu-system-mipsel 7.2 -M malta -S answers it, member order included (its
// USB function, which Strobe's board lacks, left out); an id= given to a function is its qdev_id; a BAR
// placed by the OS shows its address.
TEST(Qmp, BalloonAsQemu) {
  FakeMachine none;
  QmpSession plain(none);
  plain.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(plain.Handle(R"({"execute":"query-balloon"})"),
            R"({"error": {"class": "DeviceNotActive", "desc": "No balloon device has been activated"}})");
  EXPECT_EQ(plain.Handle(R"({"execute":"balloon","arguments":{"value":0}})"),
            R"({"error": {"class": "DeviceNotActive", "desc": "No balloon device has been activated"}})");
  BalloonMachine m;
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-balloon"})"), R"({"return": {"actual": 268435456}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"balloon","arguments":{"value":134217728}})"), R"({"return": {}})");
  EXPECT_EQ(m.target, 128ull << 20);
  EXPECT_EQ(qmp.Handle(R"({"execute":"balloon","arguments":{"value":0}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'target' expects a size"}})");
  EXPECT_NE(qmp.Handle(R"({"execute":"balloon"})").find("GenericError"), std::string::npos);
}

TEST(Qmp, QueryPciAsQemu) {
  TestBoard board;
  PciMachine m;
  m.functions = board.board.pci().Info();
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"query-pci"})"),
      R"({"return": [{"bus": 0, "devices": [)"
      R"({"irq_pin": 1, "bus": 0, "qdev_id": "", "irq": 0, "slot": 0, "class_info": {"class": 1536, "desc": )"
      R"("Host bridge"}, "id": {"device": 17952, "subsystem-vendor": 6900, "vendor": 4523, "subsystem": 4352}, )"
      R"("function": 0, "regions": []}, )"
      R"({"irq_pin": 0, "bus": 0, "qdev_id": "", "slot": 10, "class_info": {"class": 1537, "desc": "ISA )"
      R"(bridge"}, "id": {"device": 28944, "subsystem-vendor": 6900, "vendor": 32902, "subsystem": 4352}, )"
      R"("function": 0, "regions": []}, )"
      R"({"irq_pin": 0, "bus": 0, "qdev_id": "", "slot": 10, "class_info": {"class": 257, "desc": "IDE )"
      R"(controller"}, "id": {"device": 28945, "subsystem-vendor": 6900, "vendor": 32902, "subsystem": 4352}, )"
      R"("function": 1, "regions": [{"bar": 4, "size": 16, "address": -1, "type": "io"}]}, )"
      R"({"irq_pin": 1, "bus": 0, "qdev_id": "", "irq": 0, "slot": 10, "class_info": {"class": 1664, "desc": )"
      R"("Bridge"}, "id": {"device": 28947, "subsystem-vendor": 6900, "vendor": 32902, "subsystem": 4352}, )"
      R"("function": 3, "regions": []}]}]})");
  m.functions[2].id = "ide";
  m.functions[2].bars[0].mapped = true;
  m.functions[2].bars[0].address = 0x1040;
  m.functions[2].bars.push_back({.index = 1, .io = false, .wide = false, .prefetchable = true, .size = 4096});
  const std::string moved = qmp.Handle(R"({"execute":"query-pci"})");
  EXPECT_NE(moved.find(R"("qdev_id": "ide", "slot": 10)"), std::string::npos) << moved;
  EXPECT_NE(
      moved.find(R"("regions": [{"bar": 4, "size": 16, "address": 4160, "type": "io"}, {"prefetch": true, )"
                 R"("mem_type_64": false, "bar": 1, "size": 4096, "address": -1, "type": "memory"}])"),
      std::string::npos)
      << moved;
}

TEST(Qmp, MalformedInputGetsQemusErrors) {
  FakeMachine m;
  QmpSession qmp(m);
  qmp.Handle(R"({"execute":"qmp_capabilities"})");
  EXPECT_EQ(qmp.Handle(R"({"execute": })")
                .rfind(R"({"error": {"class": "GenericError", "desc": "JSON parse error, )", 0),
            0u);
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"nosuch","id":1})"),
      R"({"id": 1, "error": {"class": "CommandNotFound", "desc": "The command nosuch has not been found"}})");
  EXPECT_EQ(qmp.Handle(R"({"foo":1})"),
            R"({"error": {"class": "GenericError", "desc": "QMP input member 'foo' is unexpected"}})");
  EXPECT_EQ(qmp.Handle("[1]"),
            R"({"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}})");
  EXPECT_EQ(qmp.Handle("\"str\"\n"),
            R"({"error": {"class": "GenericError", "desc": "QMP input must be a JSON object"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":1})"),
            R"({"error": {"class": "GenericError", "desc": "QMP input member 'execute' must be a string"}})");
  EXPECT_EQ(qmp.Handle(R"({"id":2})"),
            R"({"id": 2, "error": {"class": "GenericError", "desc": "QMP input lacks member 'execute'"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"stop","arguments":{"x":1}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}})");
  EXPECT_EQ(
      qmp.Handle(R"({"execute":"stop","arguments":[]})"),
      R"({"error": {"class": "GenericError", "desc": "QMP input member 'arguments' must be an object"}})");
  EXPECT_EQ(m.stops, 0);
  EXPECT_NE(qmp.Handle("").find("input too large"), std::string::npos);
  // Still serving after all that.
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-status"})").rfind("{\"return\": {\"status\": \"running\"", 0),
            0u);
}

TEST(QmpTerminal, RepliesPerTextAndQuitsBeforeTheReply) {
  FakeMachine m;
  std::string out;
  std::vector<int> quits_at_write;
  vmm::mon::QmpTerminal term(m, [&](const std::string& s) {
    quits_at_write.push_back(m.quits);
    out += s;
  });
  term.Open();
  EXPECT_EQ(out.back(), '\n');
  out.clear();
  quits_at_write.clear();
  const std::string in =
      "{\"execute\":\"qmp_capabilities\"}{\"execute\":\"query-status\"}\n{\"execute\":\"quit\"}"
      "{\"execute\":\"query-status\"}";
  term.Feed(in.data(), in.size());
  // Nothing after quit is answered.
  EXPECT_EQ(out,
            "{\"return\": {}}\r\n{\"return\": {\"status\": \"running\", \"singlestep\": false, \"running\": "
            "true}}\r\n{\"return\": {}}\r\n");
  EXPECT_EQ(m.quits, 1);
  // QEMU 7.2 sends the SHUTDOWN event (MachineControl::Quit emits it) before quit's reply: the machine
  // was told to quit before the third reply was written, not before the first two.
  EXPECT_EQ(quits_at_write, (std::vector<int>{0, 0, 1}));
  // The same for HMP's quit through human-monitor-command (QEMU's reply is "").
  FakeMachine m2;
  std::vector<int> at2;
  std::string out2;
  vmm::mon::QmpTerminal term2(m2, [&](const std::string& s) {
    at2.push_back(m2.quits);
    out2 += s;
  });
  const std::string in2 =
      "{\"execute\":\"qmp_capabilities\"}"
      "{\"execute\":\"human-monitor-command\",\"arguments\":{\"command-line\":\"quit\"}}";
  term2.Feed(in2.data(), in2.size());
  EXPECT_EQ(out2, "{\"return\": {}}\r\n{\"return\": \"\"}\r\n");
  EXPECT_EQ(at2, (std::vector<int>{0, 1}));
}

// snapshot-save/-load/-delete as QEMU 7.2's jobs: created and running before the reply, the end after
// it; concluded jobs stay (with their error) until job-dismiss; QEMU's argument errors.
TEST(QmpTerminal, SnapshotJobs) {
  SnapshotMachine m;
  const std::string save =
      R"({"execute":"snapshot-save","arguments":{"job-id":"j1","tag":"t1","vmstate":"disk0","devices":["disk0"]}})";
  // Replies and events in the order they left (events reach the clients through the machine, as
  // VmControl's sink does).
  std::vector<std::string> order;
  vmm::mon::QmpTerminal ordered(m, [&](const std::string& s) {
    order.insert(order.end(), m.events.begin(), m.events.end());
    m.events.clear();
    order.push_back("reply " + s.substr(0, s.size() - 2));
  });
  const std::string neg = "{\"execute\":\"qmp_capabilities\"}";
  ordered.Feed(neg.data(), neg.size());
  order.clear();
  ordered.Feed(save.data(), save.size());
  order.insert(order.end(), m.events.begin(), m.events.end());
  m.events.clear();
  auto change = [](const char* status, const char* id) {
    return std::string("JOB_STATUS_CHANGE {\"status\": \"") + status + "\", \"id\": \"" + id + "\"}";
  };
  EXPECT_EQ(order, (std::vector<std::string>{change("created", "j1"), change("running", "j1"),
                                             "reply {\"return\": {}}", change("waiting", "j1"),
                                             change("pending", "j1"), change("concluded", "j1")}));
  EXPECT_EQ(m.calls, std::vector<std::string>{"save t1"});
  // A load that fails: aborting, concluded, and the error in query-jobs.
  order.clear();
  const std::string load =
      R"({"execute":"snapshot-load","arguments":{"job-id":"j2","tag":"t2","vmstate":"disk0","devices":[]}})";
  ordered.Feed(load.data(), load.size());
  order.insert(order.end(), m.events.begin(), m.events.end());
  m.events.clear();
  EXPECT_EQ(order, (std::vector<std::string>{change("created", "j2"), change("running", "j2"),
                                             "reply {\"return\": {}}", change("aborting", "j2"),
                                             change("concluded", "j2")}));
  order.clear();
  const std::string query = R"({"execute":"query-jobs"})";
  ordered.Feed(query.data(), query.size());
  EXPECT_EQ(order,
            (std::vector<std::string>{
                R"(reply {"return": [{"current-progress": 1, "status": "concluded", "total-progress": 1, )"
                R"("type": "snapshot-load", "id": "j2", "error": "Snapshot 't2' does not exist"}, )"
                R"({"current-progress": 1, "status": "concluded", "total-progress": 1, "type": )"
                R"("snapshot-save", "id": "j1"}]})"}));
  // Ids stay taken until job-dismiss, which sends "null" before its reply.
  order.clear();
  ordered.Feed(save.data(), save.size());
  EXPECT_EQ(order,
            (std::vector<std::string>{
                R"(reply {"error": {"class": "GenericError", "desc": "Job ID 'j1' already in use"}})"}));
  order.clear();
  const std::string dismiss = R"({"execute":"job-dismiss","arguments":{"id":"j1"}})";
  ordered.Feed(dismiss.data(), dismiss.size());
  EXPECT_EQ(order, (std::vector<std::string>{change("null", "j1"), "reply {\"return\": {}}"}));
  order.clear();
  ordered.Feed(dismiss.data(), dismiss.size());
  EXPECT_EQ(
      order,
      (std::vector<std::string>{R"(reply {"error": {"class": "GenericError", "desc": "Job not found"}})"}));
  // snapshot-delete takes no vmstate.
  order.clear();
  const std::string del =
      R"({"execute":"snapshot-delete","arguments":{"job-id":"j3","tag":"t1","devices":["d"]}})";
  ordered.Feed(del.data(), del.size());
  order.insert(order.end(), m.events.begin(), m.events.end());
  m.events.clear();
  EXPECT_EQ(order.size(), 6u);  // created, running, the reply, waiting, pending, concluded
  EXPECT_EQ(m.calls, (std::vector<std::string>{"save t1", "load t2", "del t1"}));
  // QEMU's argument errors; no job is made.
  vmm::mon::QmpSession qmp(m);
  qmp.Handle("{\"execute\":\"qmp_capabilities\"}");
  const std::pair<const char*, const char*> bad[] = {
      {R"({"tag":"t","vmstate":"v","devices":[]})", "Parameter 'job-id' is missing"},
      {R"({"job-id":"x","tag":5,"vmstate":"v","devices":[]})",
       "Invalid parameter type for 'tag', expected: string"},
      {R"({"job-id":"x","tag":"t","devices":[]})", "Parameter 'vmstate' is missing"},
      {R"({"job-id":"x","tag":"t","vmstate":"v"})", "Parameter 'devices' is missing"},
      {R"({"job-id":"x","tag":"t","vmstate":"v","devices":"d"})",
       "Invalid parameter type for 'devices', expected: array"},
      {R"({"job-id":"x","tag":"t","vmstate":"v","devices":[1]})",
       "Invalid parameter type for 'devices[0]', expected: string"},
      {R"({"job-id":"x","tag":"t","vmstate":"v","devices":[],"bogus":1})", "Parameter 'bogus' is unexpected"},
  };
  for (const auto& [args, desc] : bad)
    EXPECT_EQ(qmp.Handle(std::string(R"({"execute":"snapshot-save","arguments":)") + args + "}"),
              std::string(R"({"error": {"class": "GenericError", "desc": ")") + desc + "\"}}")
        << args;
  EXPECT_EQ(qmp.Handle(R"({"execute":"job-dismiss","arguments":{}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'id' is missing"}})");
  EXPECT_EQ(qmp.Handle(R"({"execute":"query-jobs","arguments":{"x":1}})"),
            R"({"error": {"class": "GenericError", "desc": "Parameter 'x' is unexpected"}})");
  EXPECT_EQ(m.calls.size(), 3u);
}

TEST(QmpEvent, HasATimestamp) {
  Json data = Json::Object();
  data.Set("guest", false);
  const std::string e = vmm::mon::QmpEvent("SHUTDOWN", &data);
  EXPECT_EQ(e.rfind("{\"timestamp\": {\"seconds\": ", 0), 0u) << e;
  EXPECT_NE(e.find("\"microseconds\": "), std::string::npos);
  EXPECT_NE(e.find("\"event\": \"SHUTDOWN\", \"data\": {\"guest\": false}}"), std::string::npos) << e;
}

}  // namespace
}  // namespace strobe::test
