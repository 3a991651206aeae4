// Descriptor kinds a checkpoint refuses, each with the reason the message gives. A namespace
// descriptor would make every later image unrestorable; a deleted file cannot be found again
// by path; a connected socket or a fanotify instance has state outside the process (a
// listening socket is kind_listen_socket.cpp).
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

bool namespace_fd(const Probe &p)
{
    raw_statfs sfs{};
    return RAW2(SYS_fstatfs, p.fd, &sfs) == 0 && sfs.f_type == kNsfsMagic;
}
bool deleted_file(const Probe &p) { return S_ISREG(p.st->st_mode) && is_deleted(p); }
bool socket(const Probe &p) { return S_ISSOCK(p.st->st_mode); }
bool fanotify(const Probe &p) { return is_anon(p, "fanotify"); }
bool anything(const Probe &) { return true; }

constexpr KindOps refused(const char *name, bool (*m)(const Probe &), const char *why)
{
    return KindOps{image::FdKind::RegularFile, name, m, why, false, nullptr, nullptr, nullptr, nullptr, nullptr};
}

}  // namespace

extern const KindOps kNamespace = refused("namespace", namespace_fd, "a namespace descriptor (not supported)");
extern const KindOps kDeletedFile = refused("deleted file", deleted_file, "a deleted file");
extern const KindOps kSocket = refused("socket", socket, "a socket not listening (not supported yet)");
extern const KindOps kFanotify = refused("fanotify", fanotify, "a fanotify instance (not supported)");
extern const KindOps kOtherObject = refused("other", anything, "a kernel object ckpt does not know (not supported)");

}  // namespace ckpt::fd
