// The process as a whole: its memory-descriptor layout, threads and children, cwd, exe, and
// the glibc thread-descriptor details that a restore must fix up.
#pragma once

#include "capture_set.h"

namespace ckpt {

// Fills process.mm, exe, cwd, cmdline, umask; fails if the process has more than one thread
// or has children (not supported yet).
CaptureError capture_process(CaptureSet &set);

// Offset of glibc's cached thread id inside the thread control block, or 0 if it cannot be
// found unambiguously. Computed once at start-up.
uint32_t find_tid_offset();

// Reads a whole /proc file into buf (NUL-terminated). Returns its length or -errno.
long read_proc_file(const char *path, char *buf, size_t cap);

}  // namespace ckpt
