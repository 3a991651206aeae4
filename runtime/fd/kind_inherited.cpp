// A descriptor a standalone program found open at its start and that ckpt cannot reopen (a
// make jobserver pipe, a CI runner's leaked socket): kept as inherited, and restored as
// /dev/null with the same access mode, so that its number stays taken (a later open() of the
// program cannot land on it and be mistaken for the old descriptor); reads see end of file
// and writes are discarded instead of failing with EBADF. (issue 8, defect 10)
#include <fcntl.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

bool matches(const Probe &p) { return p.inherited; }

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdOriginPayload)) return "has no room for its record";
    auto *o = static_cast<image::FdOriginPayload *>(payload);
    *o = {uint32_t(p.st->st_mode), 0};
    size = sizeof *o;
    return nullptr;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    long fd = sys_openat(AT_FDCWD, "/dev/null", int(c.open_flags & O_ACCMODE) | O_CLOEXEC, 0);
    if (fd < 0) {
        ctx.warn("cannot open /dev/null for an inherited descriptor");
        return;
    }
    place(fd, c, true);
    char msg[88];
    text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(" was inherited at start: it is /dev/null now");
    ctx.warn(msg);
}



void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    describe_origin(c, payload, "inherited ", ": /dev/null at a restore", out);
}

}  // namespace

extern const KindOps kInherited = {image::FdKind::Inherited, "inherited", matches, nullptr, false, capture, nullptr,
                                   restore, verify_nothing, describe};

}  // namespace ckpt::fd
