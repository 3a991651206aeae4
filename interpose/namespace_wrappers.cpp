// Changes to names: rename*, unlink*, remove, rmdir, mkdir*, link*, symlink*, mkfifo*, mknod*.
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, rename, (const char *, const char *))
CKPT_REAL(int, renameat, (int, const char *, int, const char *))
CKPT_REAL(int, renameat2, (int, const char *, int, const char *, unsigned))
CKPT_REAL(int, unlink, (const char *))
CKPT_REAL(int, unlinkat, (int, const char *, int))
CKPT_REAL(int, remove, (const char *))
CKPT_REAL(int, rmdir, (const char *))
CKPT_REAL(int, mkdir, (const char *, mode_t))
CKPT_REAL(int, mkdirat, (int, const char *, mode_t))
CKPT_REAL(int, link, (const char *, const char *))
CKPT_REAL(int, linkat, (int, const char *, int, const char *, int))
CKPT_REAL(int, symlink, (const char *, const char *))
CKPT_REAL(int, symlinkat, (const char *, int, const char *))
CKPT_REAL(int, mkfifo, (const char *, mode_t))
CKPT_REAL(int, mkfifoat, (int, const char *, mode_t))
CKPT_REAL(int, mknod, (const char *, mode_t, dev_t))
CKPT_REAL(int, mknodat, (int, const char *, mode_t, dev_t))

namespace {
__attribute__((constructor(101))) void resolve_all()
{
    real_rename(); real_renameat(); real_renameat2(); real_unlink(); real_unlinkat(); real_remove();
    real_rmdir(); real_mkdir(); real_mkdirat(); real_link(); real_linkat(); real_symlink(); real_symlinkat();
    real_mkfifo(); real_mkfifoat(); real_mknod(); real_mknodat();
}
}  // namespace

CKPT_EXPORT int rename(const char *o, const char *n)
{
    CKPT_GUARDED(-1, persist::before_rename(AT_FDCWD, o, AT_FDCWD, n, 0), real_rename()(o, n));
}

CKPT_EXPORT int renameat(int od, const char *o, int nd, const char *n)
{
    CKPT_GUARDED(-1, persist::before_rename(od, o, nd, n, 0), real_renameat()(od, o, nd, n));
}

CKPT_EXPORT int renameat2(int od, const char *o, int nd, const char *n, unsigned flags)
{
    CKPT_GUARDED(-1, persist::before_rename(od, o, nd, n, flags), real_renameat2()(od, o, nd, n, flags));
}

CKPT_EXPORT int unlink(const char *p)
{
    auto call = [&] {
        auto f = real_unlink();
        return f ? f(p) : int(raw_result(sys_unlinkat(AT_FDCWD, p, 0)));
    };
    CKPT_GUARDED(-1, persist::before_unlink(AT_FDCWD, p, 0), call());
}

CKPT_EXPORT int unlinkat(int d, const char *p, int flags)
{
    auto call = [&] {
        auto f = real_unlinkat();
        return f ? f(d, p, flags) : int(raw_result(sys_unlinkat(d, p, flags)));
    };
    CKPT_GUARDED(-1, persist::before_unlink(d, p, flags), call());
}

CKPT_EXPORT int remove(const char *p)
{
    CKPT_GUARDED(-1, persist::before_remove(p), real_remove()(p));
}

CKPT_EXPORT int rmdir(const char *p)
{
    CKPT_GUARDED(-1, persist::before_unlink(AT_FDCWD, p, AT_REMOVEDIR), real_rmdir()(p));
}

CKPT_EXPORT int mkdir(const char *p, mode_t mode)
{
    CKPT_GUARDED(-1, persist::before_mkdir(AT_FDCWD, p), real_mkdir()(p, mode));
}

CKPT_EXPORT int mkdirat(int d, const char *p, mode_t mode)
{
    CKPT_GUARDED(-1, persist::before_mkdir(d, p), real_mkdirat()(d, p, mode));
}

CKPT_EXPORT int link(const char *o, const char *n)
{
    CKPT_GUARDED(-1, persist::before_new_name(AT_FDCWD, n), real_link()(o, n));
}

CKPT_EXPORT int linkat(int od, const char *o, int nd, const char *n, int flags)
{
    CKPT_GUARDED(-1, persist::before_new_name(nd, n), real_linkat()(od, o, nd, n, flags));
}

CKPT_EXPORT int symlink(const char *target, const char *p)
{
    CKPT_GUARDED(-1, persist::before_new_name(AT_FDCWD, p), real_symlink()(target, p));
}

CKPT_EXPORT int symlinkat(const char *target, int d, const char *p)
{
    CKPT_GUARDED(-1, persist::before_new_name(d, p), real_symlinkat()(target, d, p));
}

// A node made after the checkpoint (FIFO, device, socket name, or a regular file by mknod) is
// removed by the undo like a created file. Without a libc definition to call (glibc < 2.33
// has only __xmknod): the system call.
namespace {
int raw_mknodat(int d, const char *p, mode_t mode, dev_t dev)
{
    return int(raw_result(RAW4(SYS_mknodat, d, p, mode, dev)));
}
}  // namespace

CKPT_EXPORT int mkfifo(const char *p, mode_t mode)
{
    auto f = real_mkfifo();
    CKPT_GUARDED(-1, persist::before_new_name(AT_FDCWD, p), f ? f(p, mode) : raw_mknodat(AT_FDCWD, p, mode | S_IFIFO, 0));
}

CKPT_EXPORT int mkfifoat(int d, const char *p, mode_t mode)
{
    auto f = real_mkfifoat();
    CKPT_GUARDED(-1, persist::before_new_name(d, p), f ? f(d, p, mode) : raw_mknodat(d, p, mode | S_IFIFO, 0));
}

CKPT_EXPORT int mknod(const char *p, mode_t mode, dev_t dev)
{
    auto f = real_mknod();
    CKPT_GUARDED(-1, persist::before_new_name(AT_FDCWD, p), f ? f(p, mode, dev) : raw_mknodat(AT_FDCWD, p, mode, dev));
}

CKPT_EXPORT int mknodat(int d, const char *p, mode_t mode, dev_t dev)
{
    auto f = real_mknodat();
    CKPT_GUARDED(-1, persist::before_new_name(d, p), f ? f(d, p, mode, dev) : raw_mknodat(d, p, mode, dev));
}
