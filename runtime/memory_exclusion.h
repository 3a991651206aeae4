// Memory the program excluded from its checkpoints (ckpt_exclude_memory / ckpt_include_memory,
// libckpt's user directives): scratch buffers it can rebuild. Their pages are not written; a
// restore gives zero pages there (docs/api.md, "Memory exclusion").
//
// The table is a set of disjoint page ranges in the runtime's own memory (so it is carried
// across a restore like any other state). Any thread may change it; the checkpoint handler
// (or the forked writer, in its copy) reads it without a lock: a change is made on the other
// of two copies and published with one atomic store, so the reader always sees a whole table.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "capture_set.h"

namespace ckpt::exclusion {

// Pages wholly inside [addr, addr + len) stop being saved (rounded inward: a partial page at
// either end holds bytes outside the range and is still saved). 0, or an errno: EINVAL (len
// 0 or the range wraps), ENOSPC (the table is full).
int exclude(uintptr_t addr, size_t len);
// Every page that [addr, addr + len) touches is saved again (rounded outward: every byte of the
// range is saved). 0, or ENOSPC (splitting a range needs a slot the table does not have).
int include(uintptr_t addr, size_t len);

// Removes the excluded pages from the runs of region `r`, which must be the last region scanned
// (its runs the last of set.runs). Only private anonymous memory: pages missing from a file
// mapping would come back from the file, and a shared mapping is written whole. Counts the
// pages in set.pages_excluded. False (err set) if the run table is full.
bool apply(CaptureSet &set, image::RegionRecord &r, CaptureError &err);

}  // namespace ckpt::exclusion
