// The process as a whole: its memory-descriptor layout, threads and children, cwd, exe, and
// the glibc thread-descriptor details that a restore must fix up.
#pragma once

#include "capture_set.h"
#include "sys/proc_file.h"

namespace ckpt {

// Fills process.mm, exe, cwd, cmdline, umask; fails if the process has more than one thread
// or has children (not supported yet).
CaptureError capture_process(CaptureSet &set);

// Offset of glibc's cached thread id inside the thread control block, or 0 if it cannot be
// found unambiguously. Computed once at start-up.
uint32_t find_tid_offset();

}  // namespace ckpt
