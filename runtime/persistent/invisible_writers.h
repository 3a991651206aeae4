// Descriptors whose writes the wrappers never see: stdio streams (glibc writes their buffers
// internally) and writable shared mappings. They are protected conservatively when they
// appear and again at the start of every epoch (protect_invisible_writers). The public entry
// points (stream_opened, after_shared_mmap, ...) are declared in persist.h.
#pragma once

namespace ckpt::persist {

void protect_invisible_writers();  // start of an epoch; under the slow guard
bool is_stream_fd(int fd);
// The program closed descriptors: their streams are no longer followed (under the guard).
void forget_streams(unsigned first, unsigned last);

}  // namespace ckpt::persist
