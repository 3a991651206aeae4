// Shared by the wrapper files: how a wrapper finds the function it wraps (the next definition
// after libckpt.so, found once with dlsym(RTLD_NEXT) and cached) and how it is exported.
// dlsym may itself call wrapped functions (calloc, open): a per-thread guard makes such a
// nested look-up return null, and the wrapper then falls back to the raw system call.
#pragma once

#include <errno.h>

#include "../runtime/persistent/persist.h"
#include "../runtime/sys/raw_syscall.h"

#define CKPT_EXPORT extern "C" __attribute__((visibility("default")))

namespace ckpt::interpose {

void *next_symbol(const char *name);

// Converts a raw system call result to the libc convention.
inline long raw_result(long r)
{
    if (r < 0 && r > -4096) {
        errno = int(-r);
        return -1;
    }
    return r;
}

}  // namespace ckpt::interpose

// Declares real_NAME(): the next definition of NAME, or null while it cannot be looked up.
#define CKPT_REAL(ret, name, params)                                                    \
    using name##_fn_t = ret(*) params;                                                  \
    static name##_fn_t name##_cached;                                                   \
    __attribute__((unused)) static name##_fn_t real_##name()                            \
    {                                                                                   \
        name##_fn_t f = __atomic_load_n(&name##_cached, __ATOMIC_ACQUIRE);              \
        if (!f) {                                                                       \
            f = reinterpret_cast<name##_fn_t>(ckpt::interpose::next_symbol(#name));    \
            if (f) __atomic_store_n(&name##_cached, f, __ATOMIC_RELEASE);               \
        }                                                                               \
        return f;                                                                       \
    }

// The wrapper body shape shared by most wrappers: `check` returns 0 or an errno.
#define CKPT_GUARDED(fail_value, check, call)                  \
    do {                                                       \
        if (!ckpt::persist::enabled()) return call;            \
        ckpt::persist::Section section_;                       \
        if (int e_ = (check)) {                                \
            errno = e_;                                        \
            return fail_value;                                 \
        }                                                      \
        return call;                                           \
    } while (0)
