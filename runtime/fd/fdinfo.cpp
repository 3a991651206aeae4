// The fdinfo reader (fdinfo.h).
#include "fdinfo.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "sys/raw_syscall.h"
#include "text.h"

namespace ckpt::fd {
namespace {
// An epoll instance prints ~90 bytes per watched descriptor, inotify ~130 per watch: room for
// about 10,000 of either. Only the pages read into are touched.
constexpr size_t kCap = size_t(1) << 20;
}  // namespace

FdInfo::FdInfo(int fd)
{
    void *m = sys_mmap(nullptr, kCap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (sys_is_err(reinterpret_cast<long>(m))) return;
    buf_ = static_cast<char *>(m);
    char path[48];
    text::Builder(path, sizeof path).add("/proc/self/fdinfo/").add(uint64_t(fd));
    long f = sys_openat(AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
    if (f < 0) return;
    for (;;) {
        long n = sys_read(int(f), buf_ + len_, kCap - len_);
        if (n <= 0) {
            ok_ = n == 0;
            break;
        }
        len_ += size_t(n);
        if (len_ == kCap) break;  // too long to be sure it is whole
    }
    sys_close(int(f));
}

FdInfo::~FdInfo()
{
    if (buf_) sys_munmap(buf_, kCap);
}

bool FdInfo::starts(const char *p, const char *end, const char *prefix)
{
    return text::starts_with(p, size_t(end - p), prefix);
}

bool FdInfo::parse(const char *&p, const char *end, unsigned base, uint64_t &v)
{
    while (p < end && (*p == ' ' || *p == '\t')) ++p;
    const char *s = p;
    v = 0;
    for (; p < end; ++p) {
        unsigned d;
        if (*p >= '0' && *p <= '9') d = unsigned(*p - '0');
        else if (*p >= 'a' && *p <= 'f') d = unsigned(*p - 'a' + 10);
        else if (*p >= 'A' && *p <= 'F') d = unsigned(*p - 'A' + 10);
        else break;
        if (d >= base) break;
        v = v * base + d;
    }
    return p != s;
}

bool FdInfo::field(const char *line, const char *end, const char *key, unsigned base, uint64_t &v)
{
    const size_t klen = text::length(key);
    for (const char *p = line; p + klen <= end; ++p) {
        // At the line's start or after a blank, so that "ino:" does not match "sdev:"'s tail.
        if ((p == line || p[-1] == ' ' || p[-1] == '\t') && text::starts_with(p, size_t(end - p), key)) {
            const char *q = p + klen;
            return parse(q, end, base, v);
        }
    }
    return false;
}

bool FdInfo::number(const char *key, unsigned base, uint64_t &v) const
{
    bool found = false;
    each_line(key, [&](const char *line, const char *end) {
        found = field(line, end, key, base, v);
        return false;
    });
    return found;
}

}  // namespace ckpt::fd
