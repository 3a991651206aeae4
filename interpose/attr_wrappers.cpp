// Attribute changes: chmod*, chown*, utime*. The first one to a file in an epoch records its
// old mode, owner and times (META).
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <utime.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, chmod, (const char *, mode_t))
CKPT_REAL(int, fchmod, (int, mode_t))
CKPT_REAL(int, fchmodat, (int, const char *, mode_t, int))
CKPT_REAL(int, lchmod, (const char *, mode_t))
CKPT_REAL(int, chown, (const char *, uid_t, gid_t))
CKPT_REAL(int, fchown, (int, uid_t, gid_t))
CKPT_REAL(int, lchown, (const char *, uid_t, gid_t))
CKPT_REAL(int, fchownat, (int, const char *, uid_t, gid_t, int))
CKPT_REAL(int, utime, (const char *, const struct utimbuf *))
CKPT_REAL(int, utimes, (const char *, const struct timeval *))
CKPT_REAL(int, lutimes, (const char *, const struct timeval *))
CKPT_REAL(int, futimes, (int, const struct timeval *))
CKPT_REAL(int, futimesat, (int, const char *, const struct timeval *))
CKPT_REAL(int, utimensat, (int, const char *, const struct timespec *, int))
CKPT_REAL(int, futimens, (int, const struct timespec *))

namespace {
__attribute__((constructor(101))) void resolve_all()
{
    real_chmod(); real_fchmod(); real_fchmodat(); real_lchmod(); real_chown(); real_fchown();
    real_lchown(); real_fchownat(); real_utime(); real_utimes(); real_lutimes(); real_futimes();
    real_futimesat(); real_utimensat(); real_futimens();
}
}  // namespace

CKPT_EXPORT int chmod(const char *p, mode_t m)
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, 0), real_chmod()(p, m));
}

CKPT_EXPORT int fchmod(int fd, mode_t m)
{
    CKPT_GUARDED(-1, persist::before_attr_fd(fd), real_fchmod()(fd, m));
}

CKPT_EXPORT int fchmodat(int d, const char *p, mode_t m, int flags)
{
    CKPT_GUARDED(-1, persist::before_attr_path(d, p, flags), real_fchmodat()(d, p, m, flags));
}

CKPT_EXPORT int lchmod(const char *p, mode_t m)
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW), real_lchmod()(p, m));
}

CKPT_EXPORT int chown(const char *p, uid_t u, gid_t g)
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, 0), real_chown()(p, u, g));
}

CKPT_EXPORT int fchown(int fd, uid_t u, gid_t g)
{
    CKPT_GUARDED(-1, persist::before_attr_fd(fd), real_fchown()(fd, u, g));
}

CKPT_EXPORT int lchown(const char *p, uid_t u, gid_t g)
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW), real_lchown()(p, u, g));
}

CKPT_EXPORT int fchownat(int d, const char *p, uid_t u, gid_t g, int flags)
{
    CKPT_GUARDED(-1, persist::before_attr_path(d, p, flags), real_fchownat()(d, p, u, g, flags));
}

CKPT_EXPORT int utime(const char *p, const struct utimbuf *t)
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, 0), real_utime()(p, t));
}

CKPT_EXPORT int utimes(const char *p, const struct timeval t[2])
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, 0), real_utimes()(p, t));
}

CKPT_EXPORT int lutimes(const char *p, const struct timeval t[2])
{
    CKPT_GUARDED(-1, persist::before_attr_path(AT_FDCWD, p, AT_SYMLINK_NOFOLLOW), real_lutimes()(p, t));
}

CKPT_EXPORT int futimes(int fd, const struct timeval t[2])
{
    CKPT_GUARDED(-1, persist::before_attr_fd(fd), real_futimes()(fd, t));
}

CKPT_EXPORT int futimesat(int d, const char *path, const struct timeval t[2])
{
    const char *p = path;
    __asm__("" : "+r"(p));  // may be null (Linux: the directory descriptor itself)
    CKPT_GUARDED(-1, p ? persist::before_attr_path(d, p, 0) : persist::before_attr_fd(d), real_futimesat()(d, p, t));
}

CKPT_EXPORT int utimensat(int d, const char *path, const struct timespec t[2], int flags)
{
    const char *p = path;
    __asm__("" : "+r"(p));  // may be null (Linux: the descriptor itself)
    CKPT_GUARDED(-1, p ? persist::before_attr_path(d, p, flags) : persist::before_attr_fd(d),
                 real_utimensat()(d, p, t, flags));
}

CKPT_EXPORT int futimens(int fd, const struct timespec t[2])
{
    CKPT_GUARDED(-1, persist::before_attr_fd(fd), real_futimens()(fd, t));
}
