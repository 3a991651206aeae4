// An inotify instance: its watches (fdinfo: wd, ino, sdev, mask), re-added at a restore by
// the paths the program added them by (inotify_watches.h), in watch-descriptor order, so that
// a new instance hands out the same numbers (1, 2, ...). Refused, with the reason:
//   - unread events (FIONREAD): they cannot be saved without consuming them, and a lost event
//     is a file change the program silently never hears of; retried at the next checkpoint;
//   - numbers with gaps (a watch was removed): re-adding could not give the same numbers;
//   - a watch whose path now names another file, or that ckpt did not see added.
// fanotify stays refused (kind_refused.cpp).
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>

#include "fd_kind.h"
#include "fdinfo.h"
#include "inotify_watches.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr uint32_t kMaxWatches = 4096;

bool matches(const Probe &p) { return is_anon(p, "inotify"); }

uint32_t padded(uint32_t n) { return (n + 7u) & ~7u; }

// The watch records of a payload, one after the other; false at the end or on a bad size.
struct WatchCursor {
    const char *at, *end;
    bool next(const image::FdInotifyWatch *&w, const char *&path)
    {
        if (size_t(end - at) < sizeof(image::FdInotifyWatch)) return false;
        w = reinterpret_cast<const image::FdInotifyWatch *>(at);
        const size_t step = sizeof *w + padded(w->path_len + 1);
        if (w->path_len >= size_t(end - at) || step > size_t(end - at)) return false;
        path = at + sizeof *w;
        at += step;
        return true;
    }
};

WatchCursor cursor(const image::FdCommon &c, const void *payload, uint32_t &n)
{
    const auto *h = static_cast<const image::FdInotifyPayload *>(payload);
    n = c.payload_size >= sizeof *h ? h->n : 0;
    const char *start = reinterpret_cast<const char *>(h + 1);
    return {start, static_cast<const char *>(payload) + (c.payload_size >= sizeof *h ? c.payload_size : sizeof *h)};
}

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    int unread = 0;
    if (RAW3(SYS_ioctl, p.fd, FIONREAD, &unread) == 0 && unread > 0)
        return "an inotify with unread events (retried later)";
    FdInfo info(p.fd);
    if (!info.ok()) return "an inotify whose watches cannot be read";
    uint32_t n = 0;
    info.each_line("inotify wd:", [&](const char *, const char *) { return ++n <= kMaxWatches; });
    if (n > kMaxWatches) return "an inotify with too many watches (not supported)";
    auto *h = static_cast<image::FdInotifyPayload *>(payload);
    *h = {n, 0};
    char *out = reinterpret_cast<char *>(h + 1);
    char *const end = static_cast<char *>(payload) + cap;
    // Watch k+1 for k = 0..n-1: the numbers must be exactly 1..n (fdinfo lists them newest
    // first; n passes keep this allocation-free).
    for (uint32_t k = 1; k <= n; ++k) {
        const char *why = "inotify watch numbers with a gap (not supported)";
        info.each_line("inotify wd:", [&](const char *line, const char *e) {
            uint64_t wd = 0, ino = 0, sdev = 0, mask = 0;
            if (!FdInfo::field(line, e, "wd:", 16, wd) || wd != k) return true;
            if (!FdInfo::field(line, e, "ino:", 16, ino) || !FdInfo::field(line, e, "sdev:", 16, sdev) ||
                !FdInfo::field(line, e, "mask:", 16, mask)) {
                why = "an inotify whose watches cannot be read";
                return false;
            }
            const uint64_t dev = stat_dev_from_kernel(sdev);
            uint32_t flags = 0, len = 0;
            const char *path = inotify_watch_path(int(wd), dev, ino, flags, len);
            if (!path) {
                why = "an inotify watch ckpt did not see added";
                return false;
            }
            struct stat st;
            if (sys_newfstatat(AT_FDCWD, path, &st, (flags & IN_DONT_FOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) != 0 ||
                uint64_t(st.st_dev) != dev || uint64_t(st.st_ino) != ino) {
                why = "an inotify watch whose path moved (not supported)";
                return false;
            }
            const size_t need = sizeof(image::FdInotifyWatch) + padded(len + 1);
            if (size_t(end - out) < need) {
                why = "inotify watch paths too long for the record";
                return false;
            }
            auto *w = reinterpret_cast<image::FdInotifyWatch *>(out);
            *w = {int32_t(wd), uint32_t(mask), flags, len, dev, ino};
            char *dst = out + sizeof *w;
            for (uint32_t i = 0; i < len; ++i) dst[i] = path[i];
            for (size_t i = len; i < padded(len + 1); ++i) dst[i] = 0;
            out += need;
            why = nullptr;
            return false;
        });
        if (why) return why;
    }
    size = uint32_t(out - static_cast<char *>(payload));
    return nullptr;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    char msg[88];
    long fd = RAW1(SYS_inotify_init1, IN_CLOEXEC);
    if (fd < 0) {
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot create an inotify instance");
        ctx.refuse(msg);
        return;
    }
    uint32_t n = 0;
    WatchCursor cur = cursor(c, payload_of(c), n);
    const image::FdInotifyWatch *w;
    const char *path;
    for (uint32_t k = 0; k < n && cur.next(w, path); ++k) {
        const long wd = RAW3(SYS_inotify_add_watch, fd, path, w->mask | w->add_flags);
        if (wd != w->wd) {
            text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": inotify watch ")
                .add(uint64_t(w->wd)).add(" not re-added as such: ").add(path);
            ctx.refuse(msg);
            return;
        }
    }
    place(fd, c, true);
}

Verdict verify(const image::FdCommon &c, const void *payload, const char *, text::Builder &why)
{
    uint32_t n = 0;
    WatchCursor cur = cursor(c, payload, n);
    const image::FdInotifyWatch *w;
    const char *path;
    for (uint32_t k = 0; k < n && cur.next(w, path); ++k) {
        struct stat st;
        if (sys_newfstatat(AT_FDCWD, path, &st, (w->add_flags & IN_DONT_FOLLOW) ? AT_SYMLINK_NOFOLLOW : 0) != 0) {
            why.add("the program's inotify fd ").add(uint64_t(c.fd)).add(" watched ").add(path)
                .add(", and it no longer exists");
            return Verdict::Missing;
        }
        if (uint64_t(st.st_dev) != w->dev || uint64_t(st.st_ino) != w->ino) {
            why.add("the program's inotify fd ").add(uint64_t(c.fd)).add(" watched ").add(path)
                .add(", and it is now a different file (inode ").add(uint64_t(st.st_ino)).add(", was ").add(w->ino)
                .add(")");
            return Verdict::Changed;
        }
    }
    return Verdict::Ok;
}

void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    uint32_t n = 0;
    WatchCursor cur = cursor(c, payload, n);
    const image::FdInotifyWatch *w;
    const char *path;
    out.add("inotify, watching");
    if (!n) out.add(" nothing");
    for (uint32_t k = 0; k < n && cur.next(w, path); ++k)
        out.add(k ? ", " : " ").add(uint64_t(w->wd)).add(":").add(path).add(" mask 0x").add_hex(w->mask);
}

}  // namespace

extern const KindOps kInotify = {image::FdKind::Inotify, "inotify", matches, nullptr, false, capture, nullptr,
                                 restore, verify, describe, nullptr,
                                 sizeof(image::FdInotifyPayload)};

}  // namespace ckpt::fd
