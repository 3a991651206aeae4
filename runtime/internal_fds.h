// ckpt's own descriptors inside the program: the launcher's status socket and the job's lock
// (status_protocol.h: kStatusFd, kLockFd). The program must not be able to close or replace
// them by number (interpose/fd_wrappers.cpp); they are left out of every image
// (checkpoint.cpp). Only in the launcher's own child: in any other process they are just
// inherited descriptors.
#pragma once

#include "runtime_state.h"
#include "sys/raw_syscall.h"

namespace ckpt::internal_fds {

inline bool guarded() { return g_rt.status_fd >= 0 && g_rt.launcher_pid > 0 && sys_getppid() == g_rt.launcher_pid; }

inline bool is_internal(int fd) { return fd >= 0 && guarded() && (fd == g_rt.status_fd || fd == g_rt.lock_fd); }

inline bool any() { return guarded(); }

// Both (or the one) in increasing order; the count.
inline int sorted(int out[2])
{
    if (!guarded()) return 0;
    int n = 0;
    if (g_rt.lock_fd >= 0) out[n++] = g_rt.lock_fd;
    if (g_rt.status_fd >= 0) out[n++] = g_rt.status_fd;
    if (n == 2 && out[0] > out[1]) {
        const int t = out[0];
        out[0] = out[1];
        out[1] = t;
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
