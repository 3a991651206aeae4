// Descriptors whose writes the wrappers never see: stdio streams (glibc writes their buffers
// internally) and writable shared mappings. They are protected conservatively when they
// appear and again at the start of every epoch (protect_invisible_writers). The public entry
// points (stream_opened, after_shared_mmap, ...) are declared in persist.h.
#pragma once

#include <stddef.h>

namespace ckpt::persist {

void protect_invisible_writers();  // start of an epoch; under the slow guard
bool is_stream_fd(int fd);
// The program closed descriptors: their streams are no longer followed (under the guard).
void forget_streams(unsigned first, unsigned last);
// A writable shared mapping to protect at every epoch start (`recording` off: before the
// runtime started recording; its exclusions are checked when it is protected).
void remember_map(int fd, void *addr, size_t len, bool recording);

}  // namespace ckpt::persist
