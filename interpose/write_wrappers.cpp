// Content and size changes through a descriptor or a path: write/pwrite/writev/pwritev*,
// truncate/ftruncate, fallocate/posix_fallocate.
#include <fcntl.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <unistd.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(ssize_t, write, (int, const void *, size_t))
CKPT_REAL(ssize_t, pwrite, (int, const void *, size_t, off_t))
CKPT_REAL(ssize_t, pwrite64, (int, const void *, size_t, off64_t))
CKPT_REAL(ssize_t, writev, (int, const struct iovec *, int))
CKPT_REAL(ssize_t, pwritev, (int, const struct iovec *, int, off_t))
CKPT_REAL(ssize_t, pwritev64, (int, const struct iovec *, int, off64_t))
CKPT_REAL(ssize_t, pwritev2, (int, const struct iovec *, int, off_t, int))
CKPT_REAL(ssize_t, pwritev64v2, (int, const struct iovec *, int, off64_t, int))
CKPT_REAL(int, truncate, (const char *, off_t))
CKPT_REAL(int, truncate64, (const char *, off64_t))
CKPT_REAL(int, ftruncate, (int, off_t))
CKPT_REAL(int, ftruncate64, (int, off64_t))
CKPT_REAL(int, fallocate, (int, int, off_t, off_t))
CKPT_REAL(int, fallocate64, (int, int, off64_t, off64_t))
CKPT_REAL(int, posix_fallocate, (int, off_t, off_t))
CKPT_REAL(int, posix_fallocate64, (int, off64_t, off64_t))

namespace {

__attribute__((constructor(101))) void resolve_all()
{
    real_write(); real_pwrite(); real_pwrite64(); real_writev(); real_pwritev(); real_pwritev64();
    real_pwritev2(); real_pwritev64v2(); real_truncate(); real_truncate64(); real_ftruncate();
    real_ftruncate64(); real_fallocate(); real_fallocate64(); real_posix_fallocate();
    real_posix_fallocate64();
}

uint64_t iov_total(const struct iovec *iov, int n)
{
    uint64_t t = 0;
    for (int i = 0; i < n && iov; ++i) t += iov[i].iov_len;
    return t;
}

constexpr int kRwfAppend = 0x10;  // RWF_APPEND

}  // namespace

CKPT_EXPORT ssize_t write(int fd, const void *buf, size_t n)
{
    auto call = [&] {
        auto f = real_write();
        return f ? f(fd, buf, n) : ssize_t(raw_result(sys_write(fd, buf, n)));
    };
    CKPT_GUARDED(-1, persist::before_write(fd, -1, n), call());
}

CKPT_EXPORT ssize_t pwrite(int fd, const void *buf, size_t n, off_t off)
{
    auto call = [&] {
        auto f = real_pwrite();
        return f ? f(fd, buf, n, off) : ssize_t(raw_result(sys_pwrite(fd, buf, n, off)));
    };
    CKPT_GUARDED(-1, persist::before_write(fd, off, n), call());
}

CKPT_EXPORT ssize_t pwrite64(int fd, const void *buf, size_t n, off64_t off)
{
    auto call = [&] {
        auto f = real_pwrite64();
        return f ? f(fd, buf, n, off) : ssize_t(raw_result(sys_pwrite(fd, buf, n, off)));
    };
    CKPT_GUARDED(-1, persist::before_write(fd, off, n), call());
}

CKPT_EXPORT ssize_t writev(int fd, const struct iovec *iov, int cnt)
{
    auto call = [&] {
        auto f = real_writev();
        return f ? f(fd, iov, cnt) : ssize_t(raw_result(RAW3(SYS_writev, fd, iov, cnt)));
    };
    CKPT_GUARDED(-1, persist::before_write(fd, -1, iov_total(iov, cnt)), call());
}

CKPT_EXPORT ssize_t pwritev(int fd, const struct iovec *iov, int cnt, off_t off)
{
    CKPT_GUARDED(-1, persist::before_write(fd, off, iov_total(iov, cnt)), real_pwritev()(fd, iov, cnt, off));
}

CKPT_EXPORT ssize_t pwritev64(int fd, const struct iovec *iov, int cnt, off64_t off)
{
    CKPT_GUARDED(-1, persist::before_write(fd, off, iov_total(iov, cnt)), real_pwritev64()(fd, iov, cnt, off));
}

CKPT_EXPORT ssize_t pwritev2(int fd, const struct iovec *iov, int cnt, off_t off, int flags)
{
    CKPT_GUARDED(-1, persist::before_write(fd, off, iov_total(iov, cnt), flags & kRwfAppend),
                 real_pwritev2()(fd, iov, cnt, off, flags));
}

CKPT_EXPORT ssize_t pwritev64v2(int fd, const struct iovec *iov, int cnt, off64_t off, int flags)
{
    CKPT_GUARDED(-1, persist::before_write(fd, off, iov_total(iov, cnt), flags & kRwfAppend),
                 real_pwritev64v2()(fd, iov, cnt, off, flags));
}

CKPT_EXPORT int truncate(const char *path, off_t len)
{
    CKPT_GUARDED(-1, persist::before_truncate(path, len), real_truncate()(path, len));
}

CKPT_EXPORT int truncate64(const char *path, off64_t len)
{
    CKPT_GUARDED(-1, persist::before_truncate(path, len), real_truncate64()(path, len));
}

CKPT_EXPORT int ftruncate(int fd, off_t len)
{
    auto call = [&] {
        auto f = real_ftruncate();
        return f ? f(fd, len) : int(raw_result(sys_ftruncate(fd, len)));
    };
    CKPT_GUARDED(-1, persist::before_ftruncate(fd, len), call());
}

CKPT_EXPORT int ftruncate64(int fd, off64_t len)
{
    auto call = [&] {
        auto f = real_ftruncate64();
        return f ? f(fd, len) : int(raw_result(sys_ftruncate(fd, len)));
    };
    CKPT_GUARDED(-1, persist::before_ftruncate(fd, len), call());
}

CKPT_EXPORT int fallocate(int fd, int mode, off_t off, off_t len)
{
    CKPT_GUARDED(-1, persist::before_fallocate(fd, mode, off, len), real_fallocate()(fd, mode, off, len));
}

CKPT_EXPORT int fallocate64(int fd, int mode, off64_t off, off64_t len)
{
    CKPT_GUARDED(-1, persist::before_fallocate(fd, mode, off, len), real_fallocate64()(fd, mode, off, len));
}

// posix_fallocate returns the error number instead of setting errno.
CKPT_EXPORT int posix_fallocate(int fd, off_t off, off_t len)
{
    if (!persist::enabled()) return real_posix_fallocate()(fd, off, len);
    persist::Section section;
    if (int e = persist::before_fallocate(fd, 0, off, len)) return e;
    return real_posix_fallocate()(fd, off, len);
}

CKPT_EXPORT int posix_fallocate64(int fd, off64_t off, off64_t len)
{
    if (!persist::enabled()) return real_posix_fallocate64()(fd, off, len);
    persist::Section section;
    if (int e = persist::before_fallocate(fd, 0, off, len)) return e;
    return real_posix_fallocate64()(fd, off, len);
}
