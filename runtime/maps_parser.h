// Parsing of /proc/PID/maps lines without allocation (usable in the checkpoint handler).
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt {

struct MapsEntry {
    uint64_t start = 0, end = 0;
    uint32_t prot = 0;     // PROT_* bits
    bool shared = false;   // 's' in the permissions
    uint64_t offset = 0;
    uint32_t dev_major = 0, dev_minor = 0;
    uint64_t inode = 0;
    const char *name = nullptr;  // points into the line; not NUL-terminated
    size_t name_len = 0;         // 0 for an anonymous mapping
    bool deleted = false;        // name ended in " (deleted)", which is stripped from name_len
};

// Parses one line (without its newline). Returns false if it is not a maps line.
bool parse_maps_line(const char *line, size_t len, MapsEntry &out);

// "[vdso]", "[vvar]", "[vvar_vclock]", "[vsyscall]", "[uprobes]", ...: made by the kernel.
// "[heap]", "[stack]" and "[anon:...]" are ordinary memory and do not count.
bool is_kernel_special(const MapsEntry &e);
bool name_is(const MapsEntry &e, const char *s);

// Iterates the lines of a maps buffer.
class MapsLines {
public:
    MapsLines(const char *buf, size_t len) : p_(buf), end_(buf + len) {}
    bool next(const char *&line, size_t &len)
    {
        if (p_ >= end_) return false;
        line = p_;
        while (p_ < end_ && *p_ != '\n') ++p_;
        len = size_t(p_ - line);
        if (p_ < end_) ++p_;
        return true;
    }

private:
    const char *p_, *end_;
};

}  // namespace ckpt
