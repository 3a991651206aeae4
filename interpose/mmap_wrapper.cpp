// Writable shared mappings of a file: stores into them are invisible, so the whole file is
// saved when it is mapped and again at the start of every epoch while it stays mapped.
#include <sys/mman.h>

#include "real.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(void *, mmap, (void *, size_t, int, int, int, off_t))
CKPT_REAL(void *, mmap64, (void *, size_t, int, int, int, off64_t))
CKPT_REAL(int, munmap, (void *, size_t))

namespace {

__attribute__((constructor(101))) void resolve_all() { real_mmap(); real_mmap64(); real_munmap(); }

bool shared_writable(int prot, int flags, int fd)
{
    const int type = flags & 0x0f;  // MAP_TYPE
    return fd >= 0 && (prot & PROT_WRITE) && (type == MAP_SHARED || type == MAP_SHARED_VALIDATE);
}

template <typename Call>
void *map_common(void *addr, size_t len, int prot, int flags, int fd, Call call)
{
    if (!shared_writable(prot, flags, fd)) return call();
    if (!persist::enabled()) {
        // Recording off (standalone, before the first chkpnt()): remembered, protected when
        // recording starts.
        void *p = call();
        const int saved = errno;
        if (p != MAP_FAILED) persist::shared_mmap_noted(fd, p, len);
        errno = saved;
        return p;
    }
    persist::Section section;
    if (int e = persist::before_shared_mmap(fd)) {
        errno = e;
        return MAP_FAILED;
    }
    void *p = call();
    if (p != MAP_FAILED) {
        const int saved = errno;
        persist::after_shared_mmap(fd, p, len);
        errno = saved;
    }
    (void)addr;
    return p;
}

}  // namespace

CKPT_EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    return map_common(addr, len, prot, flags, fd, [&] {
        auto f = real_mmap();
        return f ? f(addr, len, prot, flags, fd, off) : sys_mmap(addr, len, prot, flags, fd, off);
    });
}

CKPT_EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off64_t off)
{
    return map_common(addr, len, prot, flags, fd, [&] {
        auto f = real_mmap64();
        return f ? f(addr, len, prot, flags, fd, off) : sys_mmap(addr, len, prot, flags, fd, off);
    });
}

CKPT_EXPORT int munmap(void *addr, size_t len)
{
    auto f = real_munmap();
    int r = f ? f(addr, len) : int(raw_result(sys_munmap(addr, len)));
    if (r == 0) {
        const int saved = errno;
        persist::after_munmap(addr, len, persist::enabled());
        errno = saved;
    }
    return r;
}
