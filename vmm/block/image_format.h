// SPDX-License-Identifier: MIT
// Image formats other than raw, recognised by their magic numbers. As QEMU does when no format= is given,
// an image is probed before it is used: a qcow2 file is opened as one (qcow2_image.h), a VMDK, VDI, ... file
// is refused with a message that says how to convert it, rather than shown to the guest as a disk full of
// metadata. With format=raw given, no probing: the bytes are the disk, whatever they look like.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace strobe::vmm::block {

// The bytes of an image's start that probing looks at (every magic lies within them).
inline constexpr size_t kProbeBytes = 512;

// The name of the format whose header `head` (the first `length` bytes of an image, fewer if the image is
// shorter) starts, as QEMU spells it ("qcow2", "vmdk", ...); nullptr for anything else, which is raw.
const char* ProbeFormat(const uint8_t* head, size_t length);

// ProbeFormat of a regular file's first bytes; nullptr for raw and for a file that cannot be read (whose
// opening then says why).
const char* ProbeFile(const std::string& path);

// Whether `name` is a format QEMU knows and Strobe does not read (format=vmdk and the like; raw and qcow2 are
// read).
bool IsKnownOtherFormat(const std::string& name);

// The advice for an image in another format: how to make a raw image of it.
std::string ConvertAdvice(const std::string& format, const std::string& path);

}  // namespace strobe::vmm::block
