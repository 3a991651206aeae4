// Finding glibc's stack-cache lock at start-up (see glibc_stack_lock.h).
#include <dlfcn.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <stdlib.h>

#include "glibc_stack_lock.h"
#include "sys/raw_syscall.h"

namespace ckpt::glibc_stack_lock {

extern volatile int32_t *g_lock;

namespace {

struct ListHead {
    ListHead *next, *prev;
};

bool empty_list(const ListHead *h) { return h->next == h && h->prev == h; }

// The glibc releases whose _rtld_global has _dl_stack_used, _dl_stack_user, _dl_stack_cache,
// _dl_stack_cache_actsize, _dl_in_flight_stack, _dl_stack_cache_lock in this order.
bool layout_known(const char *v)
{
    char *end = nullptr;
    const long major = strtol(v, &end, 10);
    if (major != 2 || *end != '.') return false;
    const long minor = strtol(end + 1, nullptr, 10);
    return minor >= 34 && minor <= 36;
}

}  // namespace

void find()
{
    if (!layout_known(gnu_get_libc_version())) return;
    void *rtld = dlsym(RTLD_DEFAULT, "_rtld_global");
    Dl_info info;
    void *entry = nullptr;
    if (!rtld || !dladdr1(rtld, &info, &entry, RTLD_DL_SYMENT) || !entry) return;
    const auto *sym = static_cast<const ElfW(Sym) *>(entry);
    const uintptr_t lo = reinterpret_cast<uintptr_t>(rtld), hi = lo + sym->st_size;
    uint64_t fs = 0;
    if (sys_arch_prctl(0x1003 /* ARCH_GET_FS */, reinterpret_cast<unsigned long>(&fs)) != 0) return;
    // The main thread's descriptor starts at the thread pointer; its list node lies within
    // its first kilobytes. dl_stack_user is the list head whose only node is that one.
    const ListHead *found = nullptr;
    int matches = 0;
    for (uintptr_t a = lo; a + 6 * sizeof(void *) + sizeof(int32_t) <= hi; a += sizeof(void *)) {
        const auto *h = reinterpret_cast<const ListHead *>(a);
        const uintptr_t node = reinterpret_cast<uintptr_t>(h->next);
        if (node < fs || node >= fs + 0x1000 || h->prev != h->next) continue;
        const ListHead *n = h->next;
        if (n->next != h || n->prev != h) continue;
        found = h;
        ++matches;
    }
    if (matches != 1) return;
    // Its neighbours: the used stacks (none yet: no thread was created before us) and the
    // cache (empty), then the cache's size (0) and the stack in flight (none), then the lock
    // (free).
    const ListHead *used = found - 1, *cache = found + 1;
    const auto *actsize = reinterpret_cast<const uint64_t *>(found + 2);
    const auto *in_flight = actsize + 1;
    auto *lock = reinterpret_cast<volatile int32_t *>(const_cast<uint64_t *>(in_flight + 1));
    if (!empty_list(used) || !empty_list(cache) || *actsize != 0 || *in_flight != 0 || *lock != 0) return;
    g_lock = lock;
}

}  // namespace ckpt::glibc_stack_lock
