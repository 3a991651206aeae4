#include "slow_guard.h"

#include <signal.h>

#include "../sys/raw_syscall.h"

namespace ckpt::persist {

uint64_t g_mut = 0;
int g_pid = 0;

namespace {
int g_lock = 0;
void lock()
{
    while (__atomic_exchange_n(&g_lock, 1, __ATOMIC_ACQUIRE))
        while (__atomic_load_n(&g_lock, __ATOMIC_RELAXED)) __builtin_ia32_pause();
}
void unlock() { __atomic_store_n(&g_lock, 0, __ATOMIC_RELEASE); }
}  // namespace

SlowGuard::SlowGuard(bool in_handler) : handler_(in_handler)
{
    if (!handler_) {
        uint64_t all = ~0ull;
        sys_rt_sigprocmask(SIG_BLOCK, &all, &old_);
    }
    lock();
    __atomic_add_fetch(&g_mut, 1, __ATOMIC_SEQ_CST);
}

SlowGuard::~SlowGuard()
{
    __atomic_add_fetch(&g_mut, 1, __ATOMIC_SEQ_CST);
    unlock();
    if (!handler_) sys_rt_sigprocmask(SIG_SETMASK, &old_, nullptr);
}

}  // namespace ckpt::persist
