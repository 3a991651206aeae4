// Reading a whole /proc file with raw system calls (async-signal-safe), for the runtime's
// capture and the restorer's checks alike.
#pragma once

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>

#include "raw_syscall.h"

namespace ckpt {

// Reads `path` into buf (NUL-terminated); its length, or -errno (-E2BIG if it does not fit).
inline long read_proc_file(const char *path, char *buf, size_t cap)
{
    long fd = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0) return fd;
    size_t len = 0;
    for (;;) {
        if (len + 1 >= cap) { sys_close(int(fd)); return -E2BIG; }
        long n = sys_read(int(fd), buf + len, cap - 1 - len);
        if (n < 0) { sys_close(int(fd)); return n; }
        if (n == 0) break;
        len += size_t(n);
    }
    sys_close(int(fd));
    buf[len] = 0;
    return long(len);
}

}  // namespace ckpt
