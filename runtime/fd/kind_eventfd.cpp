// An eventfd: its counter (read from fdinfo, so a checkpoint does not consume it), EFD_SEMAPHORE
// and the status flags (EFD_NONBLOCK is O_NONBLOCK). Restored as a new eventfd with the same
// counter: writing the count adds it, and works for counts above the 32 bits eventfd2 takes.
#include <fcntl.h>

#include "fd_kind.h"
#include "fdinfo.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr int kEfdSemaphore = 1;  // EFD_SEMAPHORE, sys/eventfd.h

bool matches(const Probe &p) { return is_anon(p, "eventfd"); }

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdEventfdPayload)) return "has no room for its record";
    FdInfo info(p.fd);
    uint64_t count = 0, sem = 0;
    if (!info.ok() || !info.number("eventfd-count:", 16, count)) return "an eventfd whose counter cannot be read";
    // Kernels before 6.2 do not print the flag: such an eventfd is taken as a counter.
    info.number("eventfd-semaphore:", 10, sem);
    auto *o = static_cast<image::FdEventfdPayload *>(payload);
    *o = {count, sem ? 1u : 0u, 0};
    size = sizeof *o;
    return nullptr;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    const auto *pl = static_cast<const image::FdEventfdPayload *>(payload_of(c));
    long fd = RAW2(SYS_eventfd2, 0, O_CLOEXEC | (pl->semaphore ? kEfdSemaphore : 0));
    char msg[88];
    if (fd < 0) {
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot create an eventfd");
        ctx.refuse(msg);
        return;
    }
    if (pl->count && sys_write(int(fd), &pl->count, sizeof pl->count) != long(sizeof pl->count)) {
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot set the eventfd's counter");
        ctx.refuse(msg);
        return;
    }
    place(fd, c, true);
}

void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    const auto *pl = static_cast<const image::FdEventfdPayload *>(payload);
    if (c.payload_size < sizeof *pl) return;
    out.add("eventfd, counter ").add(pl->count);
    if (pl->semaphore) out.add(", semaphore");
}

}  // namespace

extern const KindOps kEventfd = {image::FdKind::Eventfd, "eventfd", matches, nullptr, false, capture, nullptr,
                                 restore, verify_nothing, describe, nullptr,
                                 sizeof(image::FdEventfdPayload)};

}  // namespace ckpt::fd
