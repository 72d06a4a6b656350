// SPDX-License-Identifier: MIT
#include "vmm/guest_memory.h"

#include <algorithm>
#include <cstring>

#include "runtime/runtime.h"
#include "vmm/block/backend.h"
#include "vmm/disk_pages.h"
#include "vmm/pmap.h"

namespace strobe::vmm {

namespace {
size_t InPage(uint32_t paddr, size_t length) {
  return std::min<size_t>(length, runtime::kPageSize - (paddr & ~runtime::kPageMask));
}
}  // namespace

bool GuestMemory::IsRam(uint32_t paddr, size_t length) const {
  if (length == 0) return true;
  if (static_cast<uint64_t>(paddr) + length > (uint64_t{1} << 32)) return false;
  while (length > 0) {
    if (!bus_.LookupRam(paddr).host) return false;
    const size_t n = InPage(paddr, length);
    paddr += static_cast<uint32_t>(n);
    length -= n;
  }
  return true;
}

bool GuestMemory::Read(uint32_t paddr, void* out, size_t length) const {
  if (!IsRam(paddr, length)) return false;
  auto* dst = static_cast<uint8_t*>(out);
  while (length > 0) {
    const size_t n = InPage(paddr, length);
    std::memcpy(dst, bus_.LookupRam(paddr).host + (paddr & ~runtime::kPageMask), n);
    dst += n;
    paddr += static_cast<uint32_t>(n);
    length -= n;
  }
  return true;
}

void GuestMemory::DropCode(uint32_t page) {
  runtime::CodePages& code = *cpu_.code_pages;
  if (!code.IsCode(page)) return;
  // As a store over decoded code (runtime/memory.cpp): the page's blocks and regions go, and the vCPU
  // leaves any block it may be in before running more of it. A DMA transfer covers whole sectors, so the
  // page is dropped whichever of its granules the bytes touch.
  code.Clear(page);
  if (code.observer) code.observer->InvalidateCodePage(page);
  cpu_.exit_request |= runtime::exitreq::kCodeChanged;
}

bool GuestMemory::MapDiskBlock(uint32_t page, const uint8_t* data, const block::BlockBackend& disk,
                               uint64_t disk_offset) {
  block::BlockOrigin origin;
  if (!disk.Origin(disk_offset, &origin)) return false;
  uint8_t* shared = disk_pages_->Acquire(origin, data);
  if (!shared) return false;
  DropCode(page);
  // The pmap tells the soft TLB: no cached host address or fast write path to the old page remains.
  pmap_->ShareMachinePage(page, shared);
  disk_pages_->monitor().Release(shared);  // the pmap holds its own reference now
  return true;
}

bool GuestMemory::WriteFromDisk(uint32_t paddr, const uint8_t* data, size_t length,
                                const block::BlockBackend& disk, uint64_t disk_offset) {
  if (!disk_pages_ || !pmap_) return Write(paddr, data, length);
  if (!IsRam(paddr, length)) return false;
  while (length > 0) {
    const size_t n = InPage(paddr, length);
    const bool mapped = n == runtime::kPageSize && MapDiskBlock(paddr, data, disk, disk_offset);
    if (!mapped && !Write(paddr, data, n)) return false;
    data += n;
    paddr += static_cast<uint32_t>(n);
    disk_offset += n;
    length -= n;
  }
  return true;
}

bool GuestMemory::Write(uint32_t paddr, const void* data, size_t length) {
  if (!IsRam(paddr, length)) return false;
  const auto* src = static_cast<const uint8_t*>(data);
  while (length > 0) {
    const size_t n = InPage(paddr, length);
    const uint32_t page = paddr & runtime::kPageMask;
    DropCode(page);
    runtime::RamPage ram = bus_.LookupRam(paddr);
    uint8_t* host = ram.host;
    if (ram.shared) {  // copy-on-write: this VM gets its own copy (the bus drops the old one's mappings)
      host = bus_.RamPageForWrite(paddr);
      if (!host) return false;
    }
    std::memcpy(host + (paddr & ~runtime::kPageMask), src, n);
    src += n;
    paddr += static_cast<uint32_t>(n);
    length -= n;
  }
  return true;
}

}  // namespace strobe::vmm
