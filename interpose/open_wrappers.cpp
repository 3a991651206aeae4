// open/openat/creat (and their 64-bit and fortified twins), mkstemp & co. An open that creates
// a file records CREATE first; an open with O_TRUNC saves the old contents first.
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, open, (const char *, int, ...))
CKPT_REAL(int, open64, (const char *, int, ...))
CKPT_REAL(int, openat, (int, const char *, int, ...))
CKPT_REAL(int, openat64, (int, const char *, int, ...))
CKPT_REAL(int, creat, (const char *, mode_t))
CKPT_REAL(int, creat64, (const char *, mode_t))
CKPT_REAL(int, __open_2, (const char *, int))
CKPT_REAL(int, __open64_2, (const char *, int))
CKPT_REAL(int, __openat_2, (int, const char *, int))
CKPT_REAL(int, __openat64_2, (int, const char *, int))
CKPT_REAL(int, mkstemp, (char *))
CKPT_REAL(int, mkstemp64, (char *))
CKPT_REAL(int, mkostemp, (char *, int))
CKPT_REAL(int, mkostemp64, (char *, int))
CKPT_REAL(int, mkstemps, (char *, int))
CKPT_REAL(int, mkstemps64, (char *, int))
CKPT_REAL(int, mkostemps, (char *, int, int))
CKPT_REAL(int, mkostemps64, (char *, int, int))
CKPT_REAL(char *, mkdtemp, (char *))
CKPT_REAL(int, mkdir, (const char *, mode_t))

namespace {

__attribute__((constructor(101))) void resolve_all()
{
    real_open(); real_open64(); real_openat(); real_openat64(); real_creat(); real_creat64();
    real___open_2(); real___open64_2(); real___openat_2(); real___openat64_2();
    real_mkstemp(); real_mkstemp64(); real_mkostemp(); real_mkostemp64(); real_mkstemps();
    real_mkstemps64(); real_mkostemps(); real_mkostemps64(); real_mkdtemp(); real_mkdir();
}

bool needs_mode(int flags) { return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE; }

template <typename Call>
int open_common(int dirfd, const char *path, int flags, Call call)
{
    if (!persist::enabled()) return call();
    persist::Section section;
    persist::OpenNote note;
    if (int e = persist::before_open(dirfd, path, flags, note)) {
        errno = e;
        return -1;
    }
    int fd = call();
    if (fd >= 0) {
        int saved = errno;
        persist::after_open(fd, flags, note);
        errno = saved;
    }
    return fd;
}

int raw_open(int dirfd, const char *path, int flags, mode_t mode)
{
    return int(raw_result(sys_openat(dirfd, path, flags, int(mode))));
}

// mkstemp & co, done here so that the name is known, and recorded, before the file exists.
int make_temp(char *tmpl, int suffixlen, int flags)
{
    const size_t len = tmpl ? strlen(tmpl) : 0;
    if (suffixlen < 0 || len < size_t(6 + suffixlen) || memcmp(tmpl + len - 6 - suffixlen, "XXXXXX", 6) != 0) {
        errno = EINVAL;
        return -1;
    }
    char *x = tmpl + len - 6 - suffixlen;
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const int oflags = (flags & ~O_ACCMODE) | O_RDWR | O_CREAT | O_EXCL;
    for (int attempt = 0; attempt < 10000; ++attempt) {
        uint64_t v = 0;
        if (RAW3(SYS_getrandom, &v, sizeof v, 1 /* GRND_NONBLOCK */) != long(sizeof v))
            v = __builtin_ia32_rdtsc() * 0x9E3779B97F4A7C15ull + uint64_t(attempt);
        for (int i = 0; i < 6; ++i, v /= 62) x[i] = letters[v % 62];
        int fd = open_common(AT_FDCWD, tmpl, oflags, [&] {
            auto f = real_open();
            return f ? f(tmpl, oflags, 0600) : raw_open(AT_FDCWD, tmpl, oflags, 0600);
        });
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    errno = EEXIST;
    return -1;
}

}  // namespace

CKPT_EXPORT int open(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open_common(AT_FDCWD, path, flags, [&] {
        auto f = real_open();
        return f ? f(path, flags, mode) : raw_open(AT_FDCWD, path, flags, mode);
    });
}

CKPT_EXPORT int open64(const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open_common(AT_FDCWD, path, flags, [&] {
        auto f = real_open64();
        return f ? f(path, flags, mode) : raw_open(AT_FDCWD, path, flags | O_LARGEFILE, mode);
    });
}

CKPT_EXPORT int openat(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open_common(dirfd, path, flags, [&] {
        auto f = real_openat();
        return f ? f(dirfd, path, flags, mode) : raw_open(dirfd, path, flags, mode);
    });
}

CKPT_EXPORT int openat64(int dirfd, const char *path, int flags, ...)
{
    mode_t mode = 0;
    if (needs_mode(flags)) {
        va_list ap;
        va_start(ap, flags);
        mode = va_arg(ap, mode_t);
        va_end(ap);
    }
    return open_common(dirfd, path, flags, [&] {
        auto f = real_openat64();
        return f ? f(dirfd, path, flags, mode) : raw_open(dirfd, path, flags | O_LARGEFILE, mode);
    });
}

CKPT_EXPORT int creat(const char *path, mode_t mode)
{
    const int flags = O_CREAT | O_WRONLY | O_TRUNC;
    return open_common(AT_FDCWD, path, flags, [&] {
        auto f = real_creat();
        return f ? f(path, mode) : raw_open(AT_FDCWD, path, flags, mode);
    });
}

CKPT_EXPORT int creat64(const char *path, mode_t mode)
{
    const int flags = O_CREAT | O_WRONLY | O_TRUNC;
    return open_common(AT_FDCWD, path, flags, [&] {
        auto f = real_creat64();
        return f ? f(path, mode) : raw_open(AT_FDCWD, path, flags | O_LARGEFILE, mode);
    });
}

CKPT_EXPORT int __open_2(const char *path, int flags)
{
    return open_common(AT_FDCWD, path, flags, [&] {
        auto f = real___open_2();
        return f ? f(path, flags) : raw_open(AT_FDCWD, path, flags, 0);
    });
}

CKPT_EXPORT int __open64_2(const char *path, int flags)
{
    return open_common(AT_FDCWD, path, flags, [&] {
        auto f = real___open64_2();
        return f ? f(path, flags) : raw_open(AT_FDCWD, path, flags | O_LARGEFILE, 0);
    });
}

CKPT_EXPORT int __openat_2(int dirfd, const char *path, int flags)
{
    return open_common(dirfd, path, flags, [&] {
        auto f = real___openat_2();
        return f ? f(dirfd, path, flags) : raw_open(dirfd, path, flags, 0);
    });
}

CKPT_EXPORT int __openat64_2(int dirfd, const char *path, int flags)
{
    return open_common(dirfd, path, flags, [&] {
        auto f = real___openat64_2();
        return f ? f(dirfd, path, flags) : raw_open(dirfd, path, flags | O_LARGEFILE, 0);
    });
}

CKPT_EXPORT int mkstemp(char *tmpl)
{
    if (!persist::enabled()) return real_mkstemp()(tmpl);
    return make_temp(tmpl, 0, 0);
}
CKPT_EXPORT int mkstemp64(char *tmpl)
{
    if (!persist::enabled()) return real_mkstemp64()(tmpl);
    return make_temp(tmpl, 0, O_LARGEFILE);
}
CKPT_EXPORT int mkostemp(char *tmpl, int flags)
{
    if (!persist::enabled()) return real_mkostemp()(tmpl, flags);
    return make_temp(tmpl, 0, flags);
}
CKPT_EXPORT int mkostemp64(char *tmpl, int flags)
{
    if (!persist::enabled()) return real_mkostemp64()(tmpl, flags);
    return make_temp(tmpl, 0, flags | O_LARGEFILE);
}
CKPT_EXPORT int mkstemps(char *tmpl, int suffixlen)
{
    if (!persist::enabled()) return real_mkstemps()(tmpl, suffixlen);
    return make_temp(tmpl, suffixlen, 0);
}
CKPT_EXPORT int mkstemps64(char *tmpl, int suffixlen)
{
    if (!persist::enabled()) return real_mkstemps64()(tmpl, suffixlen);
    return make_temp(tmpl, suffixlen, O_LARGEFILE);
}
CKPT_EXPORT int mkostemps(char *tmpl, int suffixlen, int flags)
{
    if (!persist::enabled()) return real_mkostemps()(tmpl, suffixlen, flags);
    return make_temp(tmpl, suffixlen, flags);
}
CKPT_EXPORT int mkostemps64(char *tmpl, int suffixlen, int flags)
{
    if (!persist::enabled()) return real_mkostemps64()(tmpl, suffixlen, flags);
    return make_temp(tmpl, suffixlen, flags | O_LARGEFILE);
}

CKPT_EXPORT char *mkdtemp(char *tmpl)
{
    if (!persist::enabled()) return real_mkdtemp()(tmpl);
    const size_t len = strlen(tmpl);
    if (len < 6 || memcmp(tmpl + len - 6, "XXXXXX", 6) != 0) {
        errno = EINVAL;
        return nullptr;
    }
    char *x = tmpl + len - 6;
    static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    for (int attempt = 0; attempt < 10000; ++attempt) {
        uint64_t v = 0;
        if (RAW3(SYS_getrandom, &v, sizeof v, 1) != long(sizeof v))
            v = __builtin_ia32_rdtsc() * 0x9E3779B97F4A7C15ull + uint64_t(attempt);
        for (int i = 0; i < 6; ++i, v /= 62) x[i] = letters[v % 62];
        persist::Section section;
        if (int e = persist::before_mkdir(AT_FDCWD, tmpl)) {
            errno = e;
            return nullptr;
        }
        auto f = real_mkdir();
        int r = f ? f(tmpl, 0700) : int(raw_result(RAW3(SYS_mkdirat, AT_FDCWD, tmpl, 0700)));
        if (r == 0) return tmpl;
        if (errno != EEXIST) return nullptr;
    }
    errno = EEXIST;
    return nullptr;
}
