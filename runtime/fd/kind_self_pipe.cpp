// A pipe whose both ends are in this process (a self-pipe, as event loops and xz use): one
// new pipe per pipe inode at a restore, its ends placed on the descriptors that had them, its
// buffer size as it was, and the bytes it held unread written into it again (event loops
// such as node's leave a wake-up byte in theirs). The bytes are copied at the checkpoint with
// tee(), which does not consume them, so the running program reads them as before. A pipe to
// another process is refused (check_set).
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

// The largest unread content saved (the payload cap is the caller's; this leaves room).
constexpr uint32_t kMaxUnread = 60 * 1024;

// Copies the `unread` bytes waiting in read end `fd` into `out` without consuming them: tee()
// into a scratch pipe, read back from it. False if they could not all be copied.
bool copy_unread(int fd, uint32_t unread, char *out)
{
    int scratch[2];
    if (RAW2(SYS_pipe2, scratch, O_CLOEXEC | O_NONBLOCK) != 0) return false;
    bool ok = RAW4(SYS_tee, fd, scratch[1], unread, SPLICE_F_NONBLOCK) == long(unread);
    for (uint32_t got = 0; ok && got < unread;) {
        const long n = sys_read(scratch[0], out + got, unread - got);
        ok = n > 0;
        if (ok) got += uint32_t(n);
    }
    sys_close(scratch[0]);
    sys_close(scratch[1]);
    return ok;
}

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdSelfPipePayload)) return "has no room for its record";
    int unread = 0;
    if ((p.open_flags & O_ACCMODE) != O_RDONLY || RAW3(SYS_ioctl, p.fd, FIONREAD, &unread) != 0 || unread < 0)
        unread = 0;
    // A packet-mode pipe (O_DIRECT) keeps the boundaries of its writes, which tee does not.
    if (unread > 0 && (p.open_flags & O_DIRECT)) return "a packet-mode pipe holding data (not supported)";
    if (uint32_t(unread) > kMaxUnread || uint32_t(unread) > cap - sizeof(image::FdSelfPipePayload))
        return "a pipe holding over 60 KiB unread (retried later)";
    long sz = sys_fcntl(p.fd, F_GETPIPE_SZ, 0);
    auto *o = static_cast<image::FdSelfPipePayload *>(payload);
    *o = {sz > 0 ? uint32_t(sz) : 0u, uint32_t(unread)};
    if (unread > 0 && !copy_unread(p.fd, uint32_t(unread), reinterpret_cast<char *>(o + 1)))
        return "a pipe's unread data not copied (retried later)";
    size = uint32_t(sizeof *o) + uint32_t(unread);
    return nullptr;
}

// The unread bytes a record of this pipe saved (its read ends all saw the same ones).
const image::FdSelfPipePayload *unread_of(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &r = *ctx.records[i];
    for (size_t j = i; j < ctx.n; ++j) {
        const image::FdCommon &o = *ctx.records[j];
        if (o.kind != image::FdKind::SelfPipe || o.ino != r.ino || o.payload_size < sizeof(image::FdSelfPipePayload))
            continue;
        const auto *pl = static_cast<const image::FdSelfPipePayload *>(payload_of(o));
        if (pl->unread > 0 && pl->unread <= o.payload_size - sizeof *pl) return pl;
    }
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
    // Non-blocking while the saved bytes go in; place() gives each end its recorded flags.
    if (RAW2(SYS_pipe2, p, O_CLOEXEC | O_NONBLOCK) != 0) {
        ctx.warn("cannot create a pipe for a self-pipe");
        return;
    }
    const auto *pl = static_cast<const image::FdSelfPipePayload *>(payload_of(r));
    if (r.payload_size >= sizeof *pl && pl->pipe_size) sys_fcntl(p[0], F_SETPIPE_SZ, long(pl->pipe_size));
    if (const image::FdSelfPipePayload *data = unread_of(ctx, i)) {
        if (sys_write(p[1], data + 1, data->unread) != long(data->unread)) {
            char msg[96];
            text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(r.fd)).add(": cannot put back the ")
                .add(uint64_t(data->unread)).add(" unread bytes of self-pipe ").add(r.ino);
            ctx.refuse(msg);
        }
    }
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
    if (c.payload_size >= sizeof *pl && pl->unread) out.add(", ").add(uint64_t(pl->unread)).add(" unread bytes saved");
}

}  // namespace

extern const KindOps kSelfPipe = {image::FdKind::SelfPipe, "pipe", matches, nullptr, false, capture, check_set,
                                  restore, verify_nothing, describe};

}  // namespace ckpt::fd
