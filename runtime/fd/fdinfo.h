// /proc/self/fdinfo/N of a kernel object's descriptor (eventfd-count, timerfd ticks, epoll
// tfd lines, inotify watches): read whole into a private mapping, then searched by key.
// Async-signal-safe (raw syscalls, no allocation): the capture runs in the handler.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::fd {

class FdInfo {
public:
    explicit FdInfo(int fd);
    ~FdInfo();
    FdInfo(const FdInfo &) = delete;
    FdInfo &operator=(const FdInfo &) = delete;
    // Read whole (false: no /proc, or more text than the buffer holds).
    bool ok() const { return ok_; }
    // The number after `key` (e.g. "eventfd-count:") on a line that starts with it.
    bool number(const char *key, unsigned base, uint64_t &v) const;
    // Calls f(line, end) for every line that starts with `prefix`, in order; stops when f
    // returns false (then returns false).
    template <typename F>
    bool each_line(const char *prefix, F f) const
    {
        for (const char *p = buf_, *end = buf_ + len_; p < end;) {
            const char *e = p;
            while (e < end && *e != '\n') ++e;
            if (starts(p, e, prefix) && !f(p, e)) return false;
            p = e + 1;
        }
        return true;
    }
    // Within [line, end): the number after `key` ("wd:", "events:").
    static bool field(const char *line, const char *end, const char *key, unsigned base, uint64_t &v);
    // Parses a number in base 8, 10 or 16 after optional blanks; false if no digit.
    static bool parse(const char *&p, const char *end, unsigned base, uint64_t &v);

private:
    static bool starts(const char *p, const char *end, const char *prefix);
    char *buf_ = nullptr;
    size_t len_ = 0;
    bool ok_ = false;
};

}  // namespace ckpt::fd
