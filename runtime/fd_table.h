// Open file descriptors: captured as (fd, path, flags, offset, cloexec) and reopened after a
// restore. Standard streams that are terminals or pipes are rebound to those of the launcher
// that restarts the program; regular files are files like any other.
#pragma once

#include "capture_set.h"

namespace ckpt {

// At library start in standalone mode: remembers the descriptors above 2 that the program
// inherited and that cannot be reopened by path (pipes, sockets, other kernel objects,
// deleted files), so that a checkpoint saves them as inherited instead of refusing.
void record_inherited_fds();

// `internal_fds` (count n) are the runtime's own and are not captured.
CaptureError capture_fds(CaptureSet &set, const int *internal_fds, int n_internal);

// Post-restore, in the checkpoint handler of the restored process: closes what the restorer
// left open (except `keep_fd`) and reopens every captured descriptor. Problems that do not
// stop the program are reported through `warn(text)`.
void restore_fds(const image::FdRecord *fds, size_t n, const char *strings, int keep_fd,
                 void (*warn)(const char *text));

}  // namespace ckpt
