// Open file descriptors: captured through the kind table (fd_kind.h) as one tagged record
// each, restored from them. Descriptors that share an open file description (dup, dup2) are
// recorded as such and restored as one open and dups, so that they share offset and flags.
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
// left open (except `keep_fd` and `keep_also`, -1 for none) and restores every record of the section (`n` records from
// `section`). Problems that do not stop the program are reported through `warn(text)`; a
// descriptor whose file was replaced since the checkpoint ends the process through
// `refuse(text)` (which does not return).
void restore_fds(const void *section, size_t n, const char *strings, int keep_fd, int keep_also,
                 void (*warn)(const char *text), void (*refuse)(const char *text));

namespace fd {

// What the memory capture makes of a MAP_SHARED mapping of an unnamed object (dev as
// /proc/self/maps shows it): ckpt's copy of a memfd's contents, a mapping of a memfd that the
// descriptor table holds (restored from that memfd: its pages are not saved twice), or
// neither. Refused: `refusal` says why. (kind_memfd.cpp)
enum class SharedMapping { Other, MemfdContents, MemfdMapping, Refused };
SharedMapping note_shared_mapping(uint32_t dev_major, uint32_t dev_minor, uint64_t ino, uint64_t start,
                                  uint64_t end, uint64_t offset, uint32_t prot, const char *&refusal);

// capture_fds starts a capture; end_fd_capture, once the image is written or given up,
// unmaps what the capture mapped (the memfd contents).
void begin_fd_capture();
void end_fd_capture();

}  // namespace fd

}  // namespace ckpt
