/* attrs_probe MODE WORK MARKER: sets one process attribute (MODE), takes a checkpoint with
 * chkpnt(), creates MARKER and waits to be killed. Restored from that checkpoint, it checks
 * from inside that the attribute is what it was, prints "OK MODE ..." or "FAIL MODE: why" on
 * stdout and exits 0 or 1. Used by tests/correctness/test_attr_*.py (issue 9, item 9).
 * Values from before the checkpoint live in memory, which the restore brings back. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/personality.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern int chkpnt(void) __attribute__((weak));

static const char *mode, *work, *marker;
static char exe_before[4096];
static pid_t pid_before;
static volatile sig_atomic_t got_alarm, got_usr1;
static volatile int usr1_value;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", mode);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    exit(1);
}

static const char *at(const char *name)
{
    static char buf[4][4096];
    static int i;
    char *b = buf[i++ % 4];
    snprintf(b, 4096, "%s/%s", work, name);
    return b;
}

static int64_t tv_ns(struct timeval tv) { return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000; }
static int64_t ts_ns(struct timespec ts) { return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec; }

static void on_alarm(int s) { (void)s; got_alarm++; }
static void on_timer_thread(union sigval v) { (void)v; }
static void on_usr1(int s, siginfo_t *si, void *uc)
{
    (void)s; (void)uc;
    got_usr1++;
    usr1_value = si->si_value.sival_int;
}

/* Waits up to 5 s for a flag set by a handler (polled). */
static int wait_flag(volatile sig_atomic_t *flag)
{
    for (int i = 0; i < 500 && !*flag; ++i) {
        struct timespec t = {0, 10 * 1000 * 1000};
        nanosleep(&t, NULL);
    }
    return *flag != 0;
}

struct caps { struct __user_cap_data_struct d[2]; };
static struct caps get_caps(void)
{
    struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct caps c;
    memset(&c, 0, sizeof c);
    if (syscall(SYS_capget, &h, c.d) != 0) fail("capget: %s", strerror(errno));
    return c;
}

static uint64_t bounding_set(void)
{
    uint64_t b = 0;
    for (int cap = 0; cap < 64; ++cap)
        if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) == 1) b |= 1ull << cap;
    return b;
}

/* State recorded before the checkpoint, compared after. */
static struct itimerval it_before;
static timer_t timer_a, timer_b;
static struct itimerspec ts_a_before;
static struct rlimit nofile_before, core_before;
static int personality_before;
static struct caps caps_before;
static uint64_t bset_before;
static uid_t gid_list_before[8];
static int n_groups_before;

static void setup(void)
{
    if (!strcmp(mode, "itimer")) {
        signal(SIGALRM, on_alarm);
        struct itimerval v = {{0, 500000}, {2, 0}};
        if (setitimer(ITIMER_REAL, &v, NULL) != 0) fail("setitimer: %s", strerror(errno));
        getitimer(ITIMER_REAL, &it_before);
    } else if (!strcmp(mode, "posix_timer")) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_sigaction = on_usr1;
        sa.sa_flags = SA_SIGINFO;
        sigaction(SIGUSR1, &sa, NULL);
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_NONE;
        if (timer_create(CLOCK_REALTIME, &ev, &timer_a) != 0) fail("timer_create: %s", strerror(errno));
        ev.sigev_notify = SIGEV_SIGNAL;
        ev.sigev_signo = SIGUSR1;
        ev.sigev_value.sival_int = 4660;
        if (timer_create(CLOCK_MONOTONIC, &ev, &timer_b) != 0) fail("timer_create: %s", strerror(errno));
        struct itimerspec a = {{0, 250000000}, {30, 0}}, b = {{0, 0}, {2, 0}};
        timer_settime(timer_a, 0, &a, NULL);
        timer_settime(timer_b, 0, &b, NULL);
        timer_gettime(timer_a, &ts_a_before);
    } else if (!strcmp(mode, "rlimit")) {
        struct rlimit n = {512, 1024}, c = {0, 4096 * 1024};
        if (setrlimit(RLIMIT_NOFILE, &n) != 0 || setrlimit(RLIMIT_CORE, &c) != 0) fail("setrlimit: %s", strerror(errno));
        getrlimit(RLIMIT_NOFILE, &nofile_before);
        getrlimit(RLIMIT_CORE, &core_before);
    } else if (!strcmp(mode, "rlimit_lower")) {
        struct rlimit n = {1024, 2048};
        if (setrlimit(RLIMIT_NOFILE, &n) != 0) fail("setrlimit: %s", strerror(errno));
    } else if (!strcmp(mode, "nice")) {
        errno = 0;
        if (nice(7) == -1 && errno) fail("nice: %s", strerror(errno));
    } else if (!strcmp(mode, "personality")) {
        personality(personality(0xffffffff) | ADDR_NO_RANDOMIZE | READ_IMPLIES_EXEC);
        personality_before = personality(0xffffffff);
    } else if (!strcmp(mode, "pdeathsig")) {
        if (prctl(PR_SET_PDEATHSIG, SIGUSR1) != 0) fail("PR_SET_PDEATHSIG: %s", strerror(errno));
    } else if (!strcmp(mode, "pending")) {
        sigset_t s;
        sigemptyset(&s);
        sigaddset(&s, SIGUSR1);
        sigaddset(&s, SIGTERM);
        sigaddset(&s, SIGRTMIN + 2);
        sigprocmask(SIG_BLOCK, &s, NULL);
        union sigval v1 = {.sival_int = 77}, v2 = {.sival_int = 78};
        sigqueue(getpid(), SIGRTMIN + 2, v1);
        sigqueue(getpid(), SIGRTMIN + 2, v2);
        syscall(SYS_tgkill, getpid(), gettid(), SIGUSR1);  /* directed at the thread */
        kill(getpid(), SIGTERM);                           /* at the process */
    } else if (!strcmp(mode, "comm")) {
        prctl(PR_SET_NAME, "probe-name", 0, 0, 0);
    } else if (!strcmp(mode, "creds")) {
        gid_t groups[2] = {65534, 100};
        if (setgroups(2, groups) != 0) fail("setgroups: %s", strerror(errno));
        if (setresgid(65534, 65534, 65534) != 0) fail("setresgid: %s", strerror(errno));
        /* The effective uid stays 0: the checkpoint writes into root's job directory. */
        if (setresuid(65534, 0, 65534) != 0) fail("setresuid: %s", strerror(errno));
        n_groups_before = getgroups(8, gid_list_before);
    } else if (!strcmp(mode, "caps")) {
        if (prctl(PR_CAPBSET_DROP, CAP_MKNOD, 0, 0, 0) != 0) fail("PR_CAPBSET_DROP: %s", strerror(errno));
        struct caps c = get_caps();
        c.d[0].effective &= ~(1u << CAP_NET_RAW);
        c.d[0].permitted &= ~(1u << CAP_NET_RAW);
        c.d[0].inheritable |= 1u << CAP_CHOWN;
        struct __user_cap_header_struct h = {_LINUX_CAPABILITY_VERSION_3, 0};
        if (syscall(SYS_capset, &h, c.d) != 0) fail("capset: %s", strerror(errno));
        caps_before = get_caps();
        bset_before = bounding_set();
    } else if (!strcmp(mode, "no_new_privs")) {
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) fail("PR_SET_NO_NEW_PRIVS: %s", strerror(errno));
    } else if (!strcmp(mode, "session")) {
        if (setsid() < 0) fail("setsid: %s", strerror(errno));
    } else if (!strcmp(mode, "locks") || !strcmp(mode, "flock_only")) {
        int f = open(at("flocked"), O_RDWR | O_CREAT, 0600);
        if (f < 0 || flock(f, LOCK_EX) != 0) fail("flock: %s", strerror(errno));
        if (!strcmp(mode, "locks")) {
            int p = open(at("posix"), O_RDWR | O_CREAT, 0600);
            struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 0, .l_len = 10};
            if (p < 0 || fcntl(p, F_SETLK, &l) != 0) fail("F_SETLK: %s", strerror(errno));
            int o = open(at("ofd"), O_RDWR | O_CREAT, 0600);
            struct flock r = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = 5, .l_len = 10};
            if (o < 0 || fcntl(o, F_OFD_SETLK, &r) != 0) fail("F_OFD_SETLK: %s", strerror(errno));
        }
    } else if (!strcmp(mode, "seccomp")) {
        struct sock_filter allow[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
        struct sock_fprog prog = {1, allow};
        if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 || prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
            fail("seccomp: %s", strerror(errno));
    } else if (!strcmp(mode, "sigev_thread")) {
        struct sigevent ev;
        memset(&ev, 0, sizeof ev);
        ev.sigev_notify = SIGEV_THREAD;
        ev.sigev_notify_function = on_timer_thread;
        timer_t t;
        if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0) fail("timer_create: %s", strerror(errno));
        struct itimerspec a = {{0, 0}, {60, 0}};
        timer_settime(t, 0, &a, NULL);
    } else if (!strcmp(mode, "exe")) {
    } else {
        fail("unknown mode");
    }
}

/* Another process's view of a lock: 1 if it cannot take it. */
static int locked_for_others(const char *path, int kind, short type, off_t start, off_t len)
{
    pid_t c = fork();
    if (c == 0) {
        int fd = open(path, O_RDWR);
        if (fd < 0) _exit(3);
        if (kind == 0) _exit(flock(fd, LOCK_EX | LOCK_NB) != 0 && errno == EWOULDBLOCK ? 1 : 0);
        struct flock l = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = start, .l_len = len};
        if (fcntl(fd, F_OFD_GETLK, &l) != 0) _exit(3);
        _exit(l.l_type == type ? 1 : 0);
    }
    int st = 0;
    waitpid(c, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 3;
}

static void verify(void)
{
    if (!strcmp(mode, "itimer")) {
        struct itimerval v;
        getitimer(ITIMER_REAL, &v);
        int64_t left = tv_ns(v.it_value), before = tv_ns(it_before.it_value);
        if (tv_ns(v.it_interval) != 500000000) fail("interval %lld ns, was 500000000", (long long)tv_ns(v.it_interval));
        if (left <= 0 || left > before || left < before - 1500000000LL)
            fail("%lld ns left, %lld before the checkpoint", (long long)left, (long long)before);
        if (!wait_flag(&got_alarm)) fail("no SIGALRM within 5 s");
        printf("OK itimer: %lld of %lld ns left, SIGALRM arrived\n", (long long)left, (long long)before);
    } else if (!strcmp(mode, "posix_timer")) {
        struct itimerspec a, b;
        if (timer_gettime(timer_a, &a) != 0) fail("timer_gettime(a): %s", strerror(errno));
        if (timer_gettime(timer_b, &b) != 0) fail("timer_gettime(b): %s", strerror(errno));
        int64_t left = ts_ns(a.it_value), before = ts_ns(ts_a_before.it_value);
        if (ts_ns(a.it_interval) != 250000000) fail("interval %lld ns", (long long)ts_ns(a.it_interval));
        if (left <= 0 || left > before || left < before - 1500000000LL)
            fail("timer a: %lld ns left, %lld before", (long long)left, (long long)before);
        if (!wait_flag(&got_usr1)) fail("timer b's SIGUSR1 did not arrive within 5 s");
        if (usr1_value != 4660) fail("timer b's signal carried %d, not 4660", usr1_value);
        printf("OK posix_timer: ids %ld and %ld, a has %lld ns left, b's signal arrived with its value\n",
               (long)(intptr_t)timer_a, (long)(intptr_t)timer_b, (long long)left);
    } else if (!strcmp(mode, "rlimit")) {
        struct rlimit n, c;
        getrlimit(RLIMIT_NOFILE, &n);
        getrlimit(RLIMIT_CORE, &c);
        if (n.rlim_cur != 512 || n.rlim_max != 1024) fail("RLIMIT_NOFILE %lu/%lu, was 512/1024", n.rlim_cur, n.rlim_max);
        if (c.rlim_cur != 0 || c.rlim_max != 4096 * 1024) fail("RLIMIT_CORE %lu/%lu", c.rlim_cur, c.rlim_max);
        printf("OK rlimit: RLIMIT_NOFILE 512/1024, RLIMIT_CORE 0/4194304\n");
    } else if (!strcmp(mode, "rlimit_lower")) {
        struct rlimit n;
        getrlimit(RLIMIT_NOFILE, &n);
        if (n.rlim_cur != 1024 || n.rlim_max != 2048) fail("RLIMIT_NOFILE %lu/%lu, was 1024/2048", n.rlim_cur, n.rlim_max);
        printf("OK rlimit_lower: RLIMIT_NOFILE 1024/2048\n");
    } else if (!strcmp(mode, "nice")) {
        errno = 0;
        int n = getpriority(PRIO_PROCESS, 0);
        if (n != 7) fail("nice %d, was 7", n);
        printf("OK nice: 7\n");
    } else if (!strcmp(mode, "personality")) {
        int p = personality(0xffffffff);
        if (p != personality_before) fail("personality %#x, was %#x", p, personality_before);
        printf("OK personality: %#x\n", p);
    } else if (!strcmp(mode, "pdeathsig")) {
        int s = 0;
        prctl(PR_GET_PDEATHSIG, &s);
        if (s != SIGUSR1) fail("PR_GET_PDEATHSIG %d, was %d", s, SIGUSR1);
        printf("OK pdeathsig: %d\n", s);
    } else if (!strcmp(mode, "pending")) {
        sigset_t p;
        sigpending(&p);
        if (!sigismember(&p, SIGUSR1) || !sigismember(&p, SIGTERM) || !sigismember(&p, SIGRTMIN + 2))
            fail("pending: USR1 %d TERM %d RTMIN+2 %d", sigismember(&p, SIGUSR1), sigismember(&p, SIGTERM),
                 sigismember(&p, SIGRTMIN + 2));
        /* Thread- and process-directed queues, as the kernel shows them. */
        char buf[4096];
        int fd = open("/proc/thread-self/status", O_RDONLY);
        ssize_t n = read(fd, buf, sizeof buf - 1);
        close(fd);
        buf[n > 0 ? n : 0] = 0;
        unsigned long long thr = strtoull(strstr(buf, "SigPnd:") + 7, NULL, 16);
        unsigned long long shd = strtoull(strstr(buf, "ShdPnd:") + 7, NULL, 16);
        if (!(thr & (1ull << (SIGUSR1 - 1))) || (shd & (1ull << (SIGUSR1 - 1))))
            fail("SIGUSR1 not thread-directed (SigPnd %llx ShdPnd %llx)", thr, shd);
        if (!(shd & (1ull << (SIGTERM - 1))) || !(shd & (1ull << (SIGRTMIN + 2 - 1))))
            fail("SIGTERM/RTMIN+2 not process-directed (ShdPnd %llx)", shd);
        sigset_t rt;
        sigemptyset(&rt);
        sigaddset(&rt, SIGRTMIN + 2);
        siginfo_t si;
        struct timespec zero = {0, 0};
        for (int want = 77; want <= 78; ++want) {
            if (sigtimedwait(&rt, &si, &zero) != SIGRTMIN + 2) fail("RTMIN+2 #%d not queued", want - 76);
            if (si.si_code != SI_QUEUE || si.si_value.sival_int != want || si.si_pid != pid_before)
                fail("RTMIN+2 siginfo: code %d value %d pid %d, wanted SI_QUEUE %d %d", si.si_code,
                     si.si_value.sival_int, si.si_pid, want, (int)pid_before);
        }
        if (sigtimedwait(&rt, &si, &zero) != -1) fail("a third RTMIN+2 is pending");
        printf("OK pending: USR1 (thread), TERM and two RTMIN+2 (process, values 77 78 from pid %d)\n", (int)pid_before);
    } else if (!strcmp(mode, "comm")) {
        char name[17] = {0}, proc[64] = {0};
        prctl(PR_GET_NAME, name, 0, 0, 0);
        int fd = open("/proc/self/comm", O_RDONLY);
        ssize_t n = read(fd, proc, sizeof proc - 1);
        close(fd);
        if (n > 0 && proc[n - 1] == '\n') proc[n - 1] = 0;
        if (strcmp(name, "probe-name") || strcmp(proc, "probe-name")) fail("name %s, comm %s", name, proc);
        printf("OK comm: %s\n", proc);
    } else if (!strcmp(mode, "creds")) {
        uid_t r, e, s;
        gid_t gr, ge, gs;
        getresuid(&r, &e, &s);
        getresgid(&gr, &ge, &gs);
        gid_t g[8];
        int n = getgroups(8, g);
        if (r != 65534 || e != 0 || s != 65534) fail("uids %u/%u/%u, were 65534/0/65534", r, e, s);
        if (gr != 65534 || ge != 65534 || gs != 65534) fail("gids %u/%u/%u", gr, ge, gs);
        if (n != n_groups_before || memcmp(g, gid_list_before, sizeof(gid_t) * (size_t)n)) fail("groups differ (%d)", n);
        printf("OK creds: uids 65534/0/65534, gids 65534, %d groups\n", n);
    } else if (!strcmp(mode, "caps")) {
        struct caps c = get_caps();
        uint64_t b = bounding_set();
        if (memcmp(&c, &caps_before, sizeof c))
            fail("capabilities eff %x prm %x inh %x, were %x %x %x", c.d[0].effective, c.d[0].permitted,
                 c.d[0].inheritable, caps_before.d[0].effective, caps_before.d[0].permitted, caps_before.d[0].inheritable);
        if (b != bset_before) fail("bounding set %llx, was %llx", (unsigned long long)b, (unsigned long long)bset_before);
        printf("OK caps: without CAP_NET_RAW, CAP_CHOWN inheritable, no CAP_MKNOD in the bounding set\n");
    } else if (!strcmp(mode, "no_new_privs")) {
        if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) fail("no_new_privs is off");
        printf("OK no_new_privs\n");
    } else if (!strcmp(mode, "session")) {
        if (getsid(0) != getpid() || getpgid(0) != getpid())
            fail("sid %d pgid %d, pid %d: not a session leader", (int)getsid(0), (int)getpgid(0), (int)getpid());
        printf("OK session: leader of its own session\n");
    } else if (!strcmp(mode, "locks") || !strcmp(mode, "flock_only")) {
        if (locked_for_others(at("flocked"), 0, 0, 0, 0) != 1) fail("the flock is not held");
        if (!strcmp(mode, "locks")) {
            if (locked_for_others(at("posix"), 1, F_WRLCK, 0, 10) != 1) fail("the fcntl write lock is not held");
            if (locked_for_others(at("ofd"), 2, F_RDLCK, 5, 10) != 1) fail("the OFD read lock is not held");
        }
        printf("OK %s: held again\n", mode);
    } else if (!strcmp(mode, "exe")) {
        char now[4096] = {0};
        if (readlink("/proc/self/exe", now, sizeof now - 1) < 0) fail("readlink: %s", strerror(errno));
        if (strcmp(now, exe_before)) fail("/proc/self/exe is %s, was %s", now, exe_before);
        printf("OK exe: %s\n", now);
    }
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: attrs_probe MODE WORK MARKER\n");
        return 2;
    }
    mode = argv[1];
    work = argv[2];
    marker = argv[3];
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!chkpnt) {
        fprintf(stderr, "attrs_probe: not under ckpt\n");
        return 4;
    }
    readlink("/proc/self/exe", exe_before, sizeof exe_before - 1);
    pid_before = getpid();
    setup();
    int r = chkpnt();
    if (r == INT_MAX) {
        verify();
        return 0;
    }
    if (r != 0) {
        printf("CHECKPOINT REFUSED %s: errno %d\n", mode, errno);
        return 5;
    }
    int fd = open(marker, O_WRONLY | O_CREAT | O_EXCL, 0600);
    if (fd < 0) return 3;
    close(fd);
    for (;;) pause();
}
