// Taking and giving back glibc's stack-cache lock from the checkpoint handler (see the header):
// glibc's low-level lock protocol (0 free, 1 taken, 2 taken with waiters), raw futex calls.
#include "glibc_stack_lock.h"

#include "sys/raw_syscall.h"

namespace ckpt::glibc_stack_lock {

// Set once by find() (glibc_stack_lock_find.cpp) before any thread exists.
volatile int32_t *g_lock = nullptr;

bool known() { return g_lock != nullptr; }

bool take(uint64_t timeout_ns)
{
    if (!g_lock) return false;
    int32_t free_ = 0;
    if (__atomic_compare_exchange_n(g_lock, &free_, 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return true;
    // As glibc's lll_lock_wait: mark it contended (2), so that its holder wakes us, and sleep.
    const uint64_t deadline = sys_monotonic_ns() + timeout_ns;
    while (__atomic_exchange_n(g_lock, 2, __ATOMIC_ACQUIRE) != 0) {
        const uint64_t now = sys_monotonic_ns();
        if (now >= deadline) return false;  // left marked contended: its holder wakes no one, harmless
        const uint64_t left = deadline - now;
        raw_timespec ts{int64_t(left / 1000000000), int64_t(left % 1000000000)};
        sys_futex(g_lock, 0 | 128 /* FUTEX_WAIT_PRIVATE */, 2, &ts);
    }
    return true;
}

void drop()
{
    if (!g_lock) return;
    if (__atomic_exchange_n(g_lock, 0, __ATOMIC_RELEASE) == 2)
        sys_futex(g_lock, 1 | 128 /* FUTEX_WAKE_PRIVATE */, 1, nullptr);
}

}  // namespace ckpt::glibc_stack_lock
