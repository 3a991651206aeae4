#include "invisible_writers.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../sys/raw_syscall.h"
#include "../text.h"
#include "content.h"
#include "failure.h"
#include "fd_cache.h"
#include "paths.h"
#include "pct_log.h"
#include "persist.h"
#include "slow_guard.h"

namespace ckpt::persist {

namespace {

constexpr int kMaxStreams = 256;
struct Stream {
    int fd;
    StreamKind kind;
};
Stream g_streams[kMaxStreams];
int g_n_streams = 0;

constexpr int kMaxMaps = 32;
struct SharedMap {
    uint64_t addr, len, dev, ino;
    char path[pct::kMaxPath];
};
SharedMap g_maps[kMaxMaps];
int g_n_maps = 0;

StreamKind stream_kind_of(int fd)
{
    for (int i = 0; i < g_n_streams; ++i)
        if (g_streams[i].fd == fd) return g_streams[i].kind;
    return StreamKind::Sequential;  // standard streams
}

int protect_map(const SharedMap &m)
{
    long fd = sys_openat(AT_FDCWD, m.path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return 0;  // renamed or removed: recorded when that happened
    struct stat st;
    int err = 0;
    if (sys_fstat(int(fd), &st) == 0 && uint64_t(st.st_dev) == m.dev && uint64_t(st.st_ino) == m.ino &&
        !path_excluded(m.path)) {
        FileState *f = get_state(st.st_dev, st.st_ino);
        if (f) {
            err = record_meta(f, m.path, 0, st);
            if (!err) err = save_range(f, int(fd), m.path, 0, 0, f->orig_size);
            err = fail(err, f, m.path);
        }
    }
    sys_close(int(fd));
    return err;
}

}  // namespace

bool is_stream_fd(int fd)
{
    if (fd == 1 || fd == 2) return true;
    for (int i = 0; i < g_n_streams; ++i)
        if (g_streams[i].fd == fd) return true;
    return false;
}

// Start of an epoch: everything written invisibly is protected again.
void protect_invisible_writers()
{
    protect_fd(1, StreamKind::Sequential);
    protect_fd(2, StreamKind::Sequential);
    for (int i = 0; i < g_n_streams; ++i) protect_fd(g_streams[i].fd, g_streams[i].kind);
    for (int i = 0; i < g_n_maps; ++i) protect_map(g_maps[i]);
}

void forget_streams(unsigned first, unsigned last)
{
    for (int i = 0; i < g_n_streams;) {
        if (unsigned(g_streams[i].fd) >= first && unsigned(g_streams[i].fd) <= last) {
            g_streams[i] = g_streams[--g_n_streams];
            continue;
        }
        ++i;
    }
}

void stream_opened(int fd, StreamKind kind)
{
    if (fd < 0) return;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return;
    int i = 0;
    while (i < g_n_streams && g_streams[i].fd != fd) ++i;
    if (i == g_n_streams) {
        if (g_n_streams == kMaxStreams) kind = StreamKind::Whole;  // cannot track: protect now only
        else ++g_n_streams;
    }
    if (i < kMaxStreams) g_streams[i] = {fd, kind};
    if (fd < kMaxFd) g_fds[fd].gen = 0;
    protect_fd(fd, kind);
}

void stream_noted(int fd, StreamKind kind)
{
    if (fd < 0) return;
    SlowGuard g;
    int i = 0;
    while (i < g_n_streams && g_streams[i].fd != fd) ++i;
    if (i == g_n_streams) {
        if (g_n_streams == kMaxStreams) return;  // protected when recording starts only if noted
        ++g_n_streams;
    }
    g_streams[i] = {fd, kind};
}

void streams_closed_while_off(unsigned first, unsigned last)
{
    bool any = false;
    for (int i = 0; i < __atomic_load_n(&g_n_streams, __ATOMIC_RELAXED) && !any; ++i)
        any = unsigned(g_streams[i].fd) >= first && unsigned(g_streams[i].fd) <= last;
    if (!any) return;
    SlowGuard g;
    forget_streams(first, last);
}

void stream_repositioned(int fd)
{
    if (fd < 0 || fd >= kMaxFd) return;
    const FdEntry e = g_fds[fd];
    if (e.gen == g_gen && (!(e.flags & kFdTracked) || (e.flags & kFdAppend) || (e.file->flags & kAllCovered)))
        return;
    if (!is_stream_fd(fd)) return;
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return;
    protect_fd(fd, stream_kind_of(fd) == StreamKind::Append ? StreamKind::Append : StreamKind::Sequential);
}

int before_shared_mmap(int fd)
{
    SlowGuard g;
    if (sys_getpid() != g_pid || ensure_buf()) return 0;
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) return 0;  // can never be written through
    if (fd < kMaxFd) g_fds[fd].gen = 0;
    return protect_fd(fd, StreamKind::Whole, /*stdio=*/false);  // stores to a mapping never grow a file
}

void after_shared_mmap(int fd, void *addr, size_t len)
{
    SlowGuard g;
    if (sys_getpid() != g_pid) return;
    remember_map(fd, addr, len, true);
}

void shared_mmap_noted(int fd, void *addr, size_t len)
{
    SlowGuard g;
    remember_map(fd, addr, len, false);  // exclusions are not loaded yet: protect_map checks them
}

void remember_map(int fd, void *addr, size_t len, bool recording)
{
    long fl = sys_fcntl(fd, F_GETFL, 0);
    if (fl < 0 || (fl & O_ACCMODE) != O_RDWR) return;
    struct stat st;
    if (sys_fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return;
    if (fd_path(fd, g_tmp, sizeof g_tmp) != 1 || (recording && path_excluded(g_tmp))) return;
    if (g_n_maps == kMaxMaps) {
        if (recording) report_failure(g_tmp, ENOSPC, true);  // too many shared mappings to follow
        return;
    }
    SharedMap &m = g_maps[g_n_maps++];
    m.addr = reinterpret_cast<uint64_t>(addr);
    m.len = len;
    m.dev = st.st_dev;
    m.ino = st.st_ino;
    text::Builder(m.path, sizeof m.path).add(g_tmp);
}

void after_munmap(void *addr, size_t len, bool recording)
{
    if (!g_n_maps) return;
    SlowGuard g;
    if (recording && sys_getpid() != g_pid) return;  // a vfork() child's mappings are its own
    const uint64_t a = reinterpret_cast<uint64_t>(addr), b = a + len;
    for (int i = 0; i < g_n_maps;) {
        if (g_maps[i].addr >= a && g_maps[i].addr + g_maps[i].len <= b) {
            g_maps[i] = g_maps[--g_n_maps];
            continue;
        }
        ++i;
    }
}

}  // namespace ckpt::persist
