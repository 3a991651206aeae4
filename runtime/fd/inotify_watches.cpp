// The table of inotify watch paths (inotify_watches.h): fixed arrays, appended under a spin
// lock by the wrapper, read without it by the handler (an entry counts once `count` covers
// it, published after it is filled).
#include "inotify_watches.h"

namespace ckpt::fd {
namespace {

constexpr size_t kMaxWatches = 8192;
constexpr size_t kPathBytes = size_t(1) << 20;  // only the pages used are in an image

struct Entry {
    int32_t wd;
    uint32_t add_flags;
    uint64_t dev, ino;
    uint32_t at, len;
};

Entry g_entries[kMaxWatches];
char g_paths[kPathBytes];
size_t g_count;       // entries published
size_t g_path_used;   // bytes of g_paths taken
int g_lock;

}  // namespace

bool note_inotify_watch(int wd, const char *path, size_t len, uint32_t add_flags, uint64_t dev, uint64_t ino)
{
    while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE)) {
    }
    bool ok = false;
    const size_t n = __atomic_load_n(&g_count, __ATOMIC_RELAXED);
    if (n < kMaxWatches && len < kPathBytes - g_path_used) {
        for (size_t i = 0; i < len; ++i) g_paths[g_path_used + i] = path[i];
        g_paths[g_path_used + len] = 0;
        g_entries[n] = {int32_t(wd), add_flags, dev, ino, uint32_t(g_path_used), uint32_t(len)};
        g_path_used += len + 1;
        __atomic_store_n(&g_count, n + 1, __ATOMIC_RELEASE);
        ok = true;
    }
    __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE);
    return ok;
}

const char *inotify_watch_path(int wd, uint64_t dev, uint64_t ino, uint32_t &add_flags, uint32_t &len)
{
    for (size_t i = __atomic_load_n(&g_count, __ATOMIC_ACQUIRE); i-- > 0;) {
        const Entry &e = g_entries[i];
        if (e.wd == wd && e.dev == dev && e.ino == ino) {
            add_flags = e.add_flags;
            len = e.len;
            return g_paths + e.at;
        }
    }
    return nullptr;
}

}  // namespace ckpt::fd
