// The table of descriptor kinds (fd_kind.h) and the helpers the kinds share.
#include "fd_kind.h"

#include <fcntl.h>

#include "sys/raw_syscall.h"

namespace ckpt::fd {

// Each defined in its kind's file.
extern const KindOps kInherited, kNamespace, kMemfd, kDeletedFile, kStandard, kRegularFile, kDirectory,
    kTerminal, kCharDevice, kSelfPipe, kListenSocket, kSocket, kEventfd, kEpoll, kTimerfd, kSignalfd, kInotify, kFanotify,
    kOtherObject;

namespace {

// Order matters: inherited before anything (it is whatever it is), the refused special files
// before the kinds whose st_mode they share (a namespace is S_IFREG), the catch-all last.
const KindOps *const kTable[] = {
    &kInherited, &kNamespace, &kMemfd, &kDeletedFile, &kStandard, &kRegularFile, &kDirectory, &kTerminal,
    &kCharDevice, &kSelfPipe, &kListenSocket, &kSocket, &kEventfd, &kEpoll, &kTimerfd, &kSignalfd, &kInotify, &kFanotify,
    &kOtherObject,
};

}  // namespace

const KindOps &classify(const Probe &p)
{
    for (const KindOps *k : kTable)
        if (k->matches(p)) return *k;
    return kOtherObject;
}

const KindOps *kind_ops(image::FdKind kind)
{
    for (const KindOps *k : kTable)
        if (!k->refusal && k->kind == kind) return k;
    return nullptr;
}

int reopen_flags(uint32_t open_flags)
{
    return int(open_flags) & ~(O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY);
}

void place(long from, const image::FdCommon &c, bool close_from)
{
    const bool cloexec = (c.flags & image::kFdCloexec) != 0;
    if (from != c.fd) {
        sys_dup3(int(from), c.fd, cloexec ? O_CLOEXEC : 0);
        if (close_from) sys_close(int(from));
    } else {
        sys_fcntl(c.fd, F_SETFD, cloexec ? FD_CLOEXEC : 0);
    }
    sys_fcntl(c.fd, F_SETFL, long(c.open_flags & (O_NONBLOCK | O_APPEND | O_ASYNC)));
}

uint64_t stat_dev_from_kernel(uint64_t k)
{
    const uint64_t major = k >> 20, minor = k & 0xfffff;
    return (minor & 0xff) | ((major & 0xfff) << 8) | ((minor & ~0xffull) << 12) | ((major & ~0xfffull) << 32);
}

bool is_anon(const Probe &p, const char *name)
{
    // The brackets vary by kernel object: "anon_inode:[eventfd]", "anon_inode:inotify".
    if (!text::starts_with(p.link, p.link_len, "anon_inode:")) return false;
    const char *n = p.link + 11;
    if (*n == '[') ++n;
    const size_t len = text::length(name);
    return text::starts_with(n, p.link_len - size_t(n - p.link), name) && (n[len] == ']' || n[len] == 0);
}

Verdict verify_nothing(const image::FdCommon &, const void *, const char *, text::Builder &) { return Verdict::Ok; }

void add_file_type(text::Builder &out, uint32_t m)
{
    out.add(S_ISREG(m) ? "regular file" : S_ISDIR(m) ? "directory" : S_ISCHR(m) ? "character device"
            : S_ISBLK(m) ? "block device" : S_ISFIFO(m) ? "pipe" : S_ISSOCK(m) ? "socket" : "kernel object");
}

void describe_origin(const image::FdCommon &c, const void *payload, const char *before, const char *after,
                     text::Builder &out)
{
    out.add(before);
    if (c.payload_size >= sizeof(image::FdOriginPayload))
        add_file_type(out, static_cast<const image::FdOriginPayload *>(payload)->st_mode);
    else
        out.add("descriptor");
    out.add(after);
}

}  // namespace ckpt::fd
