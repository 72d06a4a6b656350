// SPDX-License-Identifier: MIT
#include "vmm/monitor/memsave.h"

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <memory>

namespace strobe::vmm::mon {

std::string SaveMemory(MachineControl& machine, bool physical, uint64_t addr, uint64_t size,
                       const std::string& file) {
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> f(std::fopen(file.c_str(), "wb"), &std::fclose);
  if (!f) return "Could not open '" + file + "': " + std::strerror(errno);
  auto invalid = [&] {
    char line[96];
    std::snprintf(line, sizeof line, "Invalid addr 0x%016" PRIx64 "/size %" PRIu64 " specified", addr, size);
    return std::string(line);
  };
  uint8_t buf[4096];
  for (uint64_t done = 0; done < size;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(sizeof buf, size - done));
    const uint64_t at = addr + done;
    if (!physical && (at > UINT32_MAX || at + n - 1 > UINT32_MAX)) return invalid();
    const size_t got =
        physical ? machine.ReadPhysical(at, buf, n) : machine.ReadVirtual(static_cast<uint32_t>(at), buf, n);
    if (got != n) return invalid();
    if (std::fwrite(buf, 1, n, f.get()) != n)
      return "Could not write '" + file + "': " + std::strerror(errno);
    done += n;
  }
  if (std::fflush(f.get()) != 0) return "Could not write '" + file + "': " + std::strerror(errno);
  return "";
}

}  // namespace strobe::vmm::mon
