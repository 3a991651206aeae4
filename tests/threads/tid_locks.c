/* Thread ids across a restore (issue 10, item A): a worker thread records its gettid() and
 * pthread_self(), says it is ready (creates READY), and waits until GO exists (polled); the
 * test checkpoints, kills and restores it meanwhile. Then both threads check what they can of
 * their ids and locks and print one line each; exit 0 if all held.
 *   tid_locks MODE READY GO
 *   held  the worker holds a recursive mutex (twice) and an error-checking mutex across the
 *         checkpoint; after GO: its unlocks succeed (the recursive one's third fails with
 *         EPERM, as a mutex it no longer holds), relocking works, and the main thread can
 *         take both afterwards
 *   free  the worker holds only a normal mutex across the checkpoint and waits on a
 *         condition variable; after GO the mutex and condition variable work between the
 *         threads
 * In both: gettid() agrees with the kernel's (glibc's cached tid was put right), pthread_self()
 * is what it was, pthread_kill(self, 0) works, and the main thread joins the worker. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static const char *g_mode, *g_ready, *g_go;
static pthread_mutex_t g_rec, g_chk;
static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static int g_flag;

static void fail(const char *what, int e)
{
    printf("%s FAIL: %s (%s)\n", g_mode, what, e ? strerror(e) : "-");
    fflush(stdout);
    _exit(1);
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
}

static void touch(const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f) fail("cannot create the ready file", errno);
    fclose(f);
}

static void wait_for_go(void)
{
    struct stat st;
    while (stat(g_go, &st) != 0) sleep_ms(5);
}

/* What glibc says of this thread agrees with the kernel and with what it said before. */
static void check_ids(pthread_t self_before)
{
    if (gettid() != (pid_t)syscall(SYS_gettid)) fail("gettid() differs from the kernel's thread id", 0);
    if (!pthread_equal(pthread_self(), self_before)) fail("pthread_self() changed", 0);
    int e = pthread_kill(pthread_self(), 0);
    if (e) fail("pthread_kill(self, 0)", e);
}

static void *worker(void *arg)
{
    (void)arg;
    const pthread_t self = pthread_self();
    int e;
    if (!strcmp(g_mode, "held")) {
        if ((e = pthread_mutex_lock(&g_rec)) || (e = pthread_mutex_lock(&g_rec))) fail("recursive lock", e);
        if ((e = pthread_mutex_lock(&g_chk))) fail("error-checking lock", e);
        touch(g_ready);
        wait_for_go();
        check_ids(self);
        if ((e = pthread_mutex_lock(&g_chk)) != EDEADLK) fail("error-checking relock by its owner is not EDEADLK", e);
        if ((e = pthread_mutex_unlock(&g_chk))) fail("error-checking unlock", e);
        if ((e = pthread_mutex_unlock(&g_chk)) != EPERM) fail("second error-checking unlock is not EPERM", e);
        if ((e = pthread_mutex_lock(&g_rec))) fail("recursive relock", e);
        for (int k = 0; k < 3; ++k)
            if ((e = pthread_mutex_unlock(&g_rec))) fail("recursive unlock", e);
        if ((e = pthread_mutex_unlock(&g_rec)) != EPERM) fail("fourth recursive unlock is not EPERM", e);
        printf("held: the worker's recursive and error-checking mutexes work after the restore\n");
    } else {
        pthread_mutex_lock(&g_mu);
        touch(g_ready);
        wait_for_go();
        check_ids(self);
        while (!g_flag) pthread_cond_wait(&g_cv, &g_mu);
        pthread_mutex_unlock(&g_mu);
        printf("free: the worker's mutex and condition variable work after the restore\n");
    }
    fflush(stdout);
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc != 4) { fprintf(stderr, "usage: tid_locks held|free READY GO\n"); return 2; }
    g_mode = argv[1];
    g_ready = argv[2];
    g_go = argv[3];
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_mutexattr_t a;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&g_rec, &a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&g_chk, &a);
    const pthread_t self = pthread_self();
    pthread_t t;
    pthread_create(&t, NULL, worker, NULL);
    wait_for_go();
    if (!strcmp(g_mode, "free")) {
        pthread_mutex_lock(&g_mu);  /* the worker waits in pthread_cond_wait, the mutex free */
        g_flag = 1;
        pthread_cond_signal(&g_cv);
        pthread_mutex_unlock(&g_mu);
    }
    int e = pthread_join(t, NULL);
    if (e) fail("pthread_join", e);
    check_ids(self);
    if (!strcmp(g_mode, "held")) {
        if ((e = pthread_mutex_trylock(&g_rec)) || (e = pthread_mutex_unlock(&g_rec))) fail("main takes the recursive mutex", e);
        if ((e = pthread_mutex_trylock(&g_chk)) || (e = pthread_mutex_unlock(&g_chk))) fail("main takes the error-checking mutex", e);
    }
    printf("%s: main: ids agree with the kernel, the worker joined\n", g_mode);
    return 0;
}
