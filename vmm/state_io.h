// SPDX-License-Identifier: MIT
// The one serializer of VM state (snapshots, vmm/snapshot/): a StateIo either writes fields into a byte
// buffer or reads them back, so each device describes its state once, in one function that serves both
// directions (`void Device::State(StateIo& io)`, next to the device). Integers are little-endian. Reading
// never trusts the bytes: running past the end, a wrong section name or a value a device rejects (Check)
// fails the stream with a one-line reason, and every later read yields zeros, so a corrupt file can make a
// load fail but never crash it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace strobe::vmm {

class StateIo {
 public:
  // A writer, appending to its own buffer.
  StateIo() = default;
  // A reader over [data, data + size) (not copied: it must outlive the reader).
  StateIo(const uint8_t* data, size_t size) : loading_(true), in_(data), size_(size) {}

  bool loading() const { return loading_; }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }
  // Reader: fails the stream unless `good` (a device's range check); returns good.
  bool Check(bool good, const std::string& what);
  void Fail(const std::string& what);

  void Field(uint8_t& v) { Raw(&v, 1); }
  void Field(uint16_t& v) { Raw(&v, 2); }
  void Field(uint32_t& v) { Raw(&v, 4); }
  void Field(uint64_t& v) { Raw(&v, 8); }
  void Field(int32_t& v) { Raw(&v, 4); }
  void Field(int64_t& v) { Raw(&v, 8); }
  void Field(bool& v);
  void Field(char& v) { Raw(&v, 1); }
  template <class T, size_t N>
  void Field(T (&array)[N]) {
    for (T& x : array) Field(x);
  }
  // An enum or other small value stored as one byte; a value above max fails the stream.
  template <class E>
  void Enum(E& e, unsigned max) {
    uint8_t v = static_cast<uint8_t>(e);
    Field(v);
    if (loading_ && Check(v <= max, "enumeration out of range")) e = static_cast<E>(v);
  }
  // Variable-size data with a 32-bit length; a length above max fails the stream.
  void Bytes(std::vector<uint8_t>& v, size_t max);
  void String(std::string& s, size_t max);
  // Reader: the next `size` bytes in place (valid while the reader's data is), or null when truncated.
  const uint8_t* View(size_t size);
  // Fixed-size raw bytes (host byte order is the format's: little-endian hosts only).
  void Raw(void* data, size_t size);

  // A named part of the state with its length in front, so that a reader finds a wrong or misplaced part
  // by its name and a part that reads less or more than was written.
  void Section(const std::string& name, const std::function<void(StateIo&)>& body);

  // Writer: everything written so far. Reader: bytes not yet read.
  const std::vector<uint8_t>& buffer() const { return out_; }
  std::vector<uint8_t>& mutable_buffer() { return out_; }
  size_t remaining() const { return size_ - pos_; }
  size_t position() const { return loading_ ? pos_ : out_.size(); }

 private:
  bool loading_ = false;
  std::vector<uint8_t> out_;
  const uint8_t* in_ = nullptr;
  size_t size_ = 0, pos_ = 0;
  std::string error_;
};

// CRC-32 (IEEE 802.3, as zlib's crc32) of data, continuing from crc (0 to start).
uint32_t Crc32(const uint8_t* data, size_t size, uint32_t crc = 0);

}  // namespace strobe::vmm
