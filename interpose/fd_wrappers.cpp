// Descriptor table changes that the per-descriptor cache must see: close, dup*, fcntl (F_DUPFD,
// F_SETFL), close_range, closefrom; lseek for descriptors written invisibly by stdio.
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, close, (int))
CKPT_REAL(int, dup, (int))
CKPT_REAL(int, dup2, (int, int))
CKPT_REAL(int, dup3, (int, int, int))
CKPT_REAL(int, fcntl, (int, int, ...))
CKPT_REAL(int, fcntl64, (int, int, ...))
CKPT_REAL(int, close_range, (unsigned, unsigned, int))
CKPT_REAL(void, closefrom, (int))
CKPT_REAL(off_t, lseek, (int, off_t, int))
CKPT_REAL(off64_t, lseek64, (int, off64_t, int))

namespace {

__attribute__((constructor(101))) void resolve_all()
{
    real_close(); real_dup(); real_dup2(); real_dup3(); real_fcntl(); real_fcntl64();
    real_close_range(); real_closefrom(); real_lseek(); real_lseek64();
}

void after_fcntl(int fd, int cmd, int r)
{
    if (r < 0 || !persist::enabled()) return;
    const int saved = errno;
    if (cmd == F_DUPFD || cmd == F_DUPFD_CLOEXEC) persist::fd_replaced(r);
    else if (cmd == F_SETFL) persist::fd_replaced(fd);
    errno = saved;
}

}  // namespace

CKPT_EXPORT int close(int fd)
{
    auto f = real_close();
    int r = f ? f(fd) : int(raw_result(sys_close(fd)));
    if (persist::enabled()) {
        const int saved = errno;
        persist::fd_closed(fd);
        errno = saved;
    }
    return r;
}

CKPT_EXPORT int dup(int fd)
{
    int r = real_dup()(fd);
    if (r >= 0 && persist::enabled()) {
        const int saved = errno;
        persist::fd_replaced(r);
        errno = saved;
    }
    return r;
}

CKPT_EXPORT int dup2(int old, int nfd)
{
    if (!persist::enabled()) return real_dup2()(old, nfd);
    persist::Section section;
    int r = real_dup2()(old, nfd);
    if (r >= 0) {
        const int saved = errno;
        persist::fd_replaced(nfd);
        errno = saved;
    }
    return r;
}

CKPT_EXPORT int dup3(int old, int nfd, int flags)
{
    if (!persist::enabled()) return real_dup3()(old, nfd, flags);
    persist::Section section;
    int r = real_dup3()(old, nfd, flags);
    if (r >= 0) {
        const int saved = errno;
        persist::fd_replaced(nfd);
        errno = saved;
    }
    return r;
}

CKPT_EXPORT int fcntl(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    auto f = real_fcntl();
    int r = f ? f(fd, cmd, arg) : int(raw_result(sys_fcntl(fd, cmd, long(arg))));
    after_fcntl(fd, cmd, r);
    return r;
}

CKPT_EXPORT int fcntl64(int fd, int cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    auto f = real_fcntl64();
    int r = f ? f(fd, cmd, arg) : int(raw_result(sys_fcntl(fd, cmd, long(arg))));
    after_fcntl(fd, cmd, r);
    return r;
}

CKPT_EXPORT int close_range(unsigned first, unsigned last, int flags)
{
    int r = real_close_range()(first, last, flags);
    if (r == 0 && persist::enabled() && !(flags & 4 /* CLOSE_RANGE_CLOEXEC */)) {
        const int saved = errno;
        persist::fds_closed(first, last);
        errno = saved;
    }
    return r;
}

CKPT_EXPORT void closefrom(int lowfd)
{
    real_closefrom()(lowfd);
    if (persist::enabled() && lowfd >= 0) {
        const int saved = errno;
        persist::fds_closed(unsigned(lowfd), ~0u);
        errno = saved;
    }
}

CKPT_EXPORT off_t lseek(int fd, off_t off, int whence)
{
    auto f = real_lseek();
    off_t r = f ? f(fd, off, whence) : off_t(raw_result(sys_lseek(fd, off, whence)));
    if (r >= 0 && persist::enabled()) {
        const int saved = errno;
        persist::stream_repositioned(fd);
        errno = saved;
    }
    return r;
}

CKPT_EXPORT off64_t lseek64(int fd, off64_t off, int whence)
{
    auto f = real_lseek64();
    off64_t r = f ? f(fd, off, whence) : off64_t(raw_result(sys_lseek(fd, off, whence)));
    if (r >= 0 && persist::enabled()) {
        const int saved = errno;
        persist::stream_repositioned(fd);
        errno = saved;
    }
    return r;
}
