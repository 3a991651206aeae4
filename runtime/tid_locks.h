// Locks whose words name a thread id, in a restored process whose threads came back under new
// ids (clone3 set_tid refused: no CAP_CHECKPOINT_RESTORE). glibc writes the owner's tid into
// a held recursive, error-checking, robust, priority-inheritance or priority-protect mutex and
// into a write-locked rwlock, and checks it on unlock (EPERM, or a writer's unlock taken for a
// reader's). Such a lock held across the checkpoint by a thread whose id changed would fail
// its owner. ckpt cannot prove which words of the program's memory are such locks, so it
// does not rewrite them: it looks for anything that could be one, and the restore is refused
// if it finds one (checkpoints kept; restored as root, the ids are the old ones).
//
// Found are: every 8-byte aligned pthread_mutex_t shape (glibc's x86-64 layout, public in
// <bits/struct_mutex.h>) in the process's writable memory whose owner is an old id, whose kind
// is one of those above and which is held and not on a robust list; every
// pthread_rwlock_t shape that is write-locked by an old id; every robust mutex on a thread's
// robust list (the kernel's ABI) whose lock word names an old id. The memory is read only.
// Raw system calls only (the restored process is still in the checkpoint handler).
#pragma once

#include <stdint.h>

namespace ckpt::tid_locks {

struct Found {
    uint64_t addr = 0;  // the lock
    int32_t tid = 0;    // the old id it names
    const char *kind = nullptr;  // "an owner-checking mutex" (recursive, error-checking, PI,
                                 // PP), "a write-locked rwlock", "a robust mutex"
};

// old: the ids of the threads that came back under another one (n of them, any order);
// robust_lists: each thread's robust list head (0: none), m of them; own: k ranges [lo, hi)
// of ckpt's own memory (its records of those ids): the mappings they touch are not scanned.
// True if a lock was found.
struct Range {
    uint64_t lo, hi;
};
bool find(const int32_t *old, int n, const uint64_t *robust_lists, int m, const Range *own, int k, Found &out);

}  // namespace ckpt::tid_locks
