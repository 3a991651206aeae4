// A timerfd: clock, flags, the next expiry and the interval (timerfd_gettime), the
// TFD_TIMER_ABSTIME / TFD_TIMER_CANCEL_ON_SET it was set with, and the expirations not yet
// read (fdinfo ticks). Time follows the rule of ckpt's sleeps (docs/architecture.md): a
// relative timer gets the time it had left at the checkpoint (the time the program was dead
// does not count); an absolute one keeps its deadline on its own clock, and fires at once if
// that has passed. Unread expirations come back through TFD_IOC_SET_TICKS
// (CONFIG_CHECKPOINT_RESTORE; without it they are lost, and the restore says so).
#include <fcntl.h>
#include <time.h>

#include "fd_kind.h"
#include "fdinfo.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

constexpr unsigned kAbstime = 1;                // TFD_TIMER_ABSTIME
constexpr unsigned kCancelOnSet = 2;            // TFD_TIMER_CANCEL_ON_SET
constexpr unsigned long kSetTicks = 0x40085400; // TFD_IOC_SET_TICKS, _IOW('T', 0, __u64)

struct KernelItimerspec {
    int64_t interval_sec, interval_nsec, value_sec, value_nsec;
};

bool matches(const Probe &p) { return is_anon(p, "timerfd"); }

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdTimerfdPayload)) return "has no room for its record";
    // gettime first: on an expired periodic timer it moves the expirations into ticks.
    KernelItimerspec t{};
    if (RAW2(SYS_timerfd_gettime, p.fd, &t) != 0) return "a timerfd whose time cannot be read";
    FdInfo info(p.fd);
    uint64_t clockid = 0, ticks = 0, flags = 0;
    if (!info.ok() || !info.number("clockid:", 10, clockid) || !info.number("ticks:", 10, ticks) ||
        !info.number("settime flags:", 8, flags))
        return "a timerfd whose state cannot be read";
    auto *o = static_cast<image::FdTimerfdPayload *>(payload);
    *o = {int32_t(clockid), uint32_t(flags), ticks, t.value_sec, t.value_nsec, t.interval_sec, t.interval_nsec};
    if ((flags & kAbstime) && (t.value_sec || t.value_nsec)) {
        // The deadline itself: now on the timer's clock plus what is left.
        struct timespec now{};
        if (sys_clock_gettime(int(clockid), &now) != 0) return "a timerfd on a clock that cannot be read";
        int64_t ns = t.value_nsec + now.tv_nsec;
        o->value_sec = t.value_sec + now.tv_sec + ns / 1000000000;
        o->value_nsec = ns % 1000000000;
    }
    size = sizeof *o;
    return nullptr;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    const auto *pl = static_cast<const image::FdTimerfdPayload *>(payload_of(c));
    char msg[88];
    long fd = RAW2(SYS_timerfd_create, pl->clockid, O_CLOEXEC);
    if (fd < 0) {
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot create a timerfd on clock ")
            .add(uint64_t(pl->clockid));
        ctx.refuse(msg);
        return;
    }
    if (pl->value_sec || pl->value_nsec) {
        const KernelItimerspec t{pl->interval_sec, pl->interval_nsec, pl->value_sec, pl->value_nsec};
        const unsigned flags = pl->settime_flags & (kAbstime | kCancelOnSet);
        if (RAW4(SYS_timerfd_settime, fd, flags, &t, nullptr) != 0) {
            text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": cannot arm the timerfd again");
            ctx.refuse(msg);
            return;
        }
    }
    uint64_t ticks = pl->ticks;
    if (ticks && RAW3(SYS_ioctl, fd, kSetTicks, &ticks) != 0) {
        text::Builder(msg, sizeof msg).add("fd ").add(uint64_t(c.fd)).add(": ").add(ticks)
            .add(" unread timerfd expirations lost (no TFD_IOC_SET_TICKS)");
        ctx.warn(msg);
    }
    place(fd, c, true);
}

void describe(const image::FdCommon &c, const void *payload, text::Builder &out)
{
    const auto *pl = static_cast<const image::FdTimerfdPayload *>(payload);
    if (c.payload_size < sizeof *pl) return;
    out.add("timerfd, clock ").add(uint64_t(pl->clockid));
    if (!pl->value_sec && !pl->value_nsec) {
        out.add(", disarmed");
    } else {
        out.add((pl->settime_flags & kAbstime) ? ", expires at " : ", expires in ").add(uint64_t(pl->value_sec))
            .add(".").add(uint64_t(pl->value_nsec), 9).add(" s");
        if (pl->settime_flags & kCancelOnSet) out.add(" (cancel on set)");
    }
    if (pl->interval_sec || pl->interval_nsec)
        out.add(", every ").add(uint64_t(pl->interval_sec)).add(".").add(uint64_t(pl->interval_nsec), 9).add(" s");
    out.add(", ").add(pl->ticks).add(" unread expirations");
}

}  // namespace

extern const KindOps kTimerfd = {image::FdKind::Timerfd, "timerfd", matches, nullptr, false, capture, nullptr,
                                 restore, verify_nothing, describe, nullptr,
                                 sizeof(image::FdTimerfdPayload)};

}  // namespace ckpt::fd
