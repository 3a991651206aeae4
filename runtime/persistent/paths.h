// Paths as the slow path needs them: absolute paths of (dirfd, path) and of descriptors, the
// record path of a file reached through a descriptor, and the exclusion test. The scratch
// buffers are used only under the slow path's lock, with signals blocked.
#pragma once

#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>

#include "file_state.h"
#include "pct_format.h"

namespace ckpt::persist {

constexpr size_t kPathBuf = pct::kMaxPath + 64;
extern char g_path[kPathBuf];
extern char g_path2[kPathBuf];
extern char g_norm[kPathBuf];
extern char g_tmp[kPathBuf];

// Absolute path of `path` relative to `dirfd` (kernel-accurate; not normalized). False if it
// cannot be known (or is too long).
bool absolute(int dirfd, const char *path, char *out, size_t cap);
// Is the absolute `abs` excluded (built-in exclusions and the rules)?
bool path_excluded(const char *abs);
// Current path of an open descriptor. Returns 1 = normal path in out, 2 = deleted file,
// 0 = unknown.
int fd_path(int fd, char *out, size_t cap);
// Record path of a file reached through a descriptor: its name, or, for a file removed in
// this epoch and kept as undo-K/<id>, that name (flag kPathInUndoDir). False: no record.
bool record_path_for_fd(int fd, const FileState *f, char *out, size_t cap, uint16_t &flags);
long lstat_at(int dirfd, const char *path, struct stat &st, bool follow = false);
// A path through a descriptor's magic link (/proc/self/fd/N, /proc/thread-self/fd/N,
// /proc/PID/fd/N, /dev/fd/N) names the file the descriptor refers to, not something in /proc:
// `abs` is replaced by that file's path when it has one. Only for calls that follow links
// (open, truncate, chmod...): unlink or rename of such a name act on /proc itself.
void resolve_fd_link(char *abs, size_t cap);

}  // namespace ckpt::persist
