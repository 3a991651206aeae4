#include "names.h"

#include <errno.h>
#include <fcntl.h>

#include "../checksum.h"
#include "../sys/raw_syscall.h"
#include "../sys/safe_path.h"
#include "../text.h"
#include "failure.h"
#include "file_state.h"
#include "paths.h"
#include "pct_log.h"
#include "slow_guard.h"

namespace ckpt::persist {

namespace {

// Keeps a removed object as undo-K/<id>: a hard link where possible (O(1)), else a copy.
int preserve(const char *abs, const struct stat &st, uint64_t &id, uint16_t &flags)
{
    if (int e = ensure_undo_dir()) return e;
    id = g_log.next_undo_id++;
    char name[24];
    text::Builder(name, sizeof name).add(id);
    long r = sys_linkat(AT_FDCWD, abs, g_log.undo_dir_fd, name, 0);
    if (r == 0) { g_log.undo_dirty = true; return 0; }
    if (r != -EXDEV && r != -EPERM && r != -EMLINK && r != -EOPNOTSUPP) return int(-r);
    flags |= pct::kCopied;
    if (S_ISLNK(st.st_mode)) {
        long n = sys_readlinkat(AT_FDCWD, abs, g_tmp, sizeof g_tmp - 1);
        if (n < 0) return int(-n);
        g_tmp[n] = 0;
        r = sys_symlinkat(g_tmp, g_log.undo_dir_fd, name);
        if (r < 0) return int(-r);
        g_log.undo_dirty = true;
        return 0;
    }
    long in = sys_openat(AT_FDCWD, abs, O_RDONLY | O_CLOEXEC, 0);
    if (in < 0) return int(-in);
    long out = open_beneath(g_log.undo_dir_fd, name, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (out < 0) { sys_close(int(in)); return int(-out); }
    int err = 0;
    int64_t off = 0;
    while (off < st.st_size) {
        int64_t oi = off, oo = off;
        long n = sys_copy_file_range(int(in), &oi, int(out), &oo, size_t(st.st_size - off));
        if (n > 0) { off += n; continue; }
        if (n == 0) break;
        // No in-kernel copy between these file systems: through the buffer.
        if (int e = ensure_buf()) { err = e; break; }
        long m = sys_pread(int(in), g_buf, pct::kMaxDataChunk, off);
        if (m < 0) { err = int(-m); break; }
        if (m == 0) break;
        long w = sys_pwrite_all(int(out), g_buf, uint64_t(m), uint64_t(off));
        if (w < 0) { err = int(-w); break; }
        off += m;
    }
    if (!err) {
        sys_fchown(int(out), st.st_uid, st.st_gid);
        sys_fchmod(int(out), int(st.st_mode & 07777));
        struct timespec ts[2] = {st.st_atim, st.st_mtim};
        sys_utimensat(int(out), nullptr, ts, 0);
        long s = sys_fsync(int(out));
        if (s < 0) err = int(-s);
    }
    sys_close(int(in));
    sys_close(int(out));
    if (err) sys_unlinkat(g_log.undo_dir_fd, name, 0);
    else g_log.undo_dirty = true;
    return err;
}

// XXH3-64 of the object kept as undo-K/<name> (a symlink: its target), so that recovery can
// tell a damaged kept copy before it uses it. Reads the whole file: the price of a first
// removal or replacement of an existing file in an epoch.
int kept_checksum(const char *name, const struct stat &st, uint64_t &out)
{
    if (int e = ensure_buf()) return e;
    if (S_ISLNK(st.st_mode)) {
        long n = sys_readlinkat(g_log.undo_dir_fd, name, g_buf, pct::kMaxPath);
        if (n < 0) return int(-n);
        out = checksum(g_buf, size_t(n));
        return 0;
    }
    long fd = sys_openat(g_log.undo_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC, 0);
    if (fd < 0) return int(-fd);
    static Checksum cs;  // 576 bytes: used under the lock only
    cs = Checksum();
    int err = 0;
    for (int64_t off = 0;;) {
        long m = sys_pread(int(fd), g_buf, pct::kMaxDataChunk, off);
        if (m == -EINTR) continue;
        if (m < 0) { err = int(-m); break; }
        if (m == 0) break;
        cs.update(g_buf, size_t(m));
        off += m;
    }
    sys_close(int(fd));
    out = cs.digest();
    return err;
}


}  // namespace

int record_removal(const char *abs, const struct stat &st)
{
    if (S_ISDIR(st.st_mode)) {
        FileState *f = find_state(st.st_dev, st.st_ino);
        if (f && (f->flags & kCreated)) return 0;
        RecordArgs a{pct::Kind::Rmdir};
        a.flags = pct::kDir;
        a.path = abs;
        a.st = &st;
        return emit(a);
    }
    if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) return 0;  // pipes, sockets, devices
    FileState *f = find_state(st.st_dev, st.st_ino);
    if (f && (f->flags & kCreated)) return 0;  // created in this epoch: its CREATE undoes it
    uint64_t id = 0;
    uint16_t flags = S_ISLNK(st.st_mode) ? pct::kSymlink : 0;
    if (int e = preserve(abs, st, id, flags)) return e;
    RecordArgs a{pct::Kind::Removed};
    char kept[24];
    text::Builder(kept, sizeof kept).add(id);
    if (kept_checksum(kept, st, a.kept_checksum) == 0) flags |= pct::kKeptChecksum;
    a.flags = flags;
    a.path = abs;
    a.undo_id = id;
    a.st = &st;
    if (int e = emit(a)) return e;
    if (!(flags & pct::kCopied) && S_ISREG(st.st_mode)) {
        // Writes through descriptors still open on it land in the kept inode.
        if (!f) f = get_state(st.st_dev, st.st_ino);
        if (f) f->undo_id = id;
    } else if (f) {
        f->flags |= kAllCovered | kMetaDone;  // the copy is what comes back
    }
    return 0;
}

int record_create(int dirfd, const char *path, uint32_t flags)
{
    if (!path) return 0;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    if (!absolute(dirfd, path, g_path, sizeof g_path) || path_excluded(g_path)) return 0;
    struct stat st;
    if (lstat_at(dirfd, path, st) == 0) return 0;  // will fail with EEXIST
    RecordArgs a{pct::Kind::Create};
    a.flags = flags;
    a.path = g_path;
    return on_failure_of(emit(a), g_path);
}


}  // namespace ckpt::persist
