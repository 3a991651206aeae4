/* four_threads MARKER: the main thread and three workers, each in its own function and its
 * own blocking call (read on a pipe, nanosleep, a condition variable; main in nanosleep), for
 * `ckptctl inspect` to show. Creates MARKER once all four are there; runs until killed. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

static int g_pipe[2];
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int started;

static void arrived(void)
{
    pthread_mutex_lock(&mu);
    ++started;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

__attribute__((noinline)) static void *worker_reader(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "reader");
    arrived();
    char c;
    for (;;) (void)!read(g_pipe[0], &c, 1);
    return NULL;
}

__attribute__((noinline)) static void *worker_sleeper(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "sleeper");
    arrived();
    for (;;) {
        struct timespec ts = {10, 0};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

__attribute__((noinline)) static void *worker_waiter(void *arg)
{
    (void)arg;
    pthread_setname_np(pthread_self(), "waiter");
    pthread_mutex_lock(&mu);
    ++started;
    pthread_cond_broadcast(&cv);
    for (;;) pthread_cond_wait(&cv, &mu);
    return NULL;
}

__attribute__((noinline)) static void main_wait(void)
{
    for (;;) {
        struct timespec ts = {10, 0};
        nanosleep(&ts, NULL);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2 || pipe(g_pipe) != 0) return 2;
    pthread_t t;
    pthread_create(&t, NULL, worker_reader, NULL);
    pthread_create(&t, NULL, worker_sleeper, NULL);
    pthread_create(&t, NULL, worker_waiter, NULL);
    pthread_mutex_lock(&mu);
    while (started < 3) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    close(open(argv[1], O_WRONLY | O_CREAT | O_EXCL, 0600));
    main_wait();
    return 0;
}
