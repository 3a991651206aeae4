// The program's own requests for durability: fsync, fdatasync, msync, sync_file_range,
// syncfs, sync. What they make durable may be a change whose undo record is still only in the
// page cache (without --sync-undo, records are synced at the next checkpoint); a crash right
// after would leave a durable change that recovery cannot undo. So the undo records (the
// epoch's log and undo-K/) are made durable first (persist::before_sync), then the call goes
// through. A failure to sync the undo data follows --on-undo-failure like any recording
// failure.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, fsync, (int))
CKPT_REAL(int, fdatasync, (int))
CKPT_REAL(int, msync, (void *, size_t, int))
CKPT_REAL(int, sync_file_range, (int, off64_t, off64_t, unsigned))
CKPT_REAL(int, syncfs, (int))
CKPT_REAL(void, sync, ())

namespace {
__attribute__((constructor(101))) void resolve_all()
{
    real_fsync(); real_fdatasync(); real_msync(); real_sync_file_range(); real_syncfs(); real_sync();
}

// The section covers the sync of the undo records only, not the program's own sync, which may
// take long: a checkpoint between the two is harmless (it syncs the epoch's log itself).
int undo_durable_first(int fd)
{
    if (!persist::enabled()) return 0;
    persist::Section section;
    return persist::before_sync(fd);
}
}  // namespace

#define CKPT_SYNC_FIRST(fd)                      \
    do {                                         \
        if (int e_ = undo_durable_first(fd)) {   \
            errno = e_;                          \
            return -1;                           \
        }                                        \
    } while (0)

CKPT_EXPORT int fsync(int fd)
{
    auto call = [&] {
        auto f = real_fsync();
        return f ? f(fd) : int(raw_result(sys_fsync(fd)));
    };
    CKPT_SYNC_FIRST(fd);
    return call();
}

CKPT_EXPORT int fdatasync(int fd)
{
    auto call = [&] {
        auto f = real_fdatasync();
        return f ? f(fd) : int(raw_result(sys_fdatasync(fd)));
    };
    CKPT_SYNC_FIRST(fd);
    return call();
}

CKPT_EXPORT int msync(void *addr, size_t len, int flags)
{
    // MS_ASYNC only schedules the write-back; it can still be durable before a lazy record.
    CKPT_SYNC_FIRST(-1);
    return real_msync()(addr, len, flags);
}

CKPT_EXPORT int sync_file_range(int fd, off64_t off, off64_t n, unsigned flags)
{
    CKPT_SYNC_FIRST(fd);
    return real_sync_file_range()(fd, off, n, flags);
}

CKPT_EXPORT int syncfs(int fd)
{
    CKPT_SYNC_FIRST(-1);
    return real_syncfs()(fd);
}

CKPT_EXPORT void sync()
{
    undo_durable_first(-1);  // sync() cannot fail: a failure is only reported
    real_sync()();
}
