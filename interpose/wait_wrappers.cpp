// Waits the kernel never restarts after a handler, SA_RESTART or not (signal(7), "Interruption
// of system calls"): sleeps, poll, select, epoll_wait, pause. A checkpoint signal alone must
// not end them early: after an EINTR caused only by ckpt (sigstate::Interruption), the wait
// resumes with what is left of it; an EINTR the program would have seen without ckpt (one of
// its own handlers ran) reaches it unchanged. Reads, writes, futex waits, wait4 and the like
// restart in the kernel (ckpt's handler has SA_RESTART) and need nothing here.
//
// What is left: the kernel's own remainder where it gives one (nanosleep, clock_nanosleep:
// written before ckpt's handler runs, so it is in the image too), else a deadline on
// sigstate::virtual_now_ns(), a CLOCK_MONOTONIC that stands still while the program is dead.
// Either way a wait interrupted by a checkpoint and resumed after a restore (even after a
// reboot) waits the time that was left at the checkpoint. A TIMER_ABSTIME clock_nanosleep
// keeps its absolute deadline on its own clock.
//
// Not covered: semop/semtimedop, msgrcv/msgsnd, io_getevents, sockets with SO_RCVTIMEO,
// sem_timedwait (documented in docs/architecture.md).
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "../runtime/signal_state.h"

using namespace ckpt;
using namespace ckpt::interpose;
using ckpt::sigstate::Interruption;

CKPT_REAL(int, nanosleep, (const struct timespec *, struct timespec *))
CKPT_REAL(int, clock_nanosleep, (clockid_t, int, const struct timespec *, struct timespec *))
CKPT_REAL(int, poll, (struct pollfd *, nfds_t, int))
CKPT_REAL(int, ppoll, (struct pollfd *, nfds_t, const struct timespec *, const sigset_t *))
CKPT_REAL(int, select, (int, fd_set *, fd_set *, fd_set *, struct timeval *))
CKPT_REAL(int, pselect, (int, fd_set *, fd_set *, fd_set *, const struct timespec *, const sigset_t *))
CKPT_REAL(int, epoll_wait, (int, struct epoll_event *, int, int))
CKPT_REAL(int, epoll_pwait, (int, struct epoll_event *, int, int, const sigset_t *))
CKPT_REAL(int, epoll_pwait2, (int, struct epoll_event *, int, const struct timespec *, const sigset_t *))
CKPT_REAL(int, pause, ())

extern "C" void __chk_fail(void) __attribute__((noreturn));

namespace {

__attribute__((constructor(101))) void resolve_all()
{
    real_nanosleep(); real_clock_nanosleep(); real_poll(); real_ppoll(); real_select(); real_pselect();
    real_epoll_wait(); real_epoll_pwait(); real_epoll_pwait2(); real_pause();
}

bool ckpt_only(long r, const Interruption &i) { return r == -1 && errno == EINTR && i.only_checkpoint(); }

int64_t ns_of(const struct timespec &t) { return int64_t(t.tv_sec) * 1000000000 + t.tv_nsec; }

struct timespec ts_of(int64_t ns)
{
    if (ns < 0) ns = 0;
    return {time_t(ns / 1000000000), long(ns % 1000000000)};
}

// A relative wait's deadline on the virtual clock; -1 for "no timeout".
struct Deadline {
    int64_t at = -1;
    static Deadline after_ns(int64_t ns) { return Deadline{sigstate::virtual_now_ns() + ns}; }
    int64_t left_ns() const
    {
        const int64_t l = at - sigstate::virtual_now_ns();
        return l > 0 ? l : 0;
    }
    int left_ms() const { return int((left_ns() + 999999) / 1000000); }
};

// The program's mask for the wait; a full one without the checkpoint signal (is_full_set).
const sigset_t *wait_mask(const sigset_t *mask, sigset_t &copy)
{
    const int sig = sigstate::g_sig.signal;
    if (!mask || !sig || sigismember(mask, sig) != 1 || !sigstate::is_full_set(mask)) return mask;
    copy = *mask;
    sigdelset(&copy, sig);
    return &copy;
}

int sleep_for(const struct timespec *req, struct timespec *rem)
{
    auto real = real_nanosleep();
    if (!real) return int(raw_result(RAW2(SYS_nanosleep, req, rem)));
    struct timespec left = *req, r{};
    for (;;) {
        Interruption i;
        const int x = real(&left, &r);
        if (x == 0) return 0;
        if (ckpt_only(x, i)) {
            left = r;
            continue;
        }
        if (rem) *rem = r;
        return x;
    }
}

}  // namespace

CKPT_EXPORT int nanosleep(const struct timespec *req, struct timespec *rem) { return sleep_for(req, rem); }
CKPT_EXPORT int __nanosleep(const struct timespec *req, struct timespec *rem) { return sleep_for(req, rem); }

CKPT_EXPORT int clock_nanosleep(clockid_t clk, int flags, const struct timespec *req, struct timespec *rem)
{
    auto real = real_clock_nanosleep();
    if (!real) return ENOSYS;
    struct timespec left = *req, r{};
    for (;;) {
        const Interruption i;
        const int e = real(clk, flags, &left, &r);
        if (e != EINTR || !i.only_checkpoint()) {
            if (e == EINTR && rem && !(flags & TIMER_ABSTIME)) *rem = r;
            return e;
        }
        if (!(flags & TIMER_ABSTIME)) left = r;
    }
}

CKPT_EXPORT unsigned int sleep(unsigned int seconds)
{
    struct timespec req = {time_t(seconds), 0}, rem{};
    if (sleep_for(&req, &rem) < 0) return unsigned(rem.tv_sec) + (rem.tv_nsec >= 500000000L);
    return 0;
}

CKPT_EXPORT int usleep(useconds_t usec)
{
    struct timespec req = {time_t(usec / 1000000), long(usec % 1000000) * 1000};
    return sleep_for(&req, nullptr);
}

CKPT_EXPORT int pause(void)
{
    auto real = real_pause();
    for (;;) {
        const Interruption i;
        const int r = real ? real() : int(raw_result(RAW0(SYS_pause)));
        if (!ckpt_only(r, i)) return r;
    }
}

CKPT_EXPORT int poll(struct pollfd *fds, nfds_t n, int timeout)
{
    auto real = real_poll();
    const Deadline d = timeout >= 0 ? Deadline::after_ns(int64_t(timeout) * 1000000) : Deadline{};
    int t = timeout;
    for (;;) {
        const Interruption i;
        const int r = real(fds, n, t);
        if (!ckpt_only(r, i)) return r;
        if (timeout >= 0) t = d.left_ms();
    }
}

CKPT_EXPORT int __poll(struct pollfd *fds, nfds_t n, int timeout) { return poll(fds, n, timeout); }

CKPT_EXPORT int __poll_chk(struct pollfd *fds, nfds_t n, int timeout, size_t fdslen)
{
    if (fdslen / sizeof *fds < n) __chk_fail();
    return poll(fds, n, timeout);
}

CKPT_EXPORT int ppoll(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask)
{
    auto real = real_ppoll();
    sigset_t copy;
    const sigset_t *m = wait_mask(mask, copy);
    const Deadline d = tmo ? Deadline::after_ns(ns_of(*tmo)) : Deadline{};
    struct timespec left = tmo ? *tmo : timespec{};
    for (;;) {
        const Interruption i;
        const int r = real(fds, n, tmo ? &left : nullptr, m);
        if (!ckpt_only(r, i)) return r;
        if (tmo) left = ts_of(d.left_ns());
    }
}

CKPT_EXPORT int __ppoll_chk(struct pollfd *fds, nfds_t n, const struct timespec *tmo, const sigset_t *mask,
                            size_t fdslen)
{
    if (fdslen / sizeof *fds < n) __chk_fail();
    return ppoll(fds, n, tmo, mask);
}

// After an EINTR the kernel has not written the sets: the same ones are passed again.
CKPT_EXPORT int select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    auto real = real_select();
    const Deadline d = tv ? Deadline::after_ns(int64_t(tv->tv_sec) * 1000000000 + int64_t(tv->tv_usec) * 1000)
                          : Deadline{};
    for (;;) {
        const Interruption i;
        const int x = real(nfds, r, w, e, tv);
        if (!ckpt_only(x, i)) return x;
        if (tv) {
            const int64_t left = d.left_ns();
            tv->tv_sec = time_t(left / 1000000000);
            tv->tv_usec = suseconds_t((left % 1000000000) / 1000);
        }
    }
}

CKPT_EXPORT int __select(int nfds, fd_set *r, fd_set *w, fd_set *e, struct timeval *tv)
{
    return select(nfds, r, w, e, tv);
}

CKPT_EXPORT int pselect(int nfds, fd_set *r, fd_set *w, fd_set *e, const struct timespec *tmo,
                        const sigset_t *mask)
{
    auto real = real_pselect();
    sigset_t copy;
    const sigset_t *m = wait_mask(mask, copy);
    const Deadline d = tmo ? Deadline::after_ns(ns_of(*tmo)) : Deadline{};
    struct timespec left = tmo ? *tmo : timespec{};
    for (;;) {
        const Interruption i;
        const int x = real(nfds, r, w, e, tmo ? &left : nullptr, m);
        if (!ckpt_only(x, i)) return x;
        if (tmo) left = ts_of(d.left_ns());
    }
}

CKPT_EXPORT int epoll_wait(int epfd, struct epoll_event *ev, int max, int timeout)
{
    auto real = real_epoll_wait();
    const Deadline d = timeout >= 0 ? Deadline::after_ns(int64_t(timeout) * 1000000) : Deadline{};
    int t = timeout;
    for (;;) {
        const Interruption i;
        const int r = real(epfd, ev, max, t);
        if (!ckpt_only(r, i)) return r;
        if (timeout >= 0) t = d.left_ms();
    }
}

CKPT_EXPORT int epoll_pwait(int epfd, struct epoll_event *ev, int max, int timeout, const sigset_t *mask)
{
    auto real = real_epoll_pwait();
    sigset_t copy;
    const sigset_t *m = wait_mask(mask, copy);
    const Deadline d = timeout >= 0 ? Deadline::after_ns(int64_t(timeout) * 1000000) : Deadline{};
    int t = timeout;
    for (;;) {
        const Interruption i;
        const int r = real(epfd, ev, max, t, m);
        if (!ckpt_only(r, i)) return r;
        if (timeout >= 0) t = d.left_ms();
    }
}

CKPT_EXPORT int epoll_pwait2(int epfd, struct epoll_event *ev, int max, const struct timespec *tmo,
                             const sigset_t *mask)
{
    auto real = real_epoll_pwait2();
    if (!real) return int(raw_result(-ENOSYS));
    sigset_t copy;
    const sigset_t *m = wait_mask(mask, copy);
    const Deadline d = tmo ? Deadline::after_ns(ns_of(*tmo)) : Deadline{};
    struct timespec left = tmo ? *tmo : timespec{};
    for (;;) {
        const Interruption i;
        const int r = real(epfd, ev, max, tmo ? &left : nullptr, m);
        if (!ckpt_only(r, i)) return r;
        if (tmo) left = ts_of(d.left_ns());
    }
}
