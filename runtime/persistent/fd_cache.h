// Per-descriptor cache: each descriptor is classified once per epoch (tracked or not, append,
// readable, which file), so that later writes through it cost no system call. An entry is
// valid while its gen equals g_gen, which every epoch change and exclusion change bumps.
#pragma once

#include <stdint.h>

#include "file_state.h"

namespace ckpt::persist {

constexpr int kMaxFd = 4096;
enum FdFlags : uint32_t {
    kFdTracked = 1,
    kFdAppend = 2,
    kFdReadable = 4,
    kFdMoved = 8,  // repositioned (lseek) since its last write: the offset may lie beyond the end
};
struct FdEntry {
    uint32_t gen;  // valid when equal to g_gen
    uint32_t flags;
    FileState *file;
};
extern FdEntry g_fds[kMaxFd];
extern uint32_t g_gen;

inline void cache_fd(int fd, const FdEntry &e)
{
    if (fd >= 0 && fd < kMaxFd) g_fds[fd] = e;
}
// The descriptor is classified again at its next use.
inline void forget_fd(int fd)
{
    if (fd >= 0 && fd < kMaxFd) __atomic_store_n(&g_fds[fd].gen, 0, __ATOMIC_RELEASE);
}
// Every descriptor is classified again.
inline void forget_all_fds()
{
    if (++g_gen == 0) g_gen = 1;
}

}  // namespace ckpt::persist
