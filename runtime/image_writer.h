// Writes a CaptureSet as checkpoint image version N of a job directory and commits it
// atomically: temp name, fsync, rename, fsync of the directory. Runs in the checkpoint handler.
#pragma once

#include "capture_set.h"

namespace ckpt {

// File name of version N: "ckpt-000042.img".
void image_file_name(uint64_t version, char *out, size_t cap);

// Highest committed version in the job directory (0 if none), or -errno.
int64_t latest_version(int dirfd, char *scratch, size_t scratch_size);

struct WriteResult {
    uint64_t bytes = 0;
    // The image was renamed into place (committed) but syncing the directory failed: the
    // name may or may not survive a crash. errno, 0 if it was synced.
    int dir_sync_err = 0;
};

// Writes the image of `set` as `version` into `dirfd`. On failure nothing is left behind and
// the versions already there are untouched.
CaptureError write_image(CaptureSet &set, int dirfd, uint64_t version, WriteResult &result);

}  // namespace ckpt
