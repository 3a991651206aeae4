// Threads made with a raw clone(), for the forked writer's compression: the writer is a copy
// of one thread of a possibly threaded program, so pthread_create (which takes glibc's
// locks and allocates) is not safe there. A raw thread shares everything with its creator,
// including the thread pointer (no CLONE_SETTLS): it must never write thread-local state
// (errno, or anything __thread). What it runs may read the TCB: the stack protector's canary
// is read-only. Its stack is memory the caller provides (an arena); its exit clears and wakes
// its tid word (CLONE_CHILD_CLEARTID), after which the stack may be freed.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::rawthread {

struct Thread {
    volatile int32_t tid = 0;  // set at clone, 0 once the thread has exited
};

// Starts fn(arg) on a new thread of this process on the stack [stack, stack + size). Returns
// the tid or -errno. The thread inherits the caller's signal mask.
long start(Thread &t, void (*fn)(void *), void *arg, void *stack, size_t size);

// Waits until the thread has exited.
void join(Thread &t);

}  // namespace ckpt::rawthread
