// The --on-undo-failure policy: a recording error is reported once per file; with "fail" the
// change fails with that errno, with "proceed" it goes ahead, the file is marked unprotected
// (an Unprotected record tells the recovery) and nothing more is recorded for it this epoch.
#pragma once

#include "file_state.h"

namespace ckpt::persist {

void report_failure(const char *path, int err, bool proceeding);
// Applies the policy to a recording error. Returns what the wrapper must do (0: proceed).
int fail(int err, FileState *f, const char *path);
inline int on_failure_of(int err, const char *path) { return fail(err, nullptr, path); }

}  // namespace ckpt::persist
