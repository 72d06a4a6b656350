// SPDX-License-Identifier: MIT
#include "vmm/block/image_format.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

namespace strobe::vmm::block {

namespace {
bool StartsWith(const uint8_t* head, size_t length, const char* magic, size_t magic_length) {
  return length >= magic_length && std::memcmp(head, magic, magic_length) == 0;
}

uint32_t BigEndian32(const uint8_t* p) {
  return uint32_t{p[0]} << 24 | uint32_t{p[1]} << 16 | uint32_t{p[2]} << 8 | p[3];
}

uint32_t LittleEndian32(const uint8_t* p) {
  return uint32_t{p[3]} << 24 | uint32_t{p[2]} << 16 | uint32_t{p[1]} << 8 | p[0];
}

struct Magic {
  const char* format;
  const char* bytes;
  size_t length;
};
constexpr Magic kMagics[] = {
    {"qed", "QED\0", 4},
    {"vmdk", "KDMV", 4},                    // hosted sparse extent
    {"vmdk", "COWD", 4},                    // ESX sparse extent
    {"vmdk", "# Disk DescriptorFile", 21},  // text descriptor
    {"vhdx", "vhdxfile", 8},
    {"vpc", "conectix", 8},  // a dynamic VHD carries its footer's copy at the start
    {"luks", "LUKS\xba\xbe", 6},
    {"parallels", "WithoutFreeSpace", 16},
    {"parallels", "WithouFreSpacExt", 16},
    {"bochs", "Bochs Virtual HD Image", 22},
    {"cloop", "#!/bin/sh\n#V2.0 Format\n", 23},
};
constexpr const char* kOtherFormats[] = {"qcow", "qed",       "vmdk",  "vhdx",  "vpc", "vdi",
                                         "luks", "parallels", "bochs", "cloop", "dmg", "vvfat"};
}  // namespace

const char* ProbeFormat(const uint8_t* head, size_t length) {
  if (StartsWith(head, length, "QFI\xfb", 4)) {
    // QEMU copy-on-write: a big-endian version follows the magic (1: qcow, 2 and 3: qcow2).
    return length >= 8 && BigEndian32(head + 4) == 1 ? "qcow" : "qcow2";
  }
  for (const Magic& m : kMagics)
    if (StartsWith(head, length, m.bytes, m.length)) return m.format;
  // VirtualBox: a text banner, then the signature 0xBEDA107F (little-endian) at offset 0x40.
  if (length >= 0x44 && LittleEndian32(head + 0x40) == 0xBEDA107Fu) return "vdi";
  return nullptr;
}

const char* ProbeFile(const std::string& path) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0) return nullptr;
  struct stat st;
  uint8_t head[kProbeBytes];
  ssize_t n = -1;
  if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) n = pread(fd, head, sizeof head, 0);
  close(fd);
  return n > 0 ? ProbeFormat(head, static_cast<size_t>(n)) : nullptr;
}

bool IsKnownOtherFormat(const std::string& name) {
  for (const char* f : kOtherFormats)
    if (name == f) return true;
  return false;
}

std::string ConvertAdvice(const std::string& format, const std::string& path) {
  return "Strobe reads raw and qcow2 images only: convert it with qemu-img convert -f " + format +
         " -O raw " + path + " disk.img";
}

}  // namespace strobe::vmm::block
