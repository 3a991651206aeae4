#include "fd_table.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <termios.h>
#include <sys/ioctl.h>

#include "runtime_state.h"
#include "sys/raw_syscall.h"

namespace ckpt {
namespace {


image::FdKind classify(int fd, const struct stat &st, const char *link, size_t link_len)
{
    if (S_ISREG(st.st_mode)) return image::FdKind::RegularFile;
    if (S_ISDIR(st.st_mode)) return image::FdKind::Directory;
    if (S_ISFIFO(st.st_mode)) return image::FdKind::Pipe;
    if (S_ISSOCK(st.st_mode)) return image::FdKind::Socket;
    if (S_ISCHR(st.st_mode)) {
        struct termios t;
        if (RAW3(SYS_ioctl, fd, TCGETS, &t) == 0) return image::FdKind::Terminal;
        return image::FdKind::CharDevice;
    }
    (void)link; (void)link_len;
    return image::FdKind::Other;
}

bool is_deleted_file(image::FdKind kind, const char *link, size_t ll)
{
    return kind == image::FdKind::RegularFile && text::starts_with(link, ll, "/") && ll > 10 &&
           text::equal(link + ll - 10, " (deleted)");
}

// What a reopen by path cannot bring back: pipes, sockets, other kernel objects, deleted files.
bool reopenable(image::FdKind kind, const char *link, size_t ll)
{
    if (kind == image::FdKind::Pipe || kind == image::FdKind::Socket || kind == image::FdKind::Other) return false;
    return !is_deleted_file(kind, link, ll);
}

RuntimeState::InheritedFd *inherited_entry(int fd, const struct stat &st)
{
    for (int i = 0; i < g_rt.n_inherited; ++i) {
        RuntimeState::InheritedFd &e = g_rt.inherited[i];
        if (e.fd == fd && e.dev == uint64_t(st.st_dev) && e.ino == uint64_t(st.st_ino)) return &e;
    }
    return nullptr;
}

// Calls f(fd, dir_fd, name) for every descriptor listed in /proc/self/fd but the listing's own.
template <typename F>
long for_each_fd(char *buf, size_t size, F f)
{
    long dir = sys_openat(AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0) return dir;
    for (;;) {
        long n = sys_getdents64(int(dir), buf, size);
        if (n <= 0) {
            sys_close(int(dir));
            return n;
        }
        for (long off = 0; off < n;) {
            auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
            off += d->d_reclen;
            if (d->d_name[0] < '0' || d->d_name[0] > '9') continue;
            const char *p = d->d_name;
            uint64_t fdnum = 0;
            text::parse_u64(p, p + text::length(p), fdnum);
            if (int(fdnum) == int(dir)) continue;
            if (!f(int(fdnum), int(dir), d->d_name)) {
                sys_close(int(dir));
                return 1;
            }
        }
    }
}

}  // namespace

void record_inherited_fds()
{
    char buf[4096], link[4096];
    g_rt.n_inherited = 0;
    for_each_fd(buf, sizeof buf, [&](int fd, int dir, const char *name) {
        if (fd <= 2) return true;
        long ll = sys_readlinkat(dir, name, link, sizeof link - 1);
        struct stat st;
        if (ll < 0 || sys_fstat(fd, &st) != 0) return true;
        link[ll] = 0;
        if (reopenable(classify(fd, st, link, size_t(ll)), link, size_t(ll))) return true;
        if (g_rt.n_inherited == int(sizeof g_rt.inherited / sizeof g_rt.inherited[0])) return false;
        g_rt.inherited[g_rt.n_inherited++] = {fd, false, uint64_t(st.st_dev), uint64_t(st.st_ino)};
        return true;
    });
}

CaptureError capture_fds(CaptureSet &set, const int *internal_fds, int n_internal)
{
    CaptureError err;
    char *link = set.scratch + 65536;
    bool refused = false;
    const long listed = for_each_fd(set.scratch, 65536, [&](int fd, int dir, const char *name) {
        for (int i = 0; i < n_internal; ++i)
            if (fd == internal_fds[i]) return true;
        long ll = sys_readlinkat(dir, name, link, 4095);
        if (ll < 0) return true;  // closed meanwhile
        link[ll] = 0;
        struct stat st;
        if (sys_fstat(fd, &st) != 0) return true;
        image::FdRecord *r = set.fds.push();
        if (!r) {
            err.err = 24;
            err.what = "too many descriptors";
            return false;
        }
        *r = image::FdRecord{};
        r->fd = fd;
        r->kind = classify(fd, st, link, size_t(ll));
        r->open_flags = uint32_t(sys_fcntl(fd, F_GETFL, 0));
        r->cloexec = (sys_fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) ? 1 : 0;
        long pos = sys_lseek(fd, 0, SEEK_CUR);
        r->offset = pos < 0 ? -1 : pos;
        r->dev = st.st_dev;
        r->ino = st.st_ino;
        r->path = set.strings.add(link, size_t(ll));

        const bool standard = fd <= 2;
        if (!standard && !reopenable(r->kind, link, size_t(ll))) {
            if (RuntimeState::InheritedFd *e = inherited_entry(fd, st)) {
                // Found open at start (a parent's leak the program never asked for): saved
                // as inherited, restored as /dev/null. Said once per descriptor.
                r->flags |= image::kFdInherited;
                if (!e->logged) {
                    e->logged = true;
                    char msg[88];
                    text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(fd)).add(" (").add(link)
                        .add(") inherited at start: restored as /dev/null");
                    report(StatusType::Warning, 0, 0, 0, 0, 0, msg);
                }
                return true;
            }
        }
        const char *why = nullptr;
        if (is_deleted_file(r->kind, link, size_t(ll)))
            why = "refers to a deleted file";
        else if (!standard && (r->kind == image::FdKind::Socket || r->kind == image::FdKind::Other))
            why = "is a socket or other kernel object (not supported yet)";
        else if (!standard && r->kind == image::FdKind::Pipe) {
            int unread = 0;
            if ((r->open_flags & O_ACCMODE) == O_RDONLY && RAW3(SYS_ioctl, fd, FIONREAD, &unread) == 0 && unread > 0)
                why = "is a pipe holding unread data (retried at the next checkpoint)";
        }
        if (why) {
            err.err = 95;
            err.what = why;
            text::Builder(err.detail, sizeof err.detail).add("fd ").add(uint64_t(fd)).add(" -> ").add(link);
            refused = true;
            return false;
        }
        return true;
    });
    if (refused || err) return err;
    if (listed < 0) {
        err.err = int(-listed);
        err.what = "cannot list /proc/self/fd";
        return err;
    }
    // A pipe can be rebuilt only if both of its ends are in this process (a self-pipe, as
    // event loops and xz use); a pipe to another process is a later phase.
    for (size_t i = 0; i < set.fds.size(); ++i) {
        const image::FdRecord &r = set.fds[i];
        if (r.kind != image::FdKind::Pipe || r.fd <= 2 || (r.flags & image::kFdInherited)) continue;
        bool has_reader = false, has_writer = false;
        for (size_t j = 0; j < set.fds.size(); ++j) {
            const image::FdRecord &o = set.fds[j];
            if (o.kind != image::FdKind::Pipe || o.ino != r.ino || o.dev != r.dev || o.fd <= 2 ||
                (o.flags & image::kFdInherited))
                continue;
            has_reader = has_reader || (o.open_flags & O_ACCMODE) == O_RDONLY;
            has_writer = has_writer || (o.open_flags & O_ACCMODE) == O_WRONLY;
        }
        if (!has_reader || !has_writer) {
            err.err = 95;
            err.what = "is a pipe to another process (not supported yet)";
            text::Builder(err.detail, sizeof err.detail).add("fd ").add(uint64_t(r.fd));
            return err;
        }
    }
    return err;
}

namespace {

// High descriptor numbers used while rebuilding, clear of every number being restored.
constexpr int kScratchFdBase = 1100;

void place_fd(long tmp, const image::FdRecord &r)
{
    sys_dup3(int(tmp), r.fd, r.cloexec ? O_CLOEXEC : 0);
    sys_fcntl(r.fd, F_SETFL, long(r.open_flags & (O_NONBLOCK | O_APPEND | O_ASYNC)));
}

// Rebuilds a self-pipe: one new pipe per pipe inode, its ends placed on every descriptor
// that had them.
void restore_pipe(const image::FdRecord *fds, size_t n, size_t first)
{
    const image::FdRecord &r = fds[first];
    for (size_t j = 0; j < first; ++j)
        if (fds[j].kind == image::FdKind::Pipe && fds[j].ino == r.ino && fds[j].fd > 2) return;  // done
    int p[2];
    if (RAW2(SYS_pipe2, p, O_CLOEXEC) != 0) return;
    long rd = sys_fcntl(p[0], F_DUPFD_CLOEXEC, kScratchFdBase);
    long wr = sys_fcntl(p[1], F_DUPFD_CLOEXEC, kScratchFdBase);
    sys_close(p[0]);
    sys_close(p[1]);
    for (size_t j = first; j < n; ++j) {
        const image::FdRecord &o = fds[j];
        if (o.kind != image::FdKind::Pipe || o.ino != r.ino || o.fd <= 2) continue;
        place_fd((o.open_flags & O_ACCMODE) == O_RDONLY ? rd : wr, o);
    }
    sys_close(int(rd));
    sys_close(int(wr));
}

// stdin or stdout that was a regular file stays that file if the new launcher gave the
// program the same file: its offset is restored. Anything else (terminal, pipe, another
// file) is taken from the new launcher as it is.
void restore_standard(const image::FdRecord &r, void (*warn)(const char *))
{
    // stderr is left where it is: the launcher logs into the same open file.
    if (r.kind != image::FdKind::RegularFile || r.fd == 2) return;
    struct stat st;
    if (sys_fstat(r.fd, &st) != 0 || uint64_t(st.st_dev) != r.dev || uint64_t(st.st_ino) != r.ino)
        return;
    if (r.open_flags & O_APPEND) return;
    if (st.st_size < r.offset) {
        char msg[88];
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(r.fd))
            .add(" was truncated since the checkpoint (use >> or 1<>)");
        warn(msg);
    }
    sys_lseek(r.fd, r.offset, SEEK_SET);
}

// A descriptor inherited at start that cannot be reopened (see image::kFdInherited) becomes
// /dev/null with the same access mode: its number stays taken, so a later open() of the
// program cannot land on it and be mistaken for the old descriptor; reads see end of file
// and writes are discarded instead of failing with EBADF.
void restore_inherited(const image::FdRecord &r, void (*warn)(const char *))
{
    long fd = sys_openat(AT_FDCWD, "/dev/null", int(r.open_flags & O_ACCMODE) | O_CLOEXEC, 0);
    if (fd < 0) {
        warn("cannot open /dev/null for an inherited descriptor");
        return;
    }
    if (fd != r.fd) {
        sys_dup3(int(fd), r.fd, r.cloexec ? O_CLOEXEC : 0);
        sys_close(int(fd));
    } else if (!r.cloexec) {
        sys_fcntl(r.fd, F_SETFD, 0);
    }
    char msg[88];
    text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(r.fd)).add(" was inherited at start: it is /dev/null now");
    warn(msg);
}

}  // namespace

void restore_fds(const image::FdRecord *fds, size_t n, const char *strings, int keep_fd,
                 void (*warn)(const char *text))
{
    // Close whatever the restorer had open beyond the standard streams and the status socket
    // (with the job's lock just below it, kLockFd).
    const int keep_lo = keep_fd == kStatusFd ? kLockFd : keep_fd;
    if (keep_lo > 3) sys_close_range(3, unsigned(keep_lo - 1));
    sys_close_range(unsigned(keep_fd < 3 ? 3 : keep_fd + 1), ~0u);

    for (size_t i = 0; i < n; ++i) {
        const image::FdRecord &r = fds[i];
        const bool set_by_program = r.fd <= 2 && r.kind == image::FdKind::RegularFile &&
                                    (r.dev != g_rt.std_dev[r.fd] || r.ino != g_rt.std_ino[r.fd]);
        if (r.fd <= 2 && !set_by_program) { restore_standard(r, warn); continue; }
        if (r.flags & image::kFdInherited) { restore_inherited(r, warn); continue; }
        if (r.kind == image::FdKind::Pipe) { restore_pipe(fds, n, i); continue; }
        const char *path = r.path == image::kNoString ? "" : strings + r.path;
        int flags = int(r.open_flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
        long fd = sys_openat(AT_FDCWD, path, flags | O_CLOEXEC | O_NOCTTY, 0);
        if (fd < 0 && r.kind == image::FdKind::Terminal)
            fd = sys_openat(AT_FDCWD, "/dev/null", O_RDWR | O_CLOEXEC, 0);
        if (fd < 0) {
            char msg[88];
            text::Builder(msg, sizeof msg).add("cannot reopen fd ").add(uint64_t(r.fd)).add(": ").add(path);
            warn(msg);
            continue;
        }
        if (fd != r.fd) {
            sys_dup3(int(fd), r.fd, r.cloexec ? O_CLOEXEC : 0);
            sys_close(int(fd));
        } else if (!r.cloexec) {
            sys_fcntl(r.fd, F_SETFD, 0);
        }
        if (r.offset > 0 && (r.kind == image::FdKind::RegularFile || r.kind == image::FdKind::Directory))
            sys_lseek(r.fd, r.offset, SEEK_SET);
    }
}

}  // namespace ckpt
