/* thread_state MODE MS: threads that each keep one kind of per-thread state and check it
 * continuously for MS milliseconds of work, across checkpoints, SIGKILLs and restores.
 * Prints what each thread verified; any mismatch prints "MODE FAIL: ..." and exits 1.
 *
 *   mask       three threads with different signal masks, one of them blocking every signal
 *              (sigfillset: the checkpoint signal too, in its own view)
 *   inherit    the main thread blocks every signal (sigfillset) and creates a thread, which
 *              creates another: each starts with its creator's mask, the checkpoint signal
 *              too in its own view, and keeps it
 *   altstack   three threads, each with its own alternate signal stack
 *   tls        three threads, each with its own thread-local values (and its thread id)
 *   fpu        three threads holding patterns in ymm/xmm registers and a non-default MXCSR
 *              across a nanosleep system call
 *   futex      a thread blocked in FUTEX_WAIT, woken with increasing values
 *   pipe       a thread blocked in read() on a pipe that the main thread feeds
 *   nanosleep  a thread in nanosleep(): each sleep lasts at least what it asked, no EINTR
 *   poll       a thread in poll() with a timeout on a pipe: never -1/EINTR
 *   pingpong   two threads strictly alternating through a mutex and a condition variable
 *   recursive  a thread holding a recursive mutex (twice) across checkpoints, then another
 *              thread taking it
 *
 * The output depends only on MODE and MS, so a run that was killed and resumed prints exactly
 * what an uninterrupted run prints. */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <linux/futex.h>

static const char *g_mode;
static long g_ms;

static void fail(const char *fmt, long a, long b)
{
    printf("%s FAIL: ", g_mode);
    printf(fmt, a, b);
    printf("\n");
    fflush(stdout);
    _exit(1);
}

/* What each thread verified, printed by main in thread order once all have ended. */
static char g_msg[3][256];
#define REPORT(id, ...) snprintf(g_msg[id], sizeof g_msg[id], __VA_ARGS__)

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0)
        if (errno != EINTR) fail("nanosleep: errno %ld%ld", errno, 0);
}

/* Work is counted in steps of 2 ms of sleep, not in elapsed time, so that the output does not
 * depend on how long the process was dead. */
static long steps(void) { return g_ms / 2; }

/* ---- mask, altstack, tls ------------------------------------------------------------- */
static __thread long t_value;
static __thread char t_block[4096];

static void *mask_thread(void *arg)
{
    long id = (long)arg;
    sigset_t want, cur;
    sigemptyset(&want);
    if (id == 0) sigaddset(&want, SIGUSR1);
    if (id == 1) { sigaddset(&want, SIGUSR2); sigaddset(&want, SIGHUP); sigaddset(&want, SIGRTMIN + 5); }
    if (id == 2) sigfillset(&want);
    pthread_sigmask(SIG_SETMASK, &want, NULL);
    pthread_sigmask(SIG_SETMASK, NULL, &want);  /* as the program sees it */
    for (long i = 0; i < steps(); ++i) {
        sleep_ms(2);
        pthread_sigmask(SIG_SETMASK, NULL, &cur);
        for (int s = 1; s < 65; ++s)
            if (sigismember(&cur, s) != sigismember(&want, s)) fail("thread %ld: signal %ld changed in its mask", id, s);
    }
    REPORT(id, "mask thread %ld: mask kept for %ld steps\n", id, steps());
    return NULL;
}

static sigset_t g_full_view;  /* the main thread's mask after sigfillset, as it sees it */

static void check_full_view(long id, long step)
{
    sigset_t cur;
    pthread_sigmask(SIG_SETMASK, NULL, &cur);
    for (int s = 1; s < 65; ++s)
        if (sigismember(&cur, s) != sigismember(&g_full_view, s))
            fail(step < 0 ? "thread %ld: signal %ld differs from its creator's mask at its start"
                          : "thread %ld: signal %ld changed in its mask", id, s);
}

static void *inherit_thread(void *arg)
{
    long id = (long)arg;
    check_full_view(id, -1);
    pthread_t child;
    if (id == 0 && pthread_create(&child, NULL, inherit_thread, (void *)1L) != 0) fail("pthread_create%ld%ld", 0, 0);
    for (long i = 0; i < steps(); ++i) {
        sleep_ms(2);
        check_full_view(id, i);
    }
    if (id == 0) pthread_join(child, NULL);
    REPORT(id, "inherit thread %ld: started with its creator's mask, kept for %ld steps\n", id, steps());
    return NULL;
}

static void *altstack_thread(void *arg)
{
    long id = (long)arg;
    size_t size = 65536 + 4096 * (size_t)id;
    stack_t ss = {.ss_sp = malloc(size), .ss_size = size, .ss_flags = 0}, cur;
    if (sigaltstack(&ss, NULL) != 0) fail("sigaltstack: %ld%ld", errno, 0);
    for (long i = 0; i < steps(); ++i) {
        sleep_ms(2);
        sigaltstack(NULL, &cur);
        if (cur.ss_sp != ss.ss_sp || cur.ss_size != size || cur.ss_flags != 0)
            fail("thread %ld: alternate stack changed (size %ld)", id, (long)cur.ss_size);
    }
    REPORT(id, "altstack thread %ld: alternate stack of %ld bytes kept\n", id, (long)size);
    return NULL;
}

static void *tls_thread(void *arg)
{
    long id = (long)arg;
    const pid_t tid = gettid();
    t_value = 1000 * (id + 1) + 7;
    memset(t_block, 'a' + (int)id, sizeof t_block);
    for (long i = 0; i < steps(); ++i) {
        sleep_ms(2);
        if (t_value != 1000 * (id + 1) + 7) fail("thread %ld: thread-local value is %ld", id, t_value);
        for (size_t k = 0; k < sizeof t_block; ++k)
            if (t_block[k] != 'a' + id) fail("thread %ld: thread-local block changed at %ld", id, (long)k);
        if (gettid() != tid) fail("thread %ld: thread id changed to %ld", id, (long)gettid());
        if (syscall(SYS_gettid) != tid) fail("thread %ld: kernel thread id is %ld", id, syscall(SYS_gettid));
        t_value += 0;
    }
    REPORT(id, "tls thread %ld: thread-local data and thread id kept\n", id);
    return NULL;
}

/* ---- fpu ------------------------------------------------------------------------------ */
static void *fpu_thread(void *arg)
{
    long id = (long)arg;
    const int avx = __builtin_cpu_supports("avx");
    uint64_t in[8 * 4] __attribute__((aligned(32))), out[8 * 4] __attribute__((aligned(32)));
    for (long i = 0; i < steps(); ++i) {
        for (int k = 0; k < 32; ++k) in[k] = 0x0101010101010101ull * (uint64_t)(id + 1) + (uint64_t)(k * 977 + i);
        memset(out, 0, sizeof out);
        struct timespec ts = {0, 2000000};
        unsigned mxcsr_in = 0x1f80 | (((unsigned)id + 1) << 13 & 0x6000), mxcsr_out = 0;
        long rc;
        if (avx) {
            __asm__ volatile(
                "ldmxcsr %[mi]\n\t"
                "vmovdqa 0(%[in]), %%ymm8\n\t"
                "vmovdqa 32(%[in]), %%ymm9\n\t"
                "vmovdqa 64(%[in]), %%ymm10\n\t"
                "vmovdqa 96(%[in]), %%ymm11\n\t"
                "vmovdqa 128(%[in]), %%ymm12\n\t"
                "vmovdqa 160(%[in]), %%ymm13\n\t"
                "vmovdqa 192(%[in]), %%ymm14\n\t"
                "vmovdqa 224(%[in]), %%ymm15\n\t"
                "syscall\n\t"
                "vmovdqa %%ymm8, 0(%[out])\n\t"
                "vmovdqa %%ymm9, 32(%[out])\n\t"
                "vmovdqa %%ymm10, 64(%[out])\n\t"
                "vmovdqa %%ymm11, 96(%[out])\n\t"
                "vmovdqa %%ymm12, 128(%[out])\n\t"
                "vmovdqa %%ymm13, 160(%[out])\n\t"
                "vmovdqa %%ymm14, 192(%[out])\n\t"
                "vmovdqa %%ymm15, 224(%[out])\n\t"
                "stmxcsr %[mo]\n\t"
                "ldmxcsr %[def]\n\t"
                : "=a"(rc), [mo] "=m"(mxcsr_out)
                : "0"((long)SYS_nanosleep), "D"(&ts), "S"(0L), [in] "r"(in), [out] "r"(out), [mi] "m"(mxcsr_in),
                  [def] "m"((unsigned){0x1f80})
                : "rcx", "r11", "memory", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
        } else {
            __asm__ volatile(
                "ldmxcsr %[mi]\n\t"
                "movdqa 0(%[in]), %%xmm8\n\t"
                "movdqa 16(%[in]), %%xmm15\n\t"
                "syscall\n\t"
                "movdqa %%xmm8, 0(%[out])\n\t"
                "movdqa %%xmm15, 16(%[out])\n\t"
                "stmxcsr %[mo]\n\t"
                "ldmxcsr %[def]\n\t"
                : "=a"(rc), [mo] "=m"(mxcsr_out)
                : "0"((long)SYS_nanosleep), "D"(&ts), "S"(0L), [in] "r"(in), [out] "r"(out), [mi] "m"(mxcsr_in),
                  [def] "m"((unsigned){0x1f80})
                : "rcx", "r11", "memory", "xmm8", "xmm15");
        }
        (void)rc; /* 0, or -EINTR where the kernel could not restart it (after a restore) */
        const int n = avx ? 32 : 4;
        for (int k = 0; k < n; ++k)
            if (out[k] != in[k]) fail("thread %ld: vector register word %ld changed", id, k);
        if (mxcsr_out != mxcsr_in) fail("thread %ld: MXCSR changed to %lx", id, (long)mxcsr_out);
    }
    REPORT(id, "fpu thread %ld: vector registers and MXCSR kept across the system call\n", id);
    return NULL;
}

/* ---- futex, pipe, nanosleep, poll ------------------------------------------------------- */
static volatile uint32_t g_word;
static int g_pipe[2];

static void *futex_thread(void *arg)
{
    (void)arg;
    uint32_t seen = 0;
    while (seen < (uint32_t)steps()) {
        long r = syscall(SYS_futex, &g_word, FUTEX_WAIT_PRIVATE, seen, NULL, NULL, 0);
        if (r != 0 && errno != EAGAIN && errno != EINTR) fail("futex wait: errno %ld%ld", errno, 0);
        uint32_t v = __atomic_load_n(&g_word, __ATOMIC_ACQUIRE);
        if (v < seen) fail("futex word went back from %ld to %ld", seen, v);
        seen = v;
    }
    printf("futex thread: woken up to value %ld\n", (long)seen);
    return NULL;
}

static void futex_main(void)
{
    for (long i = 1; i <= steps(); ++i) {
        sleep_ms(2);
        __atomic_store_n(&g_word, (uint32_t)i, __ATOMIC_RELEASE);
        syscall(SYS_futex, &g_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

static void *pipe_thread(void *arg)
{
    (void)arg;
    for (long i = 0; i < steps(); ++i) {
        unsigned char b;
        ssize_t n = read(g_pipe[0], &b, 1);
        if (n != 1) fail("read returned %ld (errno %ld)", (long)n, errno);
        if (b != (unsigned char)i) fail("byte %ld read as %ld", i, b);
    }
    printf("pipe thread: read %ld bytes in order\n", steps());
    return NULL;
}

static void pipe_main(void)
{
    for (long i = 0; i < steps(); ++i) {
        sleep_ms(2);
        unsigned char b = (unsigned char)i;
        if (write(g_pipe[1], &b, 1) != 1) fail("write: errno %ld%ld", errno, 0);
    }
}

static void *nanosleep_thread(void *arg)
{
    (void)arg;
    const long n = steps() / 10;
    for (long i = 0; i < n; ++i) {
        const uint64_t t0 = now_ns();
        struct timespec ts = {0, 20000000};
        if (nanosleep(&ts, NULL) != 0) fail("nanosleep %ld: errno %ld", i, errno);
        if (now_ns() - t0 < 20000000ull) fail("nanosleep %ld slept %ld ns", i, (long)(now_ns() - t0));
    }
    printf("nanosleep thread: %ld sleeps of 20 ms, none short, no EINTR\n", n);
    return NULL;
}

static void *poll_thread(void *arg)
{
    (void)arg;
    long got = 0;
    while (got < steps() / 5) {
        struct pollfd p = {.fd = g_pipe[0], .events = POLLIN};
        int r = poll(&p, 1, 30);
        if (r < 0) fail("poll: errno %ld after %ld bytes", errno, got);
        if (r == 1) {
            unsigned char b;
            if (read(g_pipe[0], &b, 1) != 1 || b != (unsigned char)got) fail("byte %ld wrong (%ld)", got, b);
            ++got;
        }
    }
    printf("poll thread: %ld bytes through poll, never EINTR\n", got);
    return NULL;
}

static void poll_main(void)
{
    for (long i = 0; i < steps() / 5; ++i) {
        sleep_ms(10);
        unsigned char b = (unsigned char)i;
        if (write(g_pipe[1], &b, 1) != 1) fail("write: errno %ld%ld", errno, 0);
    }
}

/* ---- pingpong, recursive --------------------------------------------------------------- */
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static long g_turn, g_rounds;

static void *pingpong_thread(void *arg)
{
    long id = (long)arg;
    for (long i = 0; i < g_rounds; ++i) {
        pthread_mutex_lock(&g_mu);
        while (g_turn % 2 != id) pthread_cond_wait(&g_cv, &g_mu);
        if (g_turn != 2 * i + id) fail("turn %ld where %ld was due", g_turn, 2 * i + id);
        ++g_turn;
        pthread_cond_broadcast(&g_cv);
        pthread_mutex_unlock(&g_mu);
        sleep_ms(1);
    }
    REPORT(id, "pingpong thread %ld: %ld turns in strict alternation\n", id, g_rounds);
    return NULL;
}

static pthread_mutex_t g_rec;
static volatile int g_held;

static void *recursive_holder(void *arg)
{
    (void)arg;
    for (long r = 0; r < steps() / 100; ++r) {
        if (pthread_mutex_lock(&g_rec) != 0 || pthread_mutex_lock(&g_rec) != 0) fail("lock round %ld%ld", r, 0);
        __atomic_store_n(&g_held, 1, __ATOMIC_RELEASE);
        sleep_ms(150);  /* held across checkpoints */
        int e = pthread_mutex_lock(&g_rec);  /* a third time: the owner must still be this thread */
        if (e != 0) fail("relock after the sleep: error %ld in round %ld", e, r);
        for (int k = 0; k < 3; ++k)
            if ((e = pthread_mutex_unlock(&g_rec)) != 0) fail("unlock %ld: error %ld", k, e);
        __atomic_store_n(&g_held, 0, __ATOMIC_RELEASE);
        sleep_ms(20);
    }
    return NULL;
}

static void *recursive_other(void *arg)
{
    (void)arg;
    long taken = 0, refused = 0;
    for (long r = 0; r < steps() / 10; ++r) {
        sleep_ms(15);
        int e = pthread_mutex_trylock(&g_rec);
        if (e == 0) {
            if (g_held) fail("took the mutex while the holder held it (round %ld)%ld", r, 0);
            ++taken;
            pthread_mutex_unlock(&g_rec);
        } else if (e == EBUSY) {
            ++refused;
        } else {
            fail("trylock: error %ld%ld", e, 0);
        }
    }
    (void)taken; (void)refused;  /* timing-dependent: not printed */
    printf("recursive: the holder kept its recursive mutex across checkpoints; the other thread "
           "never took it while held\n");
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: thread_state MODE MS\n"); return 2; }
    g_mode = argv[1];
    g_ms = atol(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t t[3];
    int n = 0;
    if (!strcmp(g_mode, "mask") || !strcmp(g_mode, "altstack") || !strcmp(g_mode, "tls") || !strcmp(g_mode, "fpu")) {
        void *(*f)(void *) = !strcmp(g_mode, "mask") ? mask_thread : !strcmp(g_mode, "altstack") ? altstack_thread
                             : !strcmp(g_mode, "tls") ? tls_thread : fpu_thread;
        for (long i = 0; i < 3; ++i) pthread_create(&t[n++], NULL, f, (void *)i);
    } else if (!strcmp(g_mode, "inherit")) {
        sigset_t all;
        sigfillset(&all);
        pthread_sigmask(SIG_SETMASK, &all, NULL);
        pthread_sigmask(SIG_SETMASK, NULL, &g_full_view);
        pthread_create(&t[n++], NULL, inherit_thread, (void *)0L);
    } else if (!strcmp(g_mode, "futex")) {
        pthread_create(&t[n++], NULL, futex_thread, NULL);
        futex_main();
    } else if (!strcmp(g_mode, "pipe") || !strcmp(g_mode, "poll")) {
        if (pipe(g_pipe) != 0) fail("pipe: errno %ld%ld", errno, 0);
        const int is_pipe = !strcmp(g_mode, "pipe");
        pthread_create(&t[n++], NULL, is_pipe ? pipe_thread : poll_thread, NULL);
        if (is_pipe) pipe_main();
        else poll_main();
    } else if (!strcmp(g_mode, "nanosleep")) {
        pthread_create(&t[n++], NULL, nanosleep_thread, NULL);
    } else if (!strcmp(g_mode, "pingpong")) {
        g_rounds = steps();
        for (long i = 0; i < 2; ++i) pthread_create(&t[n++], NULL, pingpong_thread, (void *)i);
    } else if (!strcmp(g_mode, "recursive")) {
        pthread_mutexattr_t a;
        pthread_mutexattr_init(&a);
        pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
        pthread_mutex_init(&g_rec, &a);
        pthread_create(&t[n++], NULL, recursive_holder, NULL);
        pthread_create(&t[n++], NULL, recursive_other, NULL);
    } else {
        fprintf(stderr, "thread_state: unknown mode %s\n", g_mode);
        return 2;
    }
    for (int i = 0; i < n; ++i) pthread_join(t[i], NULL);
    for (int i = 0; i < 3; ++i) fputs(g_msg[i], stdout);
    printf("%s ok\n", g_mode);
    return 0;
}
