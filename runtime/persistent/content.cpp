#include "content.h"

#include <errno.h>
#include <fcntl.h>

#include "../sys/raw_syscall.h"
#include "../text.h"
#include "failure.h"
#include "growth.h"
#include "paths.h"
#include "pct_log.h"

namespace ckpt::persist {

int record_meta(FileState *f, const char *path, uint16_t flags, const struct stat &st)
{
    if (f && (f->flags & kMetaDone)) return 0;
    RecordArgs a{pct::Kind::Meta};
    a.flags = flags | (S_ISDIR(st.st_mode) ? pct::kDir : 0) | (S_ISLNK(st.st_mode) ? pct::kSymlink : 0);
    a.path = path;
    a.st = &st;
    if (int e = emit(a)) return e;
    if (f) {
        f->flags |= kMetaDone;
        f->orig_size = S_ISREG(st.st_mode) ? uint64_t(st.st_size) : 0;
        if (f->orig_size == 0) f->flags |= kAllCovered;
        if (S_ISREG(st.st_mode)) growth_track(f, uint64_t(st.st_dev), uint64_t(st.st_ino), f->orig_size);
    }
    return 0;
}

Source::~Source() { if (owned && fd >= 0) sys_close(fd); }

long open_for_reading(const char *name)
{
    long r = sys_openat(AT_FDCWD, name, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
    if (r != -EACCES) return r;
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, name, &st, 0) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & S_IRUSR) ||
        long(st.st_uid) != sys_geteuid())
        return r;
    if (sys_fchmodat(AT_FDCWD, name, int((st.st_mode & 07777) | S_IRUSR)) != 0) return r;
    long r2 = sys_openat(AT_FDCWD, name, O_RDONLY | O_CLOEXEC | O_NOCTTY, 0);
    sys_fchmodat(AT_FDCWD, name, int(st.st_mode & 07777));
    return r2;
}

int open_source_fd(int fd, Source &src)
{
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl >= 0 && readable_flags(fl)) { src.fd = fd; return 0; }
    char link[40];
    text::Builder(link, sizeof link).add("/proc/self/fd/").add(uint64_t(unsigned(fd)));
    long r = open_for_reading(link);
    if (r < 0) return int(-r);
    src.fd = int(r);
    src.owned = true;
    return 0;
}

int save_range(FileState *f, int rfd, const char *path, uint16_t flags, uint64_t a, uint64_t b)
{
    if (f->flags & kAllCovered) return 0;
    if (b > f->orig_size) b = f->orig_size;
    if (a >= b) return 0;
    a &= ~uint64_t(4095);
    b = (b + 4095) & ~uint64_t(4095);
    // Sequential overwrite (the range continues a saved one): save ahead to the next 256 KiB
    // boundary, so that rewriting a file front to back costs one record per 256 KiB, not per
    // write. Random writes save their pages only.
    constexpr uint64_t kAhead = 256 * 1024;
    if (long i = iv_find(f, a); i >= 0 && f->iv[i].end == a) b = (b + kAhead) & ~(kAhead - 1);
    if (b > f->orig_size) b = f->orig_size;
    uint64_t cur = a;
    while (cur < b) {
        long i = iv_find(f, cur);
        if (i >= 0 && f->iv[i].end > cur) { cur = f->iv[i].end; continue; }
        uint64_t gap_end = b;
        if (i + 1 < long(f->n_iv) && f->iv[i + 1].start < gap_end) gap_end = f->iv[i + 1].start;
        uint64_t at = cur;
        while (at < gap_end) {
            uint64_t want = gap_end - at;
            if (want > pct::kMaxDataChunk) want = pct::kMaxDataChunk;
            char *dst = data_area(path);
            uint64_t got = 0;
            while (got < want) {
                long n = sys_pread(rfd, dst + got, want - got, int64_t(at + got));
                if (n == -EINTR) continue;
                if (n < 0) return int(-n);
                if (n == 0) break;
                got += uint64_t(n);
            }
            if (got == 0) { at = gap_end; break; }  // file shorter than expected: nothing there
            RecordArgs r{pct::Kind::Data};
            r.flags = flags;
            r.path = path;
            r.offset = int64_t(at);
            if (int e = emit(r, got)) return e;
            at += got;
            if (got < want) { at = gap_end; break; }
        }
        if (!iv_insert(f, cur, gap_end)) return ENOMEM;
        cur = gap_end;
    }
    return 0;
}

bool classify(int fd, FdEntry &e, struct stat &st, uint16_t &rflags)
{
    e = FdEntry{g_gen, 0, nullptr};
    rflags = 0;
    if (sys_fstat(fd, &st) != 0) return false;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) return false;
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl < 0) return false;
    FileState *known = find_state(st.st_dev, st.st_ino);
    if (!record_path_for_fd(fd, known, g_path, sizeof g_path, rflags)) return false;
    if (!(rflags & pct::kPathInUndoDir) && path_excluded(g_path)) return false;
    FileState *f = known ? known : get_state(st.st_dev, st.st_ino);
    if (!f) return false;
    e.file = f;
    e.flags = uint32_t(kFdTracked) | ((fl & O_APPEND) ? uint32_t(kFdAppend) : 0u) |
              (readable_flags(fl) ? uint32_t(kFdReadable) : 0u);
    return true;
}

int protect_fd(int fd, StreamKind kind, bool stdio)
{
    FdEntry e;
    struct stat st;
    uint16_t rf;
    if (!classify(fd, e, st, rf)) { cache_fd(fd, e); return 0; }
    cache_fd(fd, e);
    FileState *f = e.file;
    if (int err = record_meta(f, g_path, rf, st)) return fail(err, f, g_path);
    if (stdio) growth_unknown(f);  // glibc writes the stream's buffer with calls no wrapper sees
    if ((f->flags & kAllCovered) || (e.flags & kFdAppend) || kind == StreamKind::Append) return 0;
    uint64_t from = 0;
    if (kind == StreamKind::Sequential) {
        long off = sys_lseek(fd, 0, SEEK_CUR);
        if (off < 0) off = 0;
        from = uint64_t(off);
    }
    Source src;
    int err = open_source_fd(fd, src);
    if (!err) err = save_range(f, src.fd, g_path, rf, from, f->orig_size);
    return fail(err, f, g_path);
}

int path_meta(int dirfd, const char *path, bool follow, FileState **out_f, struct stat &st)
{
    if (out_f) *out_f = nullptr;
    if (!absolute(dirfd, path, g_path, sizeof g_path)) return 0;
    if (follow) resolve_fd_link(g_path, sizeof g_path);
    if (path_excluded(g_path)) return 0;
    if (lstat_at(dirfd, path, st, follow) != 0) return 0;
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode) && !S_ISLNK(st.st_mode)) return 0;
    FileState *f = get_state(st.st_dev, st.st_ino);
    if (!f) return 0;
    if (out_f) *out_f = f;
    if (int err = record_meta(f, g_path, 0, st)) return fail(err, f, g_path);
    return 0;
}

}  // namespace ckpt::persist
