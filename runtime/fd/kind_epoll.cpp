// An epoll instance: its interest list (fdinfo: tfd, events, data), re-armed after every
// descriptor of the table is back (rearm), since each entry names another descriptor by
// number. EPOLLET, EPOLLONESHOT, EPOLLEXCLUSIVE and EPOLLWAKEUP are in the events word.
// What cannot come back exactly: an edge-triggered entry whose target is ready reports one
// more edge after the restore, and a one-shot entry that has fired comes back armed for
// EPOLLERR|EPOLLHUP only (epoll_ctl always adds them). An entry whose descriptor number was
// closed or reused since (the kernel keeps it while the file lives) is refused.
#include <fcntl.h>

#include "fd_kind.h"
#include "fdinfo.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr long kKcmpEpollTfd = 7;  // KCMP_EPOLL_TFD, linux/kcmp.h
constexpr int kEpollCtlAdd = 1;

struct KcmpEpollSlot {
    uint32_t efd, tfd, toff;
};

struct EpollEvent {
    uint32_t events;
    uint64_t data;
} __attribute__((packed));  // x86-64's struct epoll_event

bool matches(const Probe &p) { return is_anon(p, "eventpoll"); }

// Is the descriptor `tfd` still the file the entry watches? kcmp(KCMP_EPOLL_TFD) says so
// exactly; without it, the inode (all anonymous-inode objects share one: then only that the
// number is open).
bool same_target(int epfd, int tfd, uint64_t ino, uint64_t kdev)
{
    const long pid = sys_getpid();
    KcmpEpollSlot slot{uint32_t(epfd), uint32_t(tfd), 0};
    const long r = RAW5(SYS_kcmp, pid, pid, kKcmpEpollTfd, tfd, &slot);
    if (r >= 0) return r == 0;
    struct stat st;
    return sys_fstat(tfd, &st) == 0 && uint64_t(st.st_ino) == ino && uint64_t(st.st_dev) == stat_dev_from_kernel(kdev);
}

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    FdInfo info(p.fd);
    if (!info.ok()) return "an epoll whose interest list cannot be read";
    auto *h = static_cast<image::FdEpollPayload *>(payload);
    auto *entries = reinterpret_cast<image::FdEpollEntry *>(h + 1);
    const uint32_t room = (cap - uint32_t(sizeof *h)) / uint32_t(sizeof *entries);
    *h = {0, 0};
    const char *why = nullptr;
    info.each_line("tfd:", [&](const char *line, const char *end) {
        uint64_t tfd = 0, events = 0, data = 0, ino = 0, sdev = 0;
        if (!FdInfo::field(line, end, "tfd:", 10, tfd) || !FdInfo::field(line, end, "events:", 16, events) ||
            !FdInfo::field(line, end, "data:", 16, data) || !FdInfo::field(line, end, "ino:", 16, ino) ||
            !FdInfo::field(line, end, "sdev:", 16, sdev)) {
            why = "an epoll whose interest list cannot be read";
            return false;
        }
        if (!same_target(p.fd, int(tfd), ino, sdev)) {
            why = "an epoll watching a closed fd (not supported)";
            return false;
        }
        if (h->n == room) {
            why = "an epoll watching too many fds (not supported)";
            return false;
        }
        entries[h->n++] = {int32_t(tfd), uint32_t(events), data};
        return true;
    });
    if (why) return why;
    size = uint32_t(sizeof *h + h->n * sizeof *entries);
    return nullptr;
}

const image::FdCommon *record_of(const image::FdCommon *const *records, size_t n, int fd)
{
    for (size_t j = 0; j < n; ++j)
        if (records[j]->fd == fd) return records[j];
    return nullptr;
}

const image::FdEpollEntry *entries_of(const image::FdCommon &c, uint32_t &n)
{
    const auto *h = static_cast<const image::FdEpollPayload *>(payload_of(c));
    n = c.payload_size >= sizeof *h ? h->n : 0;
    if ((c.payload_size - sizeof *h) / sizeof(image::FdEpollEntry) < n) n = 0;
    return reinterpret_cast<const image::FdEpollEntry *>(h + 1);
}

// Every target must come back as what it was: a descriptor of the table (not ckpt's own), and
// not one restored as /dev/null.
const char *check_set(const image::FdCommon *const *records, size_t n, size_t i)
{
    uint32_t count = 0;
    const image::FdEpollEntry *e = entries_of(*records[i], count);
    for (uint32_t k = 0; k < count; ++k) {
        const image::FdCommon *t = record_of(records, n, e[k].tfd);
        if (!t) return "an epoll watching a fd of ckpt's (not supported)";
        if (t->kind == image::FdKind::Inherited)
            return "an epoll watching an inherited fd (not supported)";
    }
    return nullptr;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    long fd = RAW1(SYS_epoll_create1, O_CLOEXEC);
    if (fd < 0) {
        char msg[88];
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot create an epoll instance");
        ctx.refuse(msg);
        return;
    }
    place(fd, c, true);
}

void rearm(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    if (c.shares_with != i) return;  // a dup: one interest list, armed through the first
    uint32_t count = 0;
    const image::FdEpollEntry *e = entries_of(c, count);
    for (uint32_t k = 0; k < count; ++k) {
        EpollEvent ev{e[k].events, e[k].data};
        if (RAW4(SYS_epoll_ctl, c.fd, kEpollCtlAdd, e[k].tfd, &ev) != 0) {
            char msg[88];
            text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": epoll cannot watch fd ")
                .add(uint64_t(e[k].tfd)).add(" again");
            ctx.refuse(msg);
            return;
        }
    }
}

void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    const auto *h = static_cast<const image::FdEpollPayload *>(payload);
    if (c.payload_size < sizeof *h) return;
    uint32_t n = h->n;
    if ((c.payload_size - sizeof *h) / sizeof(image::FdEpollEntry) < n) n = 0;
    const auto *e = reinterpret_cast<const image::FdEpollEntry *>(h + 1);
    out.add("epoll, watching");
    if (!n) out.add(" nothing");
    for (uint32_t k = 0; k < n; ++k)
        out.add(k ? ", fd " : " fd ").add(uint64_t(e[k].tfd)).add(" events 0x").add_hex(e[k].events);
}

}  // namespace

extern const KindOps kEpoll = {image::FdKind::Epoll, "epoll", matches, nullptr, false, capture, check_set,
                               restore, verify_nothing, describe, rearm,
                               sizeof(image::FdEpollPayload)};

}  // namespace ckpt::fd
