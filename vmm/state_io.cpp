// SPDX-License-Identifier: MIT
#include "vmm/state_io.h"

#include <array>
#include <cstring>

namespace strobe::vmm {

bool StateIo::Check(bool good, const std::string& what) {
  if (!good && loading_) Fail(what);
  return good;
}

void StateIo::Fail(const std::string& what) {
  if (error_.empty()) error_ = what;
}

void StateIo::Raw(void* data, size_t size) {
  if (!loading_) {
    const uint8_t* p = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), p, p + size);
    return;
  }
  if (!ok() || size > size_ - pos_) {
    Fail("truncated");
    std::memset(data, 0, size);
    return;
  }
  std::memcpy(data, in_ + pos_, size);
  pos_ += size;
}

const uint8_t* StateIo::View(size_t size) {
  if (!ok() || size > size_ - pos_) {
    Fail("truncated");
    return nullptr;
  }
  pos_ += size;
  return in_ + pos_ - size;
}

void StateIo::Field(bool& v) {
  uint8_t b = v ? 1 : 0;
  Field(b);
  if (loading_) v = Check(b <= 1, "a flag is neither 0 nor 1") && b == 1;
}

void StateIo::Bytes(std::vector<uint8_t>& v, size_t max) {
  uint32_t n = static_cast<uint32_t>(v.size());
  Field(n);
  if (!loading_) {
    Raw(v.data(), v.size());
    return;
  }
  if (!Check(n <= max && n <= remaining(), "a length is out of range")) return v.clear();
  v.assign(in_ + pos_, in_ + pos_ + n);
  pos_ += n;
}

void StateIo::String(std::string& s, size_t max) {
  std::vector<uint8_t> bytes(s.begin(), s.end());
  Bytes(bytes, max);
  if (loading_) s.assign(bytes.begin(), bytes.end());
}

void StateIo::Section(const std::string& name, const std::function<void(StateIo&)>& body) {
  if (!ok()) return;
  std::string got = name;
  String(got, 64);
  uint64_t length = 0;
  if (!loading_) {
    const size_t at = out_.size();
    Field(length);
    body(*this);
    length = out_.size() - at - 8;
    std::memcpy(&out_[at], &length, 8);
    return;
  }
  Field(length);
  if (!ok()) return Fail("'" + name + "': truncated");
  if (got != name) return Fail("'" + got + "' found where '" + name + "' belongs");
  if (length > remaining()) return Fail("'" + name + "': truncated");
  StateIo part(in_ + pos_, static_cast<size_t>(length));
  body(part);
  if (part.ok() && part.remaining() != 0) part.Fail(std::to_string(part.remaining()) + " bytes left over");
  if (!part.ok()) return Fail("'" + name + "': " + part.error());
  pos_ += static_cast<size_t>(length);
}

namespace {
std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
}  // namespace

uint32_t Crc32(const uint8_t* data, size_t size, uint32_t crc) {
  static const std::array<uint32_t, 256> table = MakeCrcTable();
  crc = ~crc;
  for (size_t i = 0; i < size; ++i) crc = table[(crc ^ data[i]) & 0xFF] ^ (crc >> 8);
  return ~crc;
}

}  // namespace strobe::vmm
