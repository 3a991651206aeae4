// Allocation-free text helpers for code that runs in the checkpoint handler.
#pragma once

#include <stddef.h>
#include <stdint.h>

namespace ckpt::text {

inline size_t length(const char *s)
{
    size_t n = 0;
    while (s[n]) ++n;
    return n;
}

inline bool equal(const char *a, const char *b)
{
    while (*a && *a == *b) ++a, ++b;
    return *a == *b;
}

inline bool starts_with(const char *s, size_t len, const char *prefix)
{
    size_t i = 0;
    for (; prefix[i]; ++i)
        if (i >= len || s[i] != prefix[i]) return false;
    return true;
}

// Bounded string builder: never overflows, remembers whether it had to cut.
class Builder {
public:
    Builder(char *buf, size_t cap) : buf_(buf), cap_(cap) { buf_[0] = 0; }
    Builder &add(const char *s, size_t n)
    {
        for (size_t i = 0; i < n; ++i) {
            if (len_ + 1 >= cap_) { overflow_ = true; break; }
            buf_[len_++] = s[i];
        }
        buf_[len_] = 0;
        return *this;
    }
    Builder &add(const char *s) { return add(s, length(s)); }
    Builder &add(uint64_t v, unsigned width = 0)
    {
        char tmp[24];
        unsigned n = 0;
        do { tmp[n++] = char('0' + v % 10); v /= 10; } while (v);
        while (n < width && n < sizeof tmp) tmp[n++] = '0';
        char out[24];
        for (unsigned i = 0; i < n; ++i) out[i] = tmp[n - 1 - i];
        return add(out, n);
    }
    // Lower-case hexadecimal, no prefix (as in /proc/PID/maps).
    Builder &add_hex(uint64_t v)
    {
        char out[16];
        unsigned n = 0;
        do { out[15 - n++] = "0123456789abcdef"[v & 0xf]; v >>= 4; } while (v);
        return add(out + 16 - n, n);
    }
    Builder &add_int(int64_t v)
    {
        if (v < 0) { add("-", 1); return add(uint64_t(-v)); }
        return add(uint64_t(v));
    }
    const char *c_str() const { return buf_; }
    size_t size() const { return len_; }
    bool overflow() const { return overflow_; }

private:
    char *buf_;
    size_t cap_, len_ = 0;
    bool overflow_ = false;
};

inline bool parse_u64(const char *&p, const char *end, uint64_t &v)
{
    const char *s = p;
    v = 0;
    while (p < end && *p >= '0' && *p <= '9') v = v * 10 + uint64_t(*p++ - '0');
    return p != s;
}

}  // namespace ckpt::text
