#include "compress/raw_thread.h"

#include <linux/sched.h>
#include <sys/syscall.h>

#include "sys/raw_syscall.h"

namespace ckpt::rawthread {

long start(Thread &t, void (*fn)(void *), void *arg, void *stack, size_t size)
{
    const unsigned long flags = CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |
                                CLONE_PARENT_SETTID | CLONE_CHILD_CLEARTID;
    // The child starts on the new stack with fn and arg on top: it pops them, calls fn (the
    // stack 16-byte aligned at the call, as the ABI wants) and exits the thread (SYS_exit,
    // not exit_group) when fn returns.
    uint64_t *sp = reinterpret_cast<uint64_t *>((reinterpret_cast<uintptr_t>(stack) + size) & ~uintptr_t(15));
    *--sp = reinterpret_cast<uint64_t>(arg);
    *--sp = reinterpret_cast<uint64_t>(fn);
    t.tid = -1;  // nonzero before the clone: join() must not pass before CLONE_PARENT_SETTID
    register long r10 __asm__("r10") = reinterpret_cast<long>(&t.tid);  // child_tid
    register long r8 __asm__("r8") = 0;                                  // tls (unused)
    long ret;
    __asm__ volatile(
        "syscall\n\t"
        "test %%rax, %%rax\n\t"
        "jnz 1f\n\t"
        "xor %%ebp, %%ebp\n\t"
        "pop %%rax\n\t"
        "pop %%rdi\n\t"
        "call *%%rax\n\t"
        "mov %[exit_nr], %%eax\n\t"
        "xor %%edi, %%edi\n\t"
        "syscall\n\t"
        "hlt\n"
        "1:\n\t"
        : "=a"(ret)
        : "a"(long(SYS_clone)), "D"(flags), "S"(sp), "d"(&t.tid), "r"(r10), "r"(r8), [exit_nr] "i"(SYS_exit)
        : "rcx", "r11", "memory");
    if (ret < 0) t.tid = 0;
    return ret;
}

void join(Thread &t)
{
    for (;;) {
        const int32_t tid = __atomic_load_n(&t.tid, __ATOMIC_ACQUIRE);
        if (tid == 0) return;
        sys_futex(&t.tid, 0 /* FUTEX_WAIT (shared: the kernel's clear-tid wake is not private) */, uint32_t(tid), nullptr);
    }
}

}  // namespace ckpt::rawthread
