// Capture of the descriptor table, in the checkpoint handler: every descriptor of
// /proc/self/fd is classified by the kind table and recorded, or the checkpoint is refused
// with a message naming it. Runs async-signal-safe: raw syscalls, the capture arena.
#include <fcntl.h>
#include <sys/stat.h>

#include "fd/fd_kind.h"
#include "fd/fd_table.h"
#include "runtime_state.h"
#include "sys/raw_syscall.h"

namespace ckpt {
namespace {

// The largest payload a kind may write (an epoll interest list, inotify watch paths).
constexpr uint32_t kPayloadCap = 64 * 1024;
constexpr long kKcmpFile = 0;          // KCMP_FILE, linux/kcmp.h

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

// Do descriptors a and b (same device and inode) refer to one open file description?
// kcmp(KCMP_FILE) says so exactly (CONFIG_KCMP; allowed on oneself). Without it, for a
// regular file: same status flags and offset, and moving a's offset moves b's (the probe puts
// it back). Other kinds without kcmp: taken as separate (docs/architecture.md).
bool same_description(const image::FdCommon &a, const image::FdCommon &b)
{
    const long pid = sys_getpid();
    const long r = RAW5(SYS_kcmp, pid, pid, kKcmpFile, a.fd, b.fd);
    if (r >= 0) return r == 0;
    if (a.kind != image::FdKind::RegularFile || a.open_flags != b.open_flags || a.offset != b.offset || a.offset < 0)
        return false;
    const int64_t probe = a.offset + 1;
    if (sys_lseek(a.fd, probe, SEEK_SET) != probe) return false;
    const bool shared = sys_lseek(b.fd, 0, SEEK_CUR) == probe;
    sys_lseek(a.fd, a.offset, SEEK_SET);
    return shared;
}

bool is_standard(int fd, const struct stat &st)
{
    if (fd > 2) return false;
    // A regular file other than the launcher's was set by the program (freopen, dup2).
    return !S_ISREG(st.st_mode) || (uint64_t(st.st_dev) == g_rt.std_dev[fd] && uint64_t(st.st_ino) == g_rt.std_ino[fd]);
}

void refuse(CaptureError &err, const char *why, int fd, const char *link)
{
    err.err = 95;  // EOPNOTSUPP: a state not supported (yet)
    err.what = why;
    text::Builder(err.detail, sizeof err.detail).add("fd ").add(uint64_t(fd)).add(" -> ").add(link);
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
        const fd::Probe p{fd, &st, link, size_t(ll), uint32_t(sys_fcntl(fd, F_GETFL, 0)), false, false};
        if (fd::classify(p).reopenable) return true;
        if (g_rt.n_inherited == int(sizeof g_rt.inherited / sizeof g_rt.inherited[0])) return false;
        g_rt.inherited[g_rt.n_inherited++] = {fd, false, uint64_t(st.st_dev), uint64_t(st.st_ino)};
        return true;
    });
}

CaptureError capture_fds(CaptureSet &set, const int *internal_fds, int n_internal)
{
    CaptureError err;
    fd::begin_fd_capture();
    char *link = set.scratch + 65536;
    FdSection &sec = set.fds;
    const long listed = for_each_fd(set.scratch, 65536, [&](int fd, int dir, const char *name) {
        for (int i = 0; i < n_internal; ++i)
            if (fd == internal_fds[i]) return true;
        long ll = sys_readlinkat(dir, name, link, 4095);
        if (ll < 0) return true;  // closed meanwhile
        link[ll] = 0;
        struct stat st;
        if (sys_fstat(fd, &st) != 0) return true;
        RuntimeState::InheritedFd *inherited = fd > 2 ? inherited_entry(fd, st) : nullptr;
        const fd::Probe p{fd, &st, link, size_t(ll), uint32_t(sys_fcntl(fd, F_GETFL, 0)), is_standard(fd, st),
                          inherited != nullptr};
        const fd::KindOps &kind = fd::classify(p);
        if (kind.refusal) {
            refuse(err, kind.refusal, fd, link);
            return false;
        }
        image::FdCommon *c = sec.begin_record(fd::record_size_for(kPayloadCap));
        if (!c) {
            err.err = 24;
            err.what = "too many descriptors";
            return false;
        }
        *c = image::FdCommon{};
        c->kind = kind.kind;
        c->fd = fd;
        c->open_flags = p.open_flags;
        c->flags = (sys_fcntl(fd, F_GETFD, 0) & FD_CLOEXEC) ? uint32_t(image::kFdCloexec) : 0u;
        const long pos = sys_lseek(fd, 0, SEEK_CUR);
        c->offset = pos < 0 ? -1 : pos;
        c->dev = st.st_dev;
        c->ino = st.st_ino;
        c->path = set.strings.add(link, size_t(ll));
        uint32_t payload = 0;
        if (kind.capture) {
            if (const char *why = kind.capture(p, c + 1, kPayloadCap, payload)) {
                refuse(err, why, fd, link);
                return false;
            }
        }
        c->payload_size = payload;
        c->record_size = fd::record_size_for(payload);
        const size_t index = sec.end_record(c->record_size);
        c->shares_with = uint32_t(index);
        for (size_t j = 0; j < index; ++j) {
            const image::FdCommon &o = sec[j];
            if (o.shares_with == j && o.dev == c->dev && o.ino == c->ino && same_description(o, *c)) {
                c->shares_with = uint32_t(j);
                break;
            }
        }
        if (inherited && !inherited->logged) {
            // Said once per descriptor: a parent's leak the program never asked for.
            inherited->logged = true;
            char msg[88];
            text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(fd)).add(" (").add(link)
                .add(") inherited at start: restored as /dev/null");
            report(StatusType::Warning, 0, 0, 0, 0, 0, msg);
        }
        return true;
    });
    if (err) return err;
    if (listed < 0) {
        err.err = int(-listed);
        err.what = "cannot list /proc/self/fd";
        return err;
    }
    // Refusals that need the whole table (a pipe end whose other end is not here).
    const image::FdCommon *const *all = sec.index();
    for (size_t i = 0; i < sec.size(); ++i) {
        const fd::KindOps *kind = fd::kind_ops(all[i]->kind);
        const char *why = kind && kind->check_set ? kind->check_set(all, sec.size(), i) : nullptr;
        if (why) {
            refuse(err, why, all[i]->fd, all[i]->path == image::kNoString ? "?" : set.strings.data() + all[i]->path);
            return err;
        }
    }
    return err;
}

}  // namespace ckpt
