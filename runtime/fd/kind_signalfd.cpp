// A signalfd: its mask (fdinfo sigmask) and flags. The kernel's mask never holds ckpt's
// checkpoint signal (interpose/signal_wrappers.cpp strips it from what the program asks for,
// so that a signalfd cannot take the checkpoint away); the restore gives the kernel that same
// mask, by raw syscall.
#include <fcntl.h>

#include "fd_kind.h"
#include "fdinfo.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

bool matches(const Probe &p) { return is_anon(p, "signalfd"); }

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdSignalfdPayload)) return "has no room for its record";
    FdInfo info(p.fd);
    uint64_t mask = 0;
    if (!info.ok() || !info.number("sigmask:", 16, mask)) return "a signalfd whose mask cannot be read";
    auto *o = static_cast<image::FdSignalfdPayload *>(payload);
    *o = {mask};
    size = sizeof *o;
    return nullptr;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    const auto *pl = static_cast<const image::FdSignalfdPayload *>(payload_of(c));
    uint64_t mask = pl->sigmask;
    long fd = RAW4(SYS_signalfd4, -1, &mask, 8, O_CLOEXEC);
    if (fd < 0) {
        char msg[88];
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot create a signalfd");
        ctx.refuse(msg);
        return;
    }
    place(fd, c, true);
}

void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    const auto *pl = static_cast<const image::FdSignalfdPayload *>(payload);
    if (c.payload_size < sizeof *pl) return;
    out.add("signalfd, signals");
    bool any = false;
    for (int s = 1; s <= 64; ++s)
        if (pl->sigmask & (1ull << (s - 1))) {
            out.add(any ? "," : " ").add(uint64_t(s));
            any = true;
        }
    if (!any) out.add(" none");
}

}  // namespace

extern const KindOps kSignalfd = {image::FdKind::Signalfd, "signalfd", matches, nullptr, false, capture, nullptr,
                                  restore, verify_nothing, describe, nullptr,
                                 sizeof(image::FdSignalfdPayload)};

}  // namespace ckpt::fd
