// The world an image was taken in and can only be restored into: the kernel release, the
// vdso's bytes, the CPU's XSAVE features and CPUID feature bits, the glibc build. Capture and
// check side by side (image_format.h, WorldRecord).
//
// capture() runs at library start (libc allowed there) into the runtime's state, from which
// the checkpoint handler copies it into every image; check() runs in ckpt-run and ckpt-restore
// before anything is torn down.
#pragma once

#include <string>

#include "image_format.h"

namespace ckpt::world {

// This process's world, as an image records it.
void capture(image::WorldRecord &out);

// The rseq registration length to use with the kernel: AT_RSEQ_FEATURE_SIZE rounded up to
// AT_RSEQ_ALIGN, never below the original 32-byte ABI (and 32 when the kernel does not say).
uint32_t rseq_length();

// Empty if `recorded` is this world (or one the image can run in); else one message naming
// every difference.
std::string check(const image::WorldRecord &recorded);

// For ckptctl inspect: "CPUID 7.0 ebx" and so on, for the index of WorldRecord::cpuid.
const char *cpuid_word_name(unsigned i);

}  // namespace ckpt::world
