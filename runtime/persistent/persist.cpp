// The persistent-state layer's entry points for the wrappers; see persist.h and
// docs/persistent-state.md. The modules:
//   settings      --sync-undo, --on-undo-failure          slow_guard  lock + blocked signals
//   rule_table    exclusion rules (exclusion.h decides)   paths       absolute and fd paths
//   file_state    per-file interval sets (arena)          fd_cache    per-descriptor cache
//   pct_log       the epoch's log writer                  failure     --on-undo-failure
//   content       META and DATA records                   names       REMOVED / CREATE
//   invisible_writers  stdio streams, shared mappings     epochs      life cycle
//   section       the wrappers' sections
//
// Everything uses raw system calls and static or mmap'd memory: it runs inside wrappers that
// may be called from the program's own signal handlers, before main, and (for the epoch
// changes) inside the checkpoint signal handler.
#include "persist.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/falloc.h>
#include <sys/stat.h>

#include "../sys/raw_syscall.h"
#include "content.h"
#include "failure.h"
#include "fd_cache.h"
#include "file_state.h"
#include "growth.h"
#include "invisible_writers.h"
#include "names.h"
#include "paths.h"
#include "pct_log.h"
#include "settings.h"
#include "slow_guard.h"

namespace ckpt::persist {

namespace {

// Slow path of a content change through a descriptor. `file`, `fdflags`: the tracked file
// written and its descriptor's flags (for the growth count); `offset` is set when found.
int write_slow(int fd, int64_t &offset, uint64_t len, bool force_append, FileState *&file, uint32_t &fdflags)
{
    // Another process: a fork() child (its own copy of this state) or a vfork() child (ours,
    // shared): record nothing, and write nothing here either.
    if (sys_getpid() != g_pid) return 0;
    if (ensure_buf()) return 0;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    bool have_path = false;
    if (fd >= 0 && fd < kMaxFd && g_fds[fd].gen == g_gen) {
        e = g_fds[fd];
    } else {
        bool tracked = classify(fd, e, st, rf);
        cache_fd(fd, e);
        if (!tracked) return 0;
        have_path = true;
    }
    if (!(e.flags & kFdTracked)) return 0;
    FileState *f = e.file;
    file = f;
    fdflags = e.flags;
    if (f->flags & kAllCovered) return 0;
    if (!have_path) {
        if (!record_path_for_fd(fd, f, g_path, sizeof g_path, rf)) {
            f->flags |= kAllCovered;  // no name: nothing a rollback could restore
            return 0;
        }
    }
    if (!(f->flags & kMetaDone)) {
        if (sys_fstat(fd, &st) != 0) return 0;
        if (int err = record_meta(f, g_path, rf, st)) return fail(err, f, g_path);
        if (f->flags & kAllCovered) return 0;
    }
    if ((e.flags & kFdAppend) || force_append) return 0;
    if (offset < 0) {
        long off = sys_lseek(fd, 0, SEEK_CUR);
        if (off < 0) return 0;  // not seekable: nothing positional to save
        offset = off;
    }
    if (covered(f, uint64_t(offset), uint64_t(offset) + len)) return 0;
    Source src;
    int err = (e.flags & kFdReadable) ? (src.fd = fd, 0) : open_source_fd(fd, src);
    if (!err) err = save_range(f, src.fd, g_path, rf, uint64_t(offset), uint64_t(offset) + len);
    return fail(err, f, g_path);
}


}  // namespace

int before_write(int fd, int64_t offset, uint64_t len, bool force_append, bool count)
{
    if (len == 0) return 0;
    // Hot path: no system call, no lock.
    const uint64_t m = __atomic_load_n(&g_mut, __ATOMIC_ACQUIRE);
    if (!(m & 1) && fd >= 0 && fd < kMaxFd) {
        const FdEntry e = g_fds[fd];
        if (e.gen == __atomic_load_n(&g_gen, __ATOMIC_RELAXED)) {
            bool done = !(e.flags & kFdTracked);
            if (!done) {
                const FileState *f = e.file;
                const uint32_t ff = __atomic_load_n(&f->flags, __ATOMIC_ACQUIRE);
                if (ff & kAllCovered) done = true;
                else if ((ff & kMetaDone) && ((e.flags & kFdAppend) || force_append)) done = true;
                else if ((ff & kMetaDone) && offset >= 0 && covered(f, uint64_t(offset), uint64_t(offset) + len))
                    done = true;
            }
            if (done && __atomic_load_n(&g_mut, __ATOMIC_ACQUIRE) == m &&
                (!count || !(e.flags & kFdTracked) ||
                 grow_fast(e.file, (e.flags & kFdAppend) || force_append, e.flags & kFdMoved, offset, len)))
                return 0;
        }
    }
    SlowGuard g;
    FileState *file = nullptr;
    uint32_t fdflags = 0;
    const int err = write_slow(fd, offset, len, force_append, file, fdflags);
    if (!err && file && count) {
        grow_slow(fd, file, (fdflags & kFdAppend) || force_append, offset, len);
        if (fd >= 0 && fd < kMaxFd && g_fds[fd].gen == g_gen && g_fds[fd].file == file)
            __atomic_and_fetch(&g_fds[fd].flags, ~uint32_t(kFdMoved), __ATOMIC_RELAXED);
    }
    return err;
}

namespace {

// The tracked file a descriptor refers to, or null (slow path).
FileState *file_of(int fd)
{
    if (fd >= 0 && fd < kMaxFd && g_fds[fd].gen == g_gen)
        return (g_fds[fd].flags & kFdTracked) ? g_fds[fd].file : nullptr;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    const bool tracked = classify(fd, e, st, rf);
    cache_fd(fd, e);
    return tracked ? e.file : nullptr;
}

}  // namespace

int before_ftruncate(int fd, int64_t length)
{
    if (length < 0) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    bool tracked = classify(fd, e, st, rf);
    cache_fd(fd, e);
    if (!tracked) return 0;
    FileState *f = e.file;
    if (f->flags & kAllCovered) {
        grow_resize(f, uint64_t(length));
        return 0;
    }
    if (int err = record_meta(f, g_path, rf, st)) return fail(err, f, g_path);
    grow_resize(f, uint64_t(length));
    if (uint64_t(length) >= f->orig_size) return 0;
    Source src;
    int err = open_source_fd(fd, src);
    if (!err) err = save_range(f, src.fd, g_path, rf, uint64_t(length), f->orig_size);
    return fail(err, f, g_path);
}

int before_truncate(const char *path, int64_t length)
{
    if (length < 0 || !path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    struct stat st;
    FileState *f = nullptr;
    if (int err = path_meta(AT_FDCWD, path, true, &f, st)) return err;
    if (f && S_ISREG(st.st_mode)) grow_resize(f, uint64_t(length));
    if (!f || !S_ISREG(st.st_mode) || (f->flags & kAllCovered) || uint64_t(length) >= f->orig_size) return 0;
    long fd = open_for_reading(g_path);
    if (fd < 0) return fail(int(-fd), f, g_path);
    int err = save_range(f, int(fd), g_path, 0, uint64_t(length), f->orig_size);
    sys_close(int(fd));
    return fail(err, f, g_path);
}

int before_fallocate(int fd, int mode, int64_t offset, int64_t len)
{
    if (offset < 0 || len <= 0) return 0;
    int err;
    if (mode & (FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE))
        err = before_write(fd, offset, uint64_t(len), false, false);
    else if (mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))
        err = before_write(fd, offset, ~uint64_t(0) >> 2, false, false);  // everything from offset moves
    else
        err = before_write(fd, -1, 1, true, false);  // plain allocation may grow the file: the old size is enough
    if (err || ((mode & FALLOC_FL_KEEP_SIZE) && !(mode & (FALLOC_FL_COLLAPSE_RANGE | FALLOC_FL_INSERT_RANGE))))
        return err;
    // The size may change: the growth count (growth.h) follows.
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    FileState *f = file_of(fd);
    if (!f) return 0;
    if (mode & FALLOC_FL_INSERT_RANGE) grow_insert(f, uint64_t(len));
    else if (mode & FALLOC_FL_COLLAPSE_RANGE) grow_collapse(f, uint64_t(len));
    else grow_to(f, uint64_t(offset) + uint64_t(len));
    return 0;
}

int before_open(int dirfd, const char *path, int flags, OpenNote &note)
{
    note = OpenNote{};
    const bool tmpfile = (flags & O_TMPFILE) == O_TMPFILE;
    const bool creat = (flags & O_CREAT) && !tmpfile;
    const bool trunc = (flags & O_TRUNC) && !tmpfile;
    if ((!creat && !trunc) || !path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    const bool nofollow = (flags & O_EXCL) || (flags & O_NOFOLLOW);
    if (!absolute(dirfd, path, g_path, sizeof g_path)) return 0;
    if (!nofollow) resolve_fd_link(g_path, sizeof g_path);
    if (path_excluded(g_path)) return 0;
    struct stat st;
    long r = lstat_at(dirfd, path, st, !nofollow);
    if (r == -ENOENT) {
        if (!creat) return 0;
        struct stat lst;
        if (!nofollow && lstat_at(dirfd, path, lst, false) == 0) return 0;  // dangling symlink: not followed
        RecordArgs a{pct::Kind::Create};
        a.path = g_path;
        if (int err = emit(a)) return on_failure_of(err, g_path);
        note.created = true;
        return 0;
    }
    if (r != 0 || !trunc || !S_ISREG(st.st_mode) || (flags & O_EXCL)) return 0;
    FileState *f = get_state(st.st_dev, st.st_ino);
    if (!f) return 0;
    if (int err = record_meta(f, g_path, 0, st)) return fail(err, f, g_path);
    if (f->flags & kAllCovered) { note.truncated = true; return 0; }
    long fd = open_for_reading(g_path);
    if (fd < 0) return fail(int(-fd), f, g_path);
    int err = save_range(f, int(fd), g_path, 0, 0, f->orig_size);
    sys_close(int(fd));
    if (!err) note.truncated = true;
    return fail(err, f, g_path);
}

void after_open(int fd, int flags, const OpenNote &note)
{
    if (fd < 0) return;
    if (!note.created && !note.truncated) {
        if (fd < kMaxFd) __atomic_store_n(&g_fds[fd].gen, 0, __ATOMIC_RELEASE);
        return;
    }
    SlowGuard g;
    struct stat st;
    if (sys_fstat(fd, &st) != 0) { if (fd < kMaxFd) g_fds[fd].gen = 0; return; }
    FileState *f = get_state(st.st_dev, st.st_ino);
    if (!f) { if (fd < kMaxFd) g_fds[fd].gen = 0; return; }
    if (note.created) f->flags |= kCreated | kAllCovered | kMetaDone;
    if (note.truncated) grow_resize(f, 0);
    FdEntry e{g_gen, uint32_t(kFdTracked) | ((flags & O_APPEND) ? uint32_t(kFdAppend) : 0u) |
                         (readable_flags(flags) ? uint32_t(kFdReadable) : 0u), f};
    cache_fd(fd, e);
}

int before_unlink(int dirfd, const char *path, int at_flags)
{
    if (!path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(dirfd, path, g_path, sizeof g_path) || path_excluded(g_path)) return 0;
    struct stat st;
    if (lstat_at(dirfd, path, st) != 0) return 0;
    if (S_ISDIR(st.st_mode) != bool(at_flags & AT_REMOVEDIR)) return 0;  // will fail
    return on_failure_of(record_removal(g_path, st), g_path);
}

int before_remove(const char *path)
{
    if (!path) return 0;
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) return 0;
    return before_unlink(AT_FDCWD, path, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0);
}

int before_rename(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags)
{
    if (!oldpath || !newpath) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(olddirfd, oldpath, g_path, sizeof g_path)) return 0;
    if (!absolute(newdirfd, newpath, g_path2, sizeof g_path2)) return 0;
    const bool ex_old = path_excluded(g_path), ex_new = path_excluded(g_path2);
    if (ex_old && ex_new) return 0;
    struct stat so, sn;
    if (lstat_at(olddirfd, oldpath, so) != 0) return 0;
    const bool exchange = flags & 2 /* RENAME_EXCHANGE */;
    long rn = lstat_at(newdirfd, newpath, sn);
    if (exchange && rn != 0) return 0;
    if (rn == 0 && !exchange && !(flags & 1 /* RENAME_NOREPLACE */) &&
        !(sn.st_dev == so.st_dev && sn.st_ino == so.st_ino) && !ex_new) {
        // The target is replaced: keep it.
        if (int err = record_removal(g_path2, sn)) return on_failure_of(err, g_path2);
    }
    RecordArgs a{pct::Kind::Rename};
    a.flags = (exchange ? pct::kExchange : 0) | (S_ISDIR(so.st_mode) ? pct::kDir : 0);
    a.path = g_path;
    a.path2 = g_path2;
    a.ino = so.st_ino;
    return on_failure_of(emit(a), g_path2);
}


int before_mkdir(int dirfd, const char *path) { return record_create(dirfd, path, pct::kDir); }

int before_new_name(int dirfd, const char *path)
{
    return record_create(dirfd, path, 0);
}

int before_attr_path(int dirfd, const char *path, int at_flags)
{
    if (!path) return 0;
    if (path[0] == 0 && (at_flags & AT_EMPTY_PATH)) return before_attr_fd(dirfd);
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    struct stat st;
    return path_meta(dirfd, path, !(at_flags & AT_SYMLINK_NOFOLLOW), nullptr, st);
}

int before_attr_fd(int fd)
{
    if (fd >= 0 && fd < kMaxFd) {
        const FdEntry e = g_fds[fd];
        if (e.gen == g_gen && (!(e.flags & kFdTracked) || (e.file->flags & kMetaDone))) return 0;
    }
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    FdEntry e;
    struct stat st;
    uint16_t rf = 0;
    bool tracked = classify(fd, e, st, rf);
    cache_fd(fd, e);
    if (!tracked) return 0;
    return fail(record_meta(e.file, g_path, rf, st), e.file, g_path);
}

int before_sync(int fd)
{
    (void)fd;  // one log for all files: syncing it covers this file's records
    if (log_synced()) return 0;  // the common case: no system call
    SlowGuard g;
    if (sys_getpid() != g_pid || log_synced()) return 0;
    int err = sync_log();
    if (!err) return 0;
    // Reported like a recording failure, but no UNPROTECTED record: the records exist, only
    // their durability before the program's is not assured.
    char name[64];
    pct::epoch_name(name, sizeof name, "pct-", g_log.epoch, ".log");
    job_path(g_tmp, sizeof g_tmp, name);
    report_failure(g_tmp, err, g_cfg.proceed_on_failure);
    return g_cfg.proceed_on_failure ? 0 : err;
}

void fd_closed(int fd)
{
    forget_fd(fd);
    if (fd == g_log.fd || fd == g_log.undo_dir_fd || is_stream_fd(fd)) {
        SlowGuard g;
        if (sys_getpid() != g_pid) return;  // a vfork() child closing its copies: not ours
        if (fd == g_log.fd) g_log.fd = -1;  // the program closed ours: reopened when needed
        if (fd == g_log.undo_dir_fd) g_log.undo_dir_fd = -1;
        if (fd >= 0) forget_streams(unsigned(fd), unsigned(fd));
    }
}

void fd_repositioned(int fd)
{
    // The next plain write() through it asks for its offset (growth.h).
    if (fd >= 0 && fd < kMaxFd) __atomic_or_fetch(&g_fds[fd].flags, uint32_t(kFdMoved), __ATOMIC_RELAXED);
    stream_repositioned(fd);
}

void fd_replaced(int fd)
{
    if (fd >= 0 && fd < kMaxFd) __atomic_store_n(&g_fds[fd].gen, 0, __ATOMIC_RELEASE);
    if (fd == g_log.fd || fd == g_log.undo_dir_fd) {
        SlowGuard g;
        if (sys_getpid() != g_pid) return;  // a vfork() child's descriptor table is its own
        if (fd == g_log.fd) g_log.fd = -1;
        if (fd == g_log.undo_dir_fd) g_log.undo_dir_fd = -1;
    }
    if (fd == 1 || fd == 2) {
        // A standard stream now refers to something else: stdio writes to it invisibly.
        SlowGuard g;
        if (sys_getpid() != g_pid || ensure_buf()) return;
        protect_fd(fd, StreamKind::Sequential);
    }
}

int own_fds(int *out, int max)
{
    int n = 0;
    if (g_log.fd >= 0 && n < max) out[n++] = g_log.fd;
    if (g_log.undo_dir_fd >= 0 && n < max) out[n++] = g_log.undo_dir_fd;
    return n;
}

void fds_closed(unsigned first, unsigned last)
{
    for (unsigned fd = first; fd <= last && fd < unsigned(kMaxFd); ++fd) g_fds[fd].gen = 0;
    SlowGuard g;
    if (sys_getpid() != g_pid) return;  // a vfork() child closing its copies: not ours
    if (g_log.fd >= 0 && unsigned(g_log.fd) >= first && unsigned(g_log.fd) <= last) g_log.fd = -1;
    if (g_log.undo_dir_fd >= 0 && unsigned(g_log.undo_dir_fd) >= first && unsigned(g_log.undo_dir_fd) <= last)
        g_log.undo_dir_fd = -1;
    forget_streams(first, last);
}

}  // namespace ckpt::persist
