// Recording changes to names: an object about to lose its name is kept in undo-K/ (a hard
// link, else a copy) with a REMOVED record; a name about to be created gets a CREATE record.
#pragma once

#include <stdint.h>
#include <sys/stat.h>

namespace ckpt::persist {

// The object at `abs` (lstat `st`) is about to lose its name: record how to bring it back.
int record_removal(const char *abs, const struct stat &st);
// A name about to be created (a directory with pct::kDir): undo removes it. Takes the slow
// path itself.
int record_create(int dirfd, const char *path, uint32_t flags);

}  // namespace ckpt::persist
