// SPDX-License-Identifier: MIT
#include "vmm/devices/virtio_blk.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include "vmm/state_io.h"

namespace strobe::vmm {

namespace {
// Feature bits (5.2.3).
constexpr uint32_t kFSizeMax = 1u << 1, kFSegMax = 1u << 2, kFRo = 1u << 5, kFBlkSize = 1u << 6,
                   kFFlush = 1u << 9, kFConfigWce = 1u << 11, kFDiscard = 1u << 13, kFWriteZeroes = 1u << 14;
// Request types and status values (5.2.6).
constexpr uint32_t kTIn = 0, kTOut = 1, kTFlush = 4, kTGetId = 8, kTDiscard = 11, kTWriteZeroes = 13;
constexpr uint32_t kFlagUnmap = 1;           // WRITE_ZEROES: the space may be given back
constexpr uint32_t kRangeBytes = 16;         // DISCARD/WRITE_ZEROES: le64 sector, le32 sectors, le32 flags
constexpr uint32_t kTBarrier = 0x80000000u;  // legacy: a barrier flag some drivers set; ignored as QEMU does
constexpr uint8_t kSOk = 0, kSIoErr = 1, kSUnsupp = 2;
constexpr uint32_t kHeaderBytes = 16, kIdBytes = 20;
constexpr unsigned kMaxMergeSegments = 512;  // below IOV_MAX
// Configuration offsets.
constexpr uint32_t kCfgCapacity = 0x00, kCfgSizeMax = 0x08, kCfgSegMax = 0x0C, kCfgBlkSize = 0x14,
                   kCfgWriteback = 0x20, kCfgMaxDiscardSectors = 0x24, kCfgMaxDiscardSeg = 0x28,
                   kCfgDiscardAlignment = 0x2C, kCfgMaxZeroesSectors = 0x30, kCfgMaxZeroesSeg = 0x34,
                   kCfgZeroesMayUnmap = 0x38;
}  // namespace

VirtioBlk::VirtioBlk(const VirtioBlkConfig& config) : config_(config), wce_(config.write_cache) {}

uint32_t VirtioBlk::features() const {
  // Discards and zero writes as QEMU offers them, whatever discard= says (ignore makes discards succeed
  // without effect).
  uint32_t f = kFSizeMax | kFSegMax | kFBlkSize | kFFlush | kFConfigWce | kFDiscard | kFWriteZeroes;
  if (config_.backend->read_only()) f |= kFRo;
  return f;
}

void VirtioBlk::FeaturesAccepted(uint64_t features) {
  accepted_ = static_cast<uint32_t>(features);
}

uint8_t VirtioBlk::ReadConfigByte(uint32_t offset) {
  auto byte = [offset](uint64_t value, uint32_t base) {
    return static_cast<uint8_t>(value >> (8 * (offset - base)));
  };
  if (offset < kCfgSizeMax) return byte(config_.backend->size() / block::kSectorSize, kCfgCapacity);
  if (offset < kCfgSegMax) return byte(kSizeMax, kCfgSizeMax);
  if (offset < kCfgSegMax + 4) return byte(kSegMax, kCfgSegMax);
  if (offset >= kCfgBlkSize && offset < kCfgBlkSize + 4) return byte(block::kSectorSize, kCfgBlkSize);
  if (offset == kCfgWriteback) return wce_ ? 1 : 0;
  const auto word = [&](uint32_t base, uint32_t value) -> int {
    return offset >= base && offset < base + 4 ? byte(value, base) : -1;
  };
  for (const auto& [base, value] : {std::pair{kCfgMaxDiscardSectors, kMaxZeroSectors},
                                    {kCfgMaxDiscardSeg, 1u},
                                    {kCfgDiscardAlignment, 1u},
                                    {kCfgMaxZeroesSectors, kMaxZeroSectors},
                                    {kCfgMaxZeroesSeg, 1u}})
    if (const int b = word(base, value); b >= 0) return static_cast<uint8_t>(b);
  if (offset == kCfgZeroesMayUnmap) return 1;
  return 0;  // geometry, topology, num_queues: not offered
}

void VirtioBlk::WriteConfigByte(uint32_t offset, uint8_t value) {
  if (offset == kCfgWriteback && (accepted_ & kFConfigWce)) wce_ = value != 0;
}

void VirtioBlk::Reset() {
  ++generation_;
  accepted_ = 0;
  wce_ = config_.write_cache;
}

bool VirtioBlk::Parse(const VirtqChain& chain, Request* req, std::string* error) const {
  if (chain.readable < kHeaderBytes) {
    *error = "a virtio-blk request without its 16-byte header";
    return false;
  }
  if (chain.writable < 1) {
    *error = "a virtio-blk request without a status byte";
    return false;
  }
  req->head = chain.head;
  // The header is the first 16 readable bytes, wherever the buffers split them; the readable bytes after
  // it are write data. The status is the last writable byte; the writable bytes before it are read data.
  uint8_t header[kHeaderBytes];
  uint32_t got = 0;
  uint64_t writable_left = chain.writable - 1;
  std::vector<Segment> out_data, in_data;
  for (const VirtqBuffer& b : chain.buffers) {
    if (!b.device_writable) {
      const uint32_t n = std::min(b.len, kHeaderBytes - got);
      if (n) transport_->memory().Read(b.addr, header + got, n);
      got += n;
      if (n < b.len) out_data.push_back({b.addr + n, b.len - n});
      continue;
    }
    const uint32_t n = static_cast<uint32_t>(std::min<uint64_t>(b.len, writable_left));
    if (n) in_data.push_back({b.addr, n});
    writable_left -= n;
    if (n < b.len) req->status_addr = b.addr + n;  // the status byte ends the chain
  }
  std::memcpy(&req->type, header, 4);
  std::memcpy(&req->sector, header + 8, 8);
  req->type &= ~kTBarrier;
  const bool zeroing = req->type == kTDiscard || req->type == kTWriteZeroes;
  if (zeroing && chain.readable < kHeaderBytes + kRangeBytes) {
    *error = "a virtio-blk discard or write-zeroes request without its 16-byte range";
    return false;
  }
  if (req->type == kTOut || zeroing) {
    req->data = std::move(out_data);
    req->data_len = chain.readable - kHeaderBytes;
  } else {
    req->data = std::move(in_data);
    req->data_len = chain.writable - 1;
  }
  return true;
}

void VirtioBlk::QueueNotify(unsigned q) {
  Virtqueue& vq = transport_->queue(q);
  std::vector<Request> batch;
  for (;;) {
    VirtqChain chain;
    std::string error;
    const Virtqueue::Pop pop = vq.Next(&chain, &error);
    if (pop == Virtqueue::Pop::kEmpty) break;
    Request req;
    if (pop == Virtqueue::Pop::kBroken || !Parse(chain, &req, &error)) {
      transport_->DeviceError(error);
      return;  // the requests taken so far are dropped with the device
    }
    ++guest_requests_;
    batch.push_back(std::move(req));
  }

  // Answer what needs no disk, and group reads and writes that continue each other.
  std::vector<Request> group;
  uint64_t group_bytes = 0;
  auto flush_group = [&] {
    if (!group.empty()) SubmitGroup(std::move(group));
    group.clear();
    group_bytes = 0;
  };
  const uint64_t sectors = config_.backend->size() / block::kSectorSize;
  for (Request& req : batch) {
    switch (req.type) {
      case kTIn:
      case kTOut: {
        const uint64_t n = req.data_len / block::kSectorSize;
        if (req.data_len % block::kSectorSize || req.data_len > kMaxRequestBytes || req.sector > sectors ||
            n > sectors - req.sector) {
          flush_group();
          Finish(req, kSIoErr, 0);
          break;
        }
        if (!group.empty()) {
          const Request& last = group.back();
          const bool follows =
              last.type == req.type && last.sector + last.data_len / block::kSectorSize == req.sector;
          if (!follows || group_bytes + req.data_len > kMaxMergeBytes || group.size() >= kMaxMergeSegments)
            flush_group();
        }
        group_bytes += req.data_len;
        group.push_back(std::move(req));
        break;
      }
      case kTFlush:
        flush_group();
        SubmitFlush(std::move(req));
        break;
      case kTDiscard:
      case kTWriteZeroes:
        flush_group();
        SubmitZeroing(std::move(req));
        break;
      case kTGetId: {
        flush_group();
        uint8_t id[kIdBytes] = {};
        std::memcpy(id, config_.serial.data(), std::min<size_t>(config_.serial.size(), kIdBytes));
        uint32_t done = 0;
        for (const Segment& s : req.data) {
          if (done == kIdBytes) break;
          const uint32_t n = std::min(s.len, kIdBytes - done);
          transport_->memory().Write(s.addr, id + done, n);
          done += n;
        }
        Finish(req, kSOk, done);
        break;
      }
      default:
        flush_group();
        Finish(req, kSUnsupp, 0);
        break;
    }
  }
  flush_group();
  transport_->QueueUsed(q);
}

void VirtioBlk::Finish(Request& req, uint8_t status, uint32_t written) {
  transport_->memory().Write(req.status_addr, &status, 1);
  transport_->queue(0).Push(req.head, written + 1);
}

void VirtioBlk::SubmitGroup(std::vector<Request> group) {
  const bool is_write = group.front().type == kTOut;
  block::BlockRequest request;
  request.op = is_write ? block::BlockRequest::Op::kWrite : block::BlockRequest::Op::kRead;
  request.offset = group.front().sector * block::kSectorSize;
  for (Request& r : group) {
    r.bounce = std::make_shared<std::vector<uint8_t>>(r.data_len);
    if (is_write) {  // gather now: the data as the guest handed it over
      size_t off = 0;
      for (const Segment& s : r.data) {
        transport_->memory().Read(s.addr, r.bounce->data() + off, s.len);
        off += s.len;
      }
    }
    if (r.data_len) request.segments.push_back({r.bounce->data(), r.data_len});
  }
  ++host_requests_;
  auto shared = std::make_shared<std::vector<Request>>(std::move(group));
  const uint64_t generation = generation_;
  auto finish = [this, shared, generation, is_write](int err) {
    if (generation_ != generation) return;  // the device was reset meanwhile
    for (Request& r : *shared) {
      uint32_t written = 0;
      if (!err && !is_write) {
        size_t off = 0;
        for (const Segment& s : r.data) {
          transport_->memory().WriteFromDisk(s.addr, r.bounce->data() + off, s.len, *config_.backend,
                                             r.sector * block::kSectorSize + off);
          off += s.len;
        }
        written = static_cast<uint32_t>(r.data_len);
      }
      Finish(r, err ? kSIoErr : kSOk, written);
    }
    transport_->QueueUsed(0);
  };
  Submit(std::move(request), std::move(finish), is_write);
}

void VirtioBlk::Submit(block::BlockRequest request, std::function<void(int)> finish, bool changes) {
  request.done = std::move(finish);
  // What the request changes reaches stable storage before the guest sees it complete.
  if (changes && WriteThrough()) {
    config_.queue->SubmitAndFlush(std::move(request));
  } else {
    config_.queue->Submit(std::move(request));
  }
}

void VirtioBlk::SubmitFlush(Request req) {
  block::BlockRequest flush;
  flush.op = block::BlockRequest::Op::kFlush;
  const uint64_t generation = generation_;
  auto shared = std::make_shared<Request>(std::move(req));
  flush.done = [this, shared, generation](int err) {
    if (generation_ != generation) return;
    Finish(*shared, err ? kSIoErr : kSOk, 0);
    transport_->QueueUsed(0);
  };
  ++host_requests_;
  config_.queue->Submit(std::move(flush));
}

void VirtioBlk::SubmitZeroing(Request req) {
  if (req.data_len > kRangeBytes) {  // several ranges: QEMU takes one (the configuration says so)
    Finish(req, kSUnsupp, 0);
    transport_->QueueUsed(0);
    return;
  }
  uint8_t range[kRangeBytes];
  uint32_t got = 0;
  for (const Segment& s : req.data) {
    const uint32_t n = std::min(s.len, kRangeBytes - got);
    transport_->memory().Read(s.addr, range + got, n);
    got += n;
    if (got == kRangeBytes) break;
  }
  uint64_t sector;
  uint32_t count, flags;
  std::memcpy(&sector, range, 8);
  std::memcpy(&count, range + 8, 4);
  std::memcpy(&flags, range + 12, 4);
  const bool zeroes = req.type == kTWriteZeroes;
  const uint64_t sectors = config_.backend->size() / block::kSectorSize;
  // QEMU's order: the length, the range, unknown flags, and UNMAP on a discard.
  uint8_t status = kSOk;
  if (count > kMaxZeroSectors || sector > sectors || count > sectors - sector) {
    status = kSIoErr;
  } else if ((flags & ~kFlagUnmap) || (!zeroes && (flags & kFlagUnmap))) {
    status = kSUnsupp;
  }
  if (status != kSOk) {
    Finish(req, status, 0);
    transport_->QueueUsed(0);
    return;
  }
  block::BlockRequest request;
  request.op = zeroes ? block::BlockRequest::Op::kWriteZeroes : block::BlockRequest::Op::kDiscard;
  request.offset = sector * block::kSectorSize;
  request.length = uint64_t{count} * block::kSectorSize;
  request.may_unmap = flags & kFlagUnmap;
  ++host_requests_;
  auto shared = std::make_shared<Request>(std::move(req));
  const uint64_t generation = generation_;
  auto finish = [this, shared, generation](int err) {
    if (generation_ != generation) return;
    Finish(*shared, err ? kSIoErr : kSOk, 0);
    transport_->QueueUsed(0);
  };
  Submit(std::move(request), std::move(finish), /*changes=*/true);
}

void VirtioBlk::State(StateIo& io) {
  io.Field(accepted_);
  io.Field(wce_);
  io.Field(host_requests_);
  io.Field(guest_requests_);
  if (io.loading()) ++generation_;  // nothing of the other timeline may complete here
}

}  // namespace strobe::vmm
