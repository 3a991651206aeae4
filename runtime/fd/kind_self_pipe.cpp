// A pipe whose both ends are in this process (a self-pipe, as event loops and xz use): one
// new pipe per pipe inode at a restore, its ends placed on the descriptors that had them, its
// buffer size as it was. Unread data in it is not saved: such a checkpoint is refused (and
// retried at the next one). A pipe to another process is refused (check_set).
#include <fcntl.h>
#include <sys/ioctl.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

// High descriptor numbers used while rebuilding, clear of every number being restored.
constexpr int kScratchFdBase = 1100;

bool matches(const Probe &p) { return S_ISFIFO(p.st->st_mode); }

bool reads(const image::FdCommon &c) { return (c.open_flags & O_ACCMODE) == O_RDONLY; }

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    int unread = 0;
    if ((p.open_flags & O_ACCMODE) == O_RDONLY && RAW3(SYS_ioctl, p.fd, FIONREAD, &unread) == 0 && unread > 0)
        return "a pipe holding unread data (retried at the next checkpoint)";
    if (cap < sizeof(image::FdSelfPipePayload)) return "has no room for its record";
    long sz = sys_fcntl(p.fd, F_GETPIPE_SZ, 0);
    auto *o = static_cast<image::FdSelfPipePayload *>(payload);
    *o = {sz > 0 ? uint32_t(sz) : 0u, 0};
    size = sizeof *o;
    return nullptr;
}

const char *check_set(const image::FdCommon *const *recs, size_t n, size_t i)
{
    const image::FdCommon &r = *recs[i];
    bool has_reader = false, has_writer = false;
    for (size_t j = 0; j < n; ++j) {
        const image::FdCommon &o = *recs[j];
        if (o.kind != image::FdKind::SelfPipe || o.ino != r.ino || o.dev != r.dev) continue;
        has_reader = has_reader || reads(o);
        has_writer = has_writer || (o.open_flags & O_ACCMODE) == O_WRONLY;
    }
    return has_reader && has_writer ? nullptr : "a pipe to another process (not supported yet)";
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &r = *ctx.records[i];
    for (size_t j = 0; j < i; ++j)
        if (ctx.records[j]->kind == image::FdKind::SelfPipe && ctx.records[j]->ino == r.ino) return;  // placed
    int p[2];
    if (RAW2(SYS_pipe2, p, O_CLOEXEC) != 0) {
        ctx.warn("cannot create a pipe for a self-pipe");
        return;
    }
    const auto *pl = static_cast<const image::FdSelfPipePayload *>(payload_of(r));
    if (r.payload_size >= sizeof *pl && pl->pipe_size) sys_fcntl(p[0], F_SETPIPE_SZ, long(pl->pipe_size));
    long rd = sys_fcntl(p[0], F_DUPFD_CLOEXEC, kScratchFdBase);
    long wr = sys_fcntl(p[1], F_DUPFD_CLOEXEC, kScratchFdBase);
    sys_close(p[0]);
    sys_close(p[1]);
    // Every end that is its own open file description; the descriptors sharing one follow as
    // dups of it (fd_restore.cpp).
    for (size_t j = i; j < ctx.n; ++j) {
        const image::FdCommon &o = *ctx.records[j];
        if (o.kind != image::FdKind::SelfPipe || o.ino != r.ino || o.shares_with != j) continue;
        place(reads(o) ? rd : wr, o, false);
    }
    sys_close(int(rd));
    sys_close(int(wr));
}



void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    out.add(reads(c) ? "read end" : "write end").add(" of self-pipe ").add(c.ino);
    const auto *pl = static_cast<const image::FdSelfPipePayload *>(payload);
    if (c.payload_size >= sizeof *pl && pl->pipe_size) out.add(", ").add(uint64_t(pl->pipe_size)).add("-byte buffer");
    out.add(", rebuilt empty");
}

}  // namespace

extern const KindOps kSelfPipe = {image::FdKind::SelfPipe, "pipe", matches, nullptr, false, capture, check_set,
                                  restore, verify_nothing, describe};

}  // namespace ckpt::fd
