// ckpt's own descriptors inside the program: the launcher's status socket and the job's lock
// (status_protocol.h: kStatusFd, kLockFd; only in the launcher's own child: in any other
// process they are just inherited descriptors), and the persistent-state layer's log and
// undo directory. The program must not be able to close or replace them by number
// (interpose/fd_wrappers.cpp).
#pragma once

#include "persistent/persist.h"
#include "runtime_state.h"
#include "sys/raw_syscall.h"
#include "write_tracker.h"

namespace ckpt::internal_fds {

inline bool guarded() { return g_rt.status_fd >= 0 && g_rt.launcher_pid > 0 && sys_getppid() == g_rt.launcher_pid; }

constexpr int kMaxInternal = 6;

// The launcher's two (in its own child only), the write tracker's userfaultfd, the lazy
// loader's pipe, then the persistent-state layer's; the count.
inline int list(int out[kMaxInternal])
{
    int n = 0;
    if (guarded()) {
        if (g_rt.lock_fd >= 0) out[n++] = g_rt.lock_fd;
        out[n++] = g_rt.status_fd;
    }
    if (write_tracker::fd() >= 0) out[n++] = write_tracker::fd();
    if (g_rt.lazy_fd >= 0) out[n++] = g_rt.lazy_fd;
    return n + persist::own_fds(out + n, kMaxInternal - n);
}

inline bool is_internal(int fd)
{
    if (fd < 0) return false;
    int l[kMaxInternal];
    const int n = list(l);
    for (int i = 0; i < n; ++i)
        if (l[i] == fd) return true;
    return false;
}

// Whether `fd` is one move_away can move: the launcher's, the write tracker's or the loader's.
inline bool is_launchers(int fd)
{
    return fd >= 0 && ((guarded() && (fd == g_rt.status_fd || fd == g_rt.lock_fd)) || fd == write_tracker::fd() ||
                       fd == g_rt.lazy_fd);
}

// All of them in increasing order; the count.
inline int sorted(int out[kMaxInternal])
{
    const int n = list(out);
    for (int i = 1; i < n; ++i)
        for (int j = i; j > 0 && out[j - 1] > out[j]; --j) {
            const int t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

// The program is about to put something at `fd`, one of ckpt's: ckpt's moves to a free
// number above it. The status socket becomes close-on-exec there (an exec'd image is told
// kStatusFd, which is the program's now: runtime.cpp checks the peer and runs without a
// launcher then); the lock stays inheritable (the job stays locked while any process of it
// lives).
bool move_away(int fd);

}  // namespace ckpt::internal_fds
