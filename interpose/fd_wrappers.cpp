// Descriptor table changes that the per-descriptor cache must see: close, dup*, fcntl (F_DUPFD,
// F_SETFL), close_range, closefrom; lseek for descriptors written invisibly by stdio.
//
// ckpt's own descriptors in the program (the launcher's status socket and the job's lock,
// runtime_state.h) are invisible to the close family: close() of their number is EBADF, as
// for a number not open; closefrom()/close_range() leave them; dup2()/dup3() onto one first
// move ckpt's descriptor to a free number above (runtime/internal_fds.h), then proceed.
#include <fcntl.h>
#include <stdarg.h>
#include <unistd.h>

#include "real.h"
#include "../runtime/internal_fds.h"

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

namespace {

// close_range(first, last) without ckpt's descriptors, piece by piece; the per-descriptor
// cache learns of each piece closed (not of ckpt's own, which stay open).
int close_piece(unsigned from, unsigned to, int flags)
{
    const int r = real_close_range()(from, to, flags);
    if (r == 0 && !(flags & 4 /* CLOSE_RANGE_CLOEXEC */)) {
        const int saved = errno;
        if (persist::enabled()) persist::fds_closed(from, to);
        else persist::streams_closed_while_off(from, to);
        errno = saved;
    }
    return r;
}

int close_around(unsigned first, unsigned last, int flags)
{
    int keep[internal_fds::kMaxInternal];
    const int n = internal_fds::sorted(keep);
    unsigned from = first;
    for (int i = 0; i < n; ++i) {
        const unsigned k = unsigned(keep[i]);
        if (k < from || k > last) continue;
        if (k > from) {
            const int r = close_piece(from, k - 1, flags);
            if (r != 0) return r;
        }
        from = k + 1;
        if (from == 0) return 0;  // k was ~0u
    }
    if (from > last) return 0;
    return close_piece(from, last, flags);
}

}  // namespace

CKPT_EXPORT int close(int fd)
{
    if (internal_fds::is_internal(fd)) {
        errno = EBADF;
        return -1;
    }
    auto f = real_close();
    int r = f ? f(fd) : int(raw_result(sys_close(fd)));
    const int saved = errno;
    if (persist::enabled()) persist::fd_closed(fd);
    else if (fd >= 0) persist::streams_closed_while_off(unsigned(fd), unsigned(fd));
    errno = saved;
    return r;
}

CKPT_EXPORT int dup(int fd)
{
    if (internal_fds::is_internal(fd)) {
        errno = EBADF;
        return -1;
    }
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
    if (internal_fds::is_internal(old)) {
        errno = EBADF;
        return -1;
    }
    if (internal_fds::is_internal(nfd) && !(internal_fds::is_launchers(nfd) && internal_fds::move_away(nfd))) {
        errno = EBUSY;  // no free number to move it to (the kernel's own answer to a race)
        return -1;
    }
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
    if (internal_fds::is_internal(old)) {
        errno = EBADF;
        return -1;
    }
    if (internal_fds::is_internal(nfd) && old != nfd &&
        !(internal_fds::is_launchers(nfd) && internal_fds::move_away(nfd))) {
        errno = EBUSY;
        return -1;
    }
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
    if (internal_fds::is_internal(fd)) {
        errno = EBADF;
        return -1;
    }
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
    if (internal_fds::is_internal(fd)) {
        errno = EBADF;
        return -1;
    }
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
    if (first > last) return real_close_range()(first, last, flags);  // the kernel's EINVAL
    return close_around(first, last, flags);
}

CKPT_EXPORT void closefrom(int lowfd)
{
    if (lowfd < 0) lowfd = 0;  // as glibc
    if (close_around(unsigned(lowfd), ~0u, 0) == 0) return;
    // close_range refused (an old kernel): one by one, as glibc's own fallback does.
    for (int fd = lowfd; fd < 65536; ++fd) {
        if (internal_fds::is_internal(fd)) continue;
        if (sys_close(fd) != 0) continue;
        if (persist::enabled()) persist::fd_closed(fd);
        else persist::streams_closed_while_off(unsigned(fd), unsigned(fd));
    }
}

CKPT_EXPORT off_t lseek(int fd, off_t off, int whence)
{
    auto f = real_lseek();
    off_t r = f ? f(fd, off, whence) : off_t(raw_result(sys_lseek(fd, off, whence)));
    if (r >= 0 && persist::enabled()) {
        const int saved = errno;
        persist::fd_repositioned(fd);
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
        persist::fd_repositioned(fd);
        errno = saved;
    }
    return r;
}
