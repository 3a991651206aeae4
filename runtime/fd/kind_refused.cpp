// Descriptor kinds a checkpoint refuses, each with the reason the message gives (issue 10
// turns some of them into kinds of their own files). A namespace descriptor would make every
// later image unrestorable; a memfd or a deleted file cannot be found again by path.
#include <fcntl.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr long kNsfsMagic = 0x6e736673;  // NSFS_MAGIC, linux/magic.h

struct raw_statfs {
    long f_type;
    long rest[15];
};

bool is_deleted(const Probe &p)
{
    return p.link_len > 10 && text::equal(p.link + p.link_len - 10, " (deleted)");
}

bool anon(const Probe &p, const char *name)
{
    // "anon_inode:[eventfd]", "anon_inode:inotify" (the brackets vary by kernel object)
    if (!text::starts_with(p.link, p.link_len, "anon_inode:")) return false;
    const char *n = p.link + 11;
    if (*n == '[') ++n;
    return text::starts_with(n, text::length(n), name);
}

bool namespace_fd(const Probe &p)
{
    raw_statfs sfs{};
    return RAW2(SYS_fstatfs, p.fd, &sfs) == 0 && sfs.f_type == kNsfsMagic;
}
bool memfd(const Probe &p) { return S_ISREG(p.st->st_mode) && text::starts_with(p.link, p.link_len, "/memfd:"); }
bool deleted_file(const Probe &p) { return S_ISREG(p.st->st_mode) && is_deleted(p); }
bool socket(const Probe &p) { return S_ISSOCK(p.st->st_mode); }
bool eventfd(const Probe &p) { return anon(p, "eventfd"); }
bool epoll(const Probe &p) { return anon(p, "eventpoll"); }
bool timerfd(const Probe &p) { return anon(p, "timerfd"); }
bool signalfd(const Probe &p) { return anon(p, "signalfd"); }
bool inotify(const Probe &p) { return anon(p, "inotify") || anon(p, "fanotify"); }
bool anything(const Probe &) { return true; }

constexpr KindOps refused(const char *name, bool (*m)(const Probe &), const char *why)
{
    return KindOps{image::FdKind::RegularFile, name, m, why, false, nullptr, nullptr, nullptr, nullptr, nullptr};
}

}  // namespace

extern const KindOps kNamespace = refused("namespace", namespace_fd, "a namespace descriptor (not supported)");
extern const KindOps kMemfd = refused("memfd", memfd, "a memfd (not supported yet)");
extern const KindOps kDeletedFile = refused("deleted file", deleted_file, "a deleted file");
extern const KindOps kSocket = refused("socket", socket, "a socket (not supported yet)");
extern const KindOps kEventfd = refused("eventfd", eventfd, "an eventfd (not supported yet)");
extern const KindOps kEpoll = refused("epoll", epoll, "an epoll instance (not supported yet)");
extern const KindOps kTimerfd = refused("timerfd", timerfd, "a timerfd (not supported yet)");
extern const KindOps kSignalfd = refused("signalfd", signalfd, "a signalfd (not supported yet)");
extern const KindOps kInotify = refused("inotify", inotify, "an inotify or fanotify instance (not supported yet)");
extern const KindOps kOtherObject = refused("other", anything, "a kernel object ckpt does not know (not supported)");

}  // namespace ckpt::fd
