// Whether a file in a job directory may be believed. ckpt's own files there (images, PCT logs,
// recovery progress files, undo directories) are made by the user who runs the job, owner-only.
// Anything else was put there by someone else (or loosened since): an image is code that runs
// as whoever restores it, and a log tells recovery which files to rewrite, so such a file is
// refused, never read. The check is made on the opened descriptor (fstat), so that what is
// checked is what is read.
#pragma once

#include <string>

namespace ckpt {

enum class TrustKind { File, Directory };

// True if `fd` is a regular file (a directory for TrustKind::Directory) owned by the effective
// user with mode exactly 0600 (0700 for a directory). Otherwise false, with `why` naming `path`,
// its owner and its mode.
bool trusted_own_file(int fd, const std::string &path, std::string &why, TrustKind kind = TrustKind::File);

}  // namespace ckpt
