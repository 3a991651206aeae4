// madvise(MADV_FREE): the pages given up are not saved by the next checkpoint unless written
// again (write_tracker::note_freed protects them again right after the call). Inside a
// section, so that no checkpoint falls between the call and the protection.
#include <sys/mman.h>

#include "real.h"
#include "../runtime/write_tracker.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, madvise, (void *, size_t, int))

namespace {
__attribute__((constructor(101))) void resolve_madvise() { real_madvise(); }
}  // namespace

CKPT_EXPORT int madvise(void *addr, size_t len, int advice)
{
    auto f = real_madvise();
    if (advice != MADV_FREE || !write_tracker::enabled())
        return f ? f(addr, len, advice) : int(raw_result(sys_madvise(addr, len, advice)));
    persist::Section section;
    const int r = f ? f(addr, len, advice) : int(raw_result(sys_madvise(addr, len, advice)));
    if (r == 0) {
        const int saved = errno;
        write_tracker::note_freed(reinterpret_cast<uint64_t>(addr), len);
        errno = saved;
    }
    return r;
}
