// Descriptors 0-2 as the launcher handed them over: at a restore they are the new launcher's
// (its terminal, pipe or file), except that a regular file that is the same file as at the
// checkpoint gets its offset back. stderr is left alone: the launcher logs into it.
// (A 0-2 that the program pointed at a regular file of its own is a RegularFile record.)
#include <fcntl.h>

#include "fd_kind.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

bool matches(const Probe &p) { return p.standard; }

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
    if (c.fd == 2 || (c.open_flags & O_APPEND)) return;
    struct stat st;
    if (sys_fstat(c.fd, &st) != 0 || !S_ISREG(st.st_mode) || uint64_t(st.st_dev) != c.dev ||
        uint64_t(st.st_ino) != c.ino || c.offset < 0)
        return;
    if (st.st_size < c.offset) {
        char msg[88];
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd))
            .add(" was truncated since the checkpoint (use >> or 1<>)");
        ctx.warn(msg);
    }
    sys_lseek(c.fd, c.offset, SEEK_SET);
}



void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    describe_origin(c, payload, "the launcher's ", ": the new launcher's at a restore", out);
}

}  // namespace

extern const KindOps kStandard = {image::FdKind::Standard, "standard", matches, nullptr, false, capture, nullptr,
                                  restore, verify_nothing, describe};

}  // namespace ckpt::fd
