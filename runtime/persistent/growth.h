// The program's own growth of each file it changes in the epoch, counted in JOB/grow-K.map
// (growth_format.h) so that the recovery can tell the program's appends from another
// process's. Counting is a memory store on the write path (no system call); the slow path
// gives a file its slot (at its META record) and maps the file.
//
// The count is an upper bound of what the program's calls added to the file's size: an append
// adds its length; a positioned write, a size change or an allocation adds what lies beyond a
// size the file is known to have at least (known_size, raised by every growth); a write at the
// descriptor's offset adds its length, unless the offset may lie beyond the end (the descriptor
// was repositioned, or the file was made shorter in the epoch): then the slow path asks for the
// offset. An upper bound never makes a recovery refuse wrongly; it can hide a foreign append
// only when the program's own writes overwrote instead of growing.
#pragma once

#include <stdint.h>

#include "file_state.h"

namespace ckpt::persist {

// META was written for a regular file of size `size` (slow path): it gets a slot.
void growth_track(FileState *f, uint64_t dev, uint64_t ino, uint64_t size);
// Written in ways no wrapper sees (stdio streams): its growth is not counted.
void growth_unknown(FileState *f);

// A write of `len` bytes through a descriptor (append: O_APPEND or RWF_APPEND; moved: it was
// repositioned since its last counted write), at `offset` (-1: the descriptor's own offset).
// Hot path; false when only the slow path can count it (grow_slow).
bool grow_fast(FileState *f, bool append, bool moved, int64_t offset, uint64_t len);
// The same on the slow path (may ask the descriptor's offset, map the file).
void grow_slow(int fd, FileState *f, bool append, int64_t offset, uint64_t len);
// The file's size is set to `size` (ftruncate, truncate) or grown by `by` (FALLOC_FL_INSERT_RANGE)
// or shrunk by `by` (FALLOC_FL_COLLAPSE_RANGE). Slow path.
void grow_resize(FileState *f, uint64_t size);
void grow_to(FileState *f, uint64_t end);  // an allocation that may extend the file to `end`
void grow_insert(FileState *f, uint64_t by);
void grow_collapse(FileState *f, uint64_t by);

// Before a checkpoint: the mapping is not the program's and must not be in the image.
void growth_unmap();
// A new epoch: no file has a slot.
void growth_reset();

}  // namespace ckpt::persist
