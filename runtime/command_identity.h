// The identity of the command a job runs, recorded in every image so that a recovery can tell
// that an image belongs to another command (`ckpt-run --name job -- other`): XXH3-64 of the
// resolved executable path followed by every argument after argv[0], each preceded by a NUL,
// as 16 lowercase hex digits. The launcher computes it from its command line and passes it to
// the runtime (CKPT_COMMAND_ID); a standalone program computes it from /proc/self/exe and
// /proc/self/cmdline, which gives the same value for an ELF executable. Async-signal-safe.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "checksum.h"

namespace ckpt {

inline constexpr size_t kCommandIdLen = 16;

// `args`: the arguments after argv[0], each preceded by a NUL ("\0a\0b" for {"prog","a","b"}).
inline void command_identity(const char *exe, size_t exe_len, const char *args, size_t args_len,
                             char out[kCommandIdLen + 1])
{
    Checksum c;
    c.update(exe, exe_len);
    c.update(args, args_len);
    const uint64_t h = c.digest();
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < kCommandIdLen; ++i) out[i] = hex[(h >> (60 - 4 * i)) & 0xf];
    out[kCommandIdLen] = 0;
}

inline bool is_command_identity(const char *s)
{
    for (size_t i = 0; i < kCommandIdLen; ++i)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return false;
    return s[kCommandIdLen] == 0;
}

}  // namespace ckpt
