/* sleeper MODE MS COUNT: waits MS milliseconds COUNT times with the call MODE names (sleep,
 * usleep, nanosleep, clock_nanosleep, poll, ppoll, select, pselect, epoll_wait, epoll_pwait,
 * sigtimedwait) and checks on CLOCK_MONOTONIC that each wait lasted at least MS and ended
 * without an error. Prints "MODE N ok" per wait, "short"/"error" and exit 1 otherwise.
 *
 * sleeper alarm MS 1: a SIGALRM handler without SA_RESTART, an alarm after MS, then a 10 s
 * nanosleep and a 10 s poll: each must end with EINTR well before 10 s (the program's own
 * signal still interrupts it).
 *
 * sleeper wall MS 1: prints "sleeping" and flushes, then one nanosleep of MS; checks that at
 * least MS passed on CLOCK_REALTIME (a restore in the middle counts the time dead as not
 * slept: see docs/architecture.md). Prints "slept ok". */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (long long)t.tv_sec * 1000000000LL + t.tv_nsec;
}

static volatile sig_atomic_t alarms;
static void on_alarm(int s) { (void)s; alarms++; }

static int wait_once(const char *mode, int ms, int epfd)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    if (!strcmp(mode, "sleep")) return sleep((unsigned)(ms / 1000)) == 0 ? 0 : -2;
    if (!strcmp(mode, "usleep")) return usleep((useconds_t)ms * 1000);
    if (!strcmp(mode, "nanosleep")) return nanosleep(&ts, NULL);
    if (!strcmp(mode, "clock_nanosleep")) {
        int e = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
        if (e) errno = e;
        return e ? -1 : 0;
    }
    if (!strcmp(mode, "poll")) return poll(NULL, 0, ms);
    if (!strcmp(mode, "ppoll")) return ppoll(NULL, 0, &ts, NULL);
    if (!strcmp(mode, "select")) {
        struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
        return select(0, NULL, NULL, NULL, &tv);
    }
    if (!strcmp(mode, "pselect")) return pselect(0, NULL, NULL, NULL, &ts, NULL);
    if (!strcmp(mode, "epoll_wait")) {
        struct epoll_event ev;
        return epoll_wait(epfd, &ev, 1, ms);
    }
    if (!strcmp(mode, "epoll_pwait")) {
        struct epoll_event ev;
        sigset_t none;
        sigemptyset(&none);
        return epoll_pwait(epfd, &ev, 1, ms, &none);
    }
    if (!strcmp(mode, "sigtimedwait")) {
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, SIGUSR1);
        sigprocmask(SIG_BLOCK, &set, NULL);
        int r = sigtimedwait(&set, NULL, &ts);
        return r == -1 && errno == EAGAIN ? 0 : -1;
    }
    fprintf(stderr, "unknown mode %s\n", mode);
    exit(2);
}

static int alarm_mode(int ms)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL); /* no SA_RESTART */
    const char *names[] = {"nanosleep", "poll"};
    for (int i = 0; i < 2; ++i) {
        alarms = 0;
        ualarm((useconds_t)ms * 1000, 0);
        long long t0 = now_ns(CLOCK_MONOTONIC);
        int r = i == 0 ? nanosleep(&(struct timespec){10, 0}, NULL) : poll(NULL, 0, 10000);
        int e = errno;
        long long el = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
        if (r != -1 || e != EINTR || alarms != 1 || el > 5000) {
            printf("%s: result %d errno %d alarms %d after %lld ms: not interrupted by SIGALRM\n", names[i], r, e,
                   (int)alarms, el);
            return 1;
        }
        printf("%s interrupted ok\n", names[i]);
    }
    return 0;
}

int main(int argc, char **argv)
{
    if (argc < 4) {
        fprintf(stderr, "usage: sleeper MODE MS COUNT\n");
        return 2;
    }
    const char *mode = argv[1];
    const int ms = atoi(argv[2]);
    const int count = atoi(argv[3]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!strcmp(mode, "alarm")) return alarm_mode(ms);
    if (!strcmp(mode, "wall")) {
        printf("sleeping\n");
        long long t0 = now_ns(CLOCK_REALTIME);
        struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
        int r = nanosleep(&ts, NULL);
        long long el = (now_ns(CLOCK_REALTIME) - t0) / 1000000;
        if (r != 0 || el < ms) {
            printf("short: %d %s after %lld ms of %d\n", r, r ? strerror(errno) : "", el, ms);
            return 1;
        }
        printf("slept ok\n");
        return 0;
    }
    const int epfd = strncmp(mode, "epoll", 5) == 0 ? epoll_create1(0) : -1; /* (ckpt refuses epoll: those checkpoints are refused, the ticks still come) */
    for (int i = 0; i < count; ++i) {
        long long t0 = now_ns(CLOCK_MONOTONIC);
        errno = 0;
        int r = wait_once(mode, ms, epfd);
        long long el = (now_ns(CLOCK_MONOTONIC) - t0) / 1000000;
        if (r != 0) {
            printf("%s %d error: %d (%s) after %lld ms\n", mode, i, r, strerror(errno), el);
            return 1;
        }
        if (el < ms) {
            printf("%s %d short: %lld ms of %d\n", mode, i, el, ms);
            return 1;
        }
        printf("%s %d ok\n", mode, i);
    }
    return 0;
}
