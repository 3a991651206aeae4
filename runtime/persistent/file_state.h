// Per-file state of the current epoch: what is saved of each file (dev, inode) that was
// changed, as an interval set over its original size. Lives in an arena that every new epoch
// resets (reset_files).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::persist {

enum FileFlags : uint32_t {
    kMetaDone = 1,      // META record written (old size/mode/owner/times)
    kAllCovered = 2,    // nothing more to record for content changes
    kCreated = 4,       // created in this epoch: undo deletes it
    kUnprotected = 8,   // recording failed and the change went ahead (on-undo-failure=proceed)
    kReported = 16,     // a recording failure was reported
    kShrunk = 32,       // made shorter in the epoch: a descriptor's offset may lie beyond its end (growth.h)
};

struct Interval {
    uint64_t start, end;
};

struct FileState {
    uint64_t dev, ino;
    uint64_t orig_size;
    uint32_t flags;
    uint32_t n_iv, cap_iv;
    Interval *iv;
    uint64_t undo_id;  // removed in this epoch and kept as undo-K/<id> (a hard link)
    uint32_t grow_slot;  // its slot in grow-K.map + 1 (growth.h); 0: none, its growth is not counted
};

FileState *find_state(uint64_t dev, uint64_t ino);
FileState *get_state(uint64_t dev, uint64_t ino);  // creates it; null when out of memory
void reset_files();                                 // a new epoch: nothing is known

// Index of the last interval with start <= x, or -1.
long iv_find(const FileState *f, uint64_t x);
// Is [a, b) inside the saved ranges (or outside the original size, where nothing needs saving)?
bool covered(const FileState *f, uint64_t a, uint64_t b);
// Adds [a, b) to the saved ranges. False when out of memory.
bool iv_insert(FileState *f, uint64_t a, uint64_t b);

}  // namespace ckpt::persist
