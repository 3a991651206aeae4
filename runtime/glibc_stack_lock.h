// glibc's thread-stack cache lock (GL(dl_stack_cache_lock) in ld.so's _rtld_global, glibc 2.34
// and later): pthread_create, pthread_join and a detached thread's exit take it to move a
// stack between the lists of used and cached stacks. A thread on its way out takes it with
// every signal blocked, so it cannot be stopped; if a thread stopped for a checkpoint holds
// the lock (stopped inside pthread_create), the exiting thread sleeps on it for as long as the
// stop lasts and the stop never completes. The coordinator therefore takes the lock itself
// before it stops the others (none can then be stopped inside the lock) and gives it back
// once every thread that takes signals has parked (a parked thread cannot take it any more),
// so that exiting threads can finish.
//
// Its address is private to glibc. find() proves it at start-up: the list head
// GL(dl_stack_user) is found inside _rtld_global by its links to the main thread's descriptor
// (the only user stack), its neighbours _dl_stack_used and _dl_stack_cache are list heads
// too, and the lock follows them in the order of glibc's source (ldsodefs.h, unchanged from
// 2.34 to 2.36, checked with libc6-dbg on 2.36). On any other glibc, or if a check fails, the
// lock is not known and the stop falls back to letting every thread go and trying again.
#pragma once

#include <stdint.h>

namespace ckpt::glibc_stack_lock {

// At start-up (single-threaded, before main): finds the lock. Not async-signal-safe.
void find();

// Whether find() found it.
bool known();

// In the checkpoint handler: takes the lock, sleeping at most `timeout_ns` until its holder
// gives it back (false if it is not known or not free by then: the interrupted code of this
// very thread may hold it).
bool take(uint64_t timeout_ns);

// Gives it back (after take() returned true), waking a waiter as glibc's lll_unlock does.
void drop();

}  // namespace ckpt::glibc_stack_lock
