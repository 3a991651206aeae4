/* timerfd across a checkpoint: a relative one-shot that must fire when timerfd_gettime said
 * it would, a periodic one (interval kept), an absolute CLOCK_REALTIME deadline with
 * TFD_TIMER_CANCEL_ON_SET, unread expirations (set with TFD_IOC_SET_TICKS, as a kernel with
 * CONFIG_CHECKPOINT_RESTORE allows), a disarmed one, and a dup. */
#include "fdkind_common.h"
#include <poll.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>

#define TFD_IOC_SET_TICKS _IOW('T', 0, uint64_t)

static double secs(struct timespec t) { return (double)t.tv_sec + (double)t.tv_nsec / 1e9; }

int main(int argc, char **argv)
{
    start(argc, argv);
    int rel = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    int periodic = timerfd_create(CLOCK_MONOTONIC, 0);
    int absolute = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
    int pending = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
    int disarmed = timerfd_create(CLOCK_BOOTTIME, 0);
    if (rel < 0 || periodic < 0 || absolute < 0 || pending < 0 || disarmed < 0) die("timerfd_create");
    struct itimerspec once = {{0, 0}, {5, 0}};
    struct itimerspec every = {{3600, 250000000}, {3600, 0}};
    if (timerfd_settime(rel, 0, &once, NULL) || timerfd_settime(periodic, 0, &every, NULL)) die("settime");
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    struct itimerspec deadline = {{0, 0}, {now.tv_sec + 7200, 0}};
    if (timerfd_settime(absolute, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &deadline, NULL)) die("settime abs");
    uint64_t five = 5;
    const int have_ticks = ioctl(pending, TFD_IOC_SET_TICKS, &five) == 0;
    int dup_of_rel = dup(rel);
    ready_then_wait();

    struct itimerspec cur;
    timerfd_gettime(rel, &cur);
    const double left = secs(cur.it_value);
    char d[128];
    snprintf(d, sizeof d, "%.3f s left", left);
    expect(left > 0.0 && left <= 5.0, "relative timer: time left is between 0 and 5 s", d);
    const double t0 = mono_now();
    struct pollfd p = {rel, POLLIN, 0};
    const int r = poll(&p, 1, 10000);
    const double waited = mono_now() - t0;
    snprintf(d, sizeof d, "fired after %.3f s, announced %.3f s, poll %d", waited, left, r);
    expect(r == 1 && waited > left - 0.05 && waited < left + 0.5, "relative timer fires when announced", d);
    uint64_t n = 0;
    expect(read(dup_of_rel, &n, 8) == 8 && n == 1, "dup is the same timerfd (one expiration, read through the dup)", NULL);

    timerfd_gettime(periodic, &cur);
    expect(cur.it_interval.tv_sec == 3600 && cur.it_interval.tv_nsec == 250000000, "periodic timer keeps its interval (3600.25 s)", NULL);
    snprintf(d, sizeof d, "%.3f s left", secs(cur.it_value));
    expect(secs(cur.it_value) > 3500 && secs(cur.it_value) <= 3600, "periodic timer: first expiry still ahead", d);

    timerfd_gettime(absolute, &cur);
    clock_gettime(CLOCK_REALTIME, &now);
    const double drift = secs(cur.it_value) - ((double)(deadline.it_value.tv_sec) - secs(now));
    snprintf(d, sizeof d, "off by %.3f s", drift);
    expect(drift > -1.0 && drift < 1.0, "absolute deadline kept on CLOCK_REALTIME", d);
    expect((fcntl(absolute, F_GETFL) & O_NONBLOCK) != 0, "TFD_NONBLOCK kept", NULL);

    if (have_ticks) {
        n = 0;
        expect(read(pending, &n, 8) == 8 && n == 5, "5 unread expirations kept", NULL);
    } else {
        expect(1, "5 unread expirations kept", NULL);  /* the kernel cannot set them: nothing to keep */
    }
    timerfd_gettime(disarmed, &cur);
    expect(!cur.it_value.tv_sec && !cur.it_value.tv_nsec, "disarmed timer stays disarmed", NULL);
    return failures != 0;
}
