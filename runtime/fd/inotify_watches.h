// The paths of the program's inotify watches. The kernel shows a watch only as an inode
// (fdinfo: wd, ino, sdev); the path it was added by is what a restore needs, and only the
// program's own inotify_add_watch calls know it (interpose/inotify_wrappers.cpp records each).
// The table is the runtime's memory, so it comes back with the image.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::fd {

// After a successful inotify_add_watch: watch `wd` is on (dev, ino), added by `path`
// (absolute) with the look-up flags `add_flags` (IN_DONT_FOLLOW, IN_ONLYDIR). False when the
// table is full (a checkpoint of that watch is then refused).
bool note_inotify_watch(int wd, const char *path, size_t len, uint32_t add_flags, uint64_t dev, uint64_t ino);

// The path of watch `wd` on (dev, ino), the newest record first; null if none.
// Async-signal-safe (the checkpoint handler reads the table).
const char *inotify_watch_path(int wd, uint64_t dev, uint64_t ino, uint32_t &add_flags, uint32_t &len);

}  // namespace ckpt::fd
