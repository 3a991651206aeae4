// The table of listen backlogs (listen_backlogs.h): a fixed array under a spin lock for the
// writers; the handler reads it with every other thread stopped.
#include "listen_backlogs.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr int kMaxListeners = 256;

struct Entry {
    int32_t fd;  // -1: free
    int32_t backlog;
    uint64_t dev, ino;
};

Entry g_entries[kMaxListeners];
int g_used;  // entries ever taken (a prefix of g_entries)
int g_lock;

// An entry is stale once its descriptor is no longer that socket (closed, or reused).
bool stale(const Entry &e)
{
    struct stat st;
    return sys_fstat(e.fd, &st) != 0 || uint64_t(st.st_dev) != e.dev || uint64_t(st.st_ino) != e.ino;
}

}  // namespace

bool note_listen_backlog(int fd, uint64_t dev, uint64_t ino, int backlog)
{
    while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE)) {
    }
    Entry *slot = nullptr;
    for (int i = 0; i < g_used && !slot; ++i)
        if (g_entries[i].dev == dev && g_entries[i].ino == ino) slot = &g_entries[i];  // listen() again
    for (int i = 0; i < g_used && !slot; ++i)
        if (g_entries[i].fd == fd) slot = &g_entries[i];  // the number now names another socket
    if (!slot && g_used < kMaxListeners) slot = &g_entries[g_used++];
    for (int i = 0; i < g_used && !slot; ++i)
        if (g_entries[i].fd < 0 || stale(g_entries[i])) slot = &g_entries[i];
    if (slot) *slot = {int32_t(fd), int32_t(backlog), dev, ino};
    __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE);
    return slot != nullptr;
}

bool listen_backlog(uint64_t dev, uint64_t ino, int &backlog)
{
    for (int i = 0; i < __atomic_load_n(&g_used, __ATOMIC_ACQUIRE); ++i) {
        const Entry &e = g_entries[i];
        if (e.fd >= 0 && e.dev == dev && e.ino == ino) {
            backlog = e.backlog;
            return true;
        }
    }
    return false;
}

}  // namespace ckpt::fd
