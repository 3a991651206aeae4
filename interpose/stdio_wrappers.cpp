// stdio: glibc writes a stream's buffer with internal calls the wrappers never see, so a
// stream opened for writing is protected conservatively when it is opened and again at the
// start of every epoch (persist::stream_opened): append streams by their size, write-only
// streams from their position to the end, read-write streams ("r+", "w+") as a whole.
// Repositioning a stream (fseek & co) protects from the new position.
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(FILE *, fopen, (const char *, const char *))
CKPT_REAL(FILE *, fopen64, (const char *, const char *))
CKPT_REAL(FILE *, freopen, (const char *, const char *, FILE *))
CKPT_REAL(FILE *, freopen64, (const char *, const char *, FILE *))
CKPT_REAL(FILE *, fdopen, (int, const char *))
CKPT_REAL(int, fclose, (FILE *))
CKPT_REAL(int, fseek, (FILE *, long, int))
CKPT_REAL(int, fseeko, (FILE *, off_t, int))
CKPT_REAL(int, fseeko64, (FILE *, off64_t, int))
CKPT_REAL(int, fsetpos, (FILE *, const fpos_t *))
CKPT_REAL(int, fsetpos64, (FILE *, const fpos64_t *))
CKPT_REAL(void, rewind, (FILE *))
CKPT_REAL(int, vdprintf, (int, const char *, va_list))
CKPT_REAL(int, __vdprintf_chk, (int, int, const char *, va_list))

namespace {

__attribute__((constructor(101))) void resolve_all()
{
    real_fopen(); real_fopen64(); real_freopen(); real_freopen64(); real_fdopen(); real_fclose();
    real_fseek(); real_fseeko(); real_fseeko64(); real_fsetpos(); real_fsetpos64(); real_rewind();
    real_vdprintf(); real___vdprintf_chk();
}

struct Mode {
    int flags = O_RDONLY;
    bool writable = false;
    persist::StreamKind kind = persist::StreamKind::Sequential;
};

Mode parse_mode(const char *m)
{
    Mode r;
    if (!m) return r;
    const bool plus = strchr(m, '+') != nullptr;
    switch (m[0]) {
    case 'r': r.flags = plus ? O_RDWR : O_RDONLY; break;
    case 'w': r.flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_TRUNC; break;
    case 'a': r.flags = (plus ? O_RDWR : O_WRONLY) | O_CREAT | O_APPEND; break;
    default: return r;
    }
    if (strchr(m, 'x')) r.flags |= O_EXCL;
    r.writable = m[0] != 'r' || plus;
    if (m[0] == 'a') r.kind = persist::StreamKind::Append;
    else if (plus) r.kind = persist::StreamKind::Whole;
    else r.kind = persist::StreamKind::Sequential;
    return r;
}

// Recording off: a stream opened for writing is remembered (persist::stream_noted).
void note_stream(FILE *f, const char *mode)
{
    if (!f) return;
    const Mode m = parse_mode(mode);
    if (!m.writable) return;
    const int saved = errno;
    persist::stream_noted(fileno(f), m.kind);
    errno = saved;
}

template <typename Call>
FILE *open_stream(const char *path, const char *mode, Call call)
{
    if (!persist::enabled()) {
        FILE *f = call();
        note_stream(f, mode);
        return f;
    }
    persist::Section section;
    const Mode m = parse_mode(mode);
    persist::OpenNote note;
    if (int e = persist::before_open(AT_FDCWD, path, m.flags, note)) {
        errno = e;
        return nullptr;
    }
    FILE *f = call();
    if (f) {
        const int saved = errno;
        const int fd = fileno(f);
        persist::after_open(fd, m.flags, note);
        if (m.writable) persist::stream_opened(fd, m.kind);
        errno = saved;
    }
    return f;
}

template <typename Call>
FILE *reopen_stream(const char *path, const char *mode, FILE *stream, Call call)
{
    if (!persist::enabled()) {
        const int old_fd = stream ? fileno(stream) : -1;
        FILE *f = call();
        const int saved = errno;
        if (old_fd >= 0) persist::streams_closed_while_off(unsigned(old_fd), unsigned(old_fd));
        errno = saved;
        note_stream(f, mode);
        return f;
    }
    persist::Section section;
    const Mode m = parse_mode(mode);
    const int old_fd = stream ? fileno(stream) : -1;
    char self[4200];
    const char *target = path;
    if (!target && old_fd >= 0) {
        // freopen(NULL, mode, f) reopens the same file with a new mode ("w" truncates it).
        char link[40];
        snprintf(link, sizeof link, "/proc/self/fd/%d", old_fd);
        ssize_t n = readlink(link, self, sizeof self - 1);
        if (n > 0) {
            self[n] = 0;
            target = self;
        }
    }
    persist::OpenNote note;
    if (target) {
        if (int e = persist::before_open(AT_FDCWD, target, m.flags, note)) {
            errno = e;
            return nullptr;
        }
    }
    FILE *f = call();
    const int saved = errno;
    if (old_fd >= 0) persist::fd_closed(old_fd);
    if (f) {
        const int fd = fileno(f);
        persist::after_open(fd, m.flags, note);
        if (m.writable) persist::stream_opened(fd, m.kind);
    }
    errno = saved;
    return f;
}

void repositioned(FILE *f)
{
    if (!f) return;
    const int saved = errno;
    persist::stream_repositioned(fileno(f));
    errno = saved;
}

}  // namespace

CKPT_EXPORT FILE *fopen(const char *path, const char *mode)
{
    return open_stream(path, mode, [&] { return real_fopen()(path, mode); });
}

CKPT_EXPORT FILE *fopen64(const char *path, const char *mode)
{
    return open_stream(path, mode, [&] { return real_fopen64()(path, mode); });
}

CKPT_EXPORT FILE *freopen(const char *path, const char *mode, FILE *stream)
{
    return reopen_stream(path, mode, stream, [&] { return real_freopen()(path, mode, stream); });
}

CKPT_EXPORT FILE *freopen64(const char *path, const char *mode, FILE *stream)
{
    return reopen_stream(path, mode, stream, [&] { return real_freopen64()(path, mode, stream); });
}

CKPT_EXPORT FILE *fdopen(int fd, const char *mode)
{
    FILE *f = real_fdopen()(fd, mode);
    if (!f) return f;
    const Mode m = parse_mode(mode);
    if (!m.writable) return f;
    const bool on = persist::enabled();
    persist::Section section;  // (harmless while recording is off)
    const int saved = errno;
    const int fl = fcntl(fd, F_GETFL);
    persist::StreamKind kind = m.kind;
    if (fl >= 0 && (fl & O_APPEND)) kind = persist::StreamKind::Append;
    else if (fl >= 0 && (fl & O_ACCMODE) == O_RDWR && m.kind != persist::StreamKind::Append)
        kind = persist::StreamKind::Whole;
    if (on) persist::stream_opened(fd, kind);
    else persist::stream_noted(fd, kind);
    errno = saved;
    return f;
}

CKPT_EXPORT int fclose(FILE *f)
{
    if (!f) return real_fclose()(f);
    if (!persist::enabled()) {
        const int fd = fileno(f);
        const int r = real_fclose()(f);
        const int saved = errno;
        if (fd >= 0) persist::streams_closed_while_off(unsigned(fd), unsigned(fd));
        errno = saved;
        return r;
    }
    const int fd = fileno(f);
    int r = real_fclose()(f);
    const int saved = errno;
    if (fd >= 0) persist::fd_closed(fd);
    errno = saved;
    return r;
}

CKPT_EXPORT int fseek(FILE *f, long off, int whence)
{
    int r = real_fseek()(f, off, whence);
    if (r == 0 && persist::enabled()) repositioned(f);
    return r;
}

CKPT_EXPORT int fseeko(FILE *f, off_t off, int whence)
{
    int r = real_fseeko()(f, off, whence);
    if (r == 0 && persist::enabled()) repositioned(f);
    return r;
}

CKPT_EXPORT int fseeko64(FILE *f, off64_t off, int whence)
{
    int r = real_fseeko64()(f, off, whence);
    if (r == 0 && persist::enabled()) repositioned(f);
    return r;
}

CKPT_EXPORT int fsetpos(FILE *f, const fpos_t *pos)
{
    int r = real_fsetpos()(f, pos);
    if (r == 0 && persist::enabled()) repositioned(f);
    return r;
}

CKPT_EXPORT int fsetpos64(FILE *f, const fpos64_t *pos)
{
    int r = real_fsetpos64()(f, pos);
    if (r == 0 && persist::enabled()) repositioned(f);
    return r;
}

CKPT_EXPORT void rewind(FILE *f)
{
    real_rewind()(f);
    if (persist::enabled()) repositioned(f);
}

// dprintf & co write to a descriptor with glibc's internal calls, which the write wrappers never
// see: the length is known by formatting once without output, and recorded like a write().
namespace {
template <typename Call>
int formatted_write(int fd, const char *fmt, va_list ap, Call call)
{
    if (!persist::enabled()) return call(ap);
    persist::Section section;
    va_list measure;
    va_copy(measure, ap);
    const int n = vsnprintf(nullptr, 0, fmt, measure);
    va_end(measure);
    if (n > 0) {
        if (int e = persist::before_write(fd, -1, uint64_t(n))) {
            errno = e;
            return -1;
        }
    }
    return call(ap);
}
}  // namespace

CKPT_EXPORT int vdprintf(int fd, const char *fmt, va_list ap)
{
    return formatted_write(fd, fmt, ap, [&](va_list a) { return real_vdprintf()(fd, fmt, a); });
}

CKPT_EXPORT int dprintf(int fd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = formatted_write(fd, fmt, ap, [&](va_list a) { return real_vdprintf()(fd, fmt, a); });
    va_end(ap);
    return r;
}

// The _FORTIFY_SOURCE entry points a program compiled with it calls instead.
namespace {
int chk_or_plain(int fd, int flag, const char *fmt, va_list a)
{
    auto f = real___vdprintf_chk();
    return f ? f(fd, flag, fmt, a) : real_vdprintf()(fd, fmt, a);
}
}  // namespace

CKPT_EXPORT int __vdprintf_chk(int fd, int flag, const char *fmt, va_list ap)
{
    return formatted_write(fd, fmt, ap, [&](va_list a) { return chk_or_plain(fd, flag, fmt, a); });
}

CKPT_EXPORT int __dprintf_chk(int fd, int flag, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int r = formatted_write(fd, fmt, ap, [&](va_list a) { return chk_or_plain(fd, flag, fmt, a); });
    va_end(ap);
    return r;
}
