// Appends by other processes (launcher side): before the undo truncates a file back to its size
// at the checkpoint, its growth since is compared with what the program's own calls added
// (counted by the runtime in grow-K.map, growth_format.h). A file that grew by more was
// extended by someone else too, and truncating it would silently lose those bytes.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "pct_reader.h"

namespace ckpt::persist {

struct ForeignGrowth {
    std::string path;
    uint64_t dev = 0, ino = 0;
    uint64_t epoch = 0;      // the oldest epoch undone that changed it
    uint64_t size_then = 0;  // its size at that epoch's first change (what the undo truncates to)
    uint64_t own = 0;        // at most this much of its growth is the program's
    uint64_t size_now = 0;

    uint64_t foreign() const { return size_now - size_then - own; }
    std::string describe() const;  // "PATH: N bytes at ..., M now, at most K of them the program's"
};

// The files of `job_dir` that an undo to `version` would truncate although another process
// extended them: every regular file with a META record in an epoch >= version (not yet undone,
// not skipped: skip(log, record)) whose current size exceeds its size at the oldest such
// record plus the program's counted growth in all of those epochs. A file is not compared when
// a count is missing (no map, a map of another log instance or not yours, no slot for one of
// its records, growth not counted: stdio) or when it is not found at a path its records name.
std::vector<ForeignGrowth> find_foreign_growth(const std::string &job_dir, uint64_t version,
                                               const std::function<bool(const PctLog &, const PctRecord &)> &skip);

}  // namespace ckpt::persist
