// In-kernel copies into a file: copy_file_range, sendfile.
#include <sys/sendfile.h>
#include <unistd.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(ssize_t, copy_file_range, (int, off64_t *, int, off64_t *, size_t, unsigned))
CKPT_REAL(ssize_t, sendfile, (int, int, off_t *, size_t))
CKPT_REAL(ssize_t, sendfile64, (int, int, off64_t *, size_t))

namespace {
__attribute__((constructor(101))) void resolve_all() { real_copy_file_range(); real_sendfile(); real_sendfile64(); }
}  // namespace

CKPT_EXPORT ssize_t copy_file_range(int in, off64_t *off_in, int out, off64_t *off_out, size_t len, unsigned flags)
{
    CKPT_GUARDED(-1, persist::before_write(out, off_out ? *off_out : -1, len),
                 real_copy_file_range()(in, off_in, out, off_out, len, flags));
}

CKPT_EXPORT ssize_t sendfile(int out, int in, off_t *off, size_t count)
{
    CKPT_GUARDED(-1, persist::before_write(out, -1, count), real_sendfile()(out, in, off, count));
}

CKPT_EXPORT ssize_t sendfile64(int out, int in, off64_t *off, size_t count)
{
    CKPT_GUARDED(-1, persist::before_write(out, -1, count), real_sendfile64()(out, in, off, count));
}
