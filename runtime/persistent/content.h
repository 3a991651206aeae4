// Recording what a change to an existing file destroys: its attributes (META, once per file
// per epoch) and its old bytes (DATA records of page-aligned ranges, each range once).
#pragma once

#include <fcntl.h>
#include <stdint.h>
#include <sys/stat.h>

#include "fd_cache.h"
#include "file_state.h"
#include "persist.h"

namespace ckpt::persist {

int record_meta(FileState *f, const char *path, uint16_t flags, const struct stat &st);

// A descriptor to read a file's old bytes from: the program's own if it is readable and not
// O_DIRECT (whose reads need aligned buffers, offsets and lengths), else a new one.
struct Source {
    int fd = -1;
    bool owned = false;
    ~Source();
};
int open_source_fd(int fd, Source &src);
// Opens `name` (a path or /proc/self/fd/N) read-only, for the old bytes. A regular file its
// owner made unreadable (mode 0200) is made readable by its owner for the moment of the open
// (chmod u+r, open, chmod back: its ctime changes, as the change about to be made changes it
// anyway). -errno when it cannot be read; the caller applies --on-undo-failure.
long open_for_reading(const char *name);
// Is the program's descriptor one to read the old bytes through (readable, not O_DIRECT)?
inline bool readable_flags(long fl) { return (fl & O_ACCMODE) != O_WRONLY && !(fl & O_DIRECT); }

// Saves the old bytes of [a, b) (page-aligned, clipped to the original size) that are not
// saved yet. `rfd` reads the file.
int save_range(FileState *f, int rfd, const char *path, uint16_t flags, uint64_t a, uint64_t b);

// Classification of a descriptor for the current epoch (once per descriptor per epoch).
// Fills `e`; when tracked, g_path holds its record path and `st` its attributes.
bool classify(int fd, FdEntry &e, struct stat &st, uint16_t &rflags);

// Protection of a descriptor whose writes are invisible: from the offset (Sequential), all
// (Whole), or only its size (Append), to the end.
int protect_fd(int fd, StreamKind kind, bool stdio = true);

// A path-based change to an existing object's attributes (or its size).
int path_meta(int dirfd, const char *path, bool follow, FileState **out_f, struct stat &st);

}  // namespace ckpt::persist
