/* Inserted mode with threads (issue 10): chkpnt() called from a thread that is not the main
 * thread checkpoints the whole process; rollback() from the main thread brings every thread
 * back to that instant; a protected variable keeps its value; the threads go on afterwards.
 *   api_threads JOB_DIR   (standalone: CKPT_DIR/CKPT_NAME set by the driver)
 * Prints API-THREADS-OK. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <ckpt/ckpt.h>

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static long counter;          /* advanced by the counting thread, under mu */
static volatile int stop;
static int phase;             /* what the main thread waits for, under mu */
static long at_checkpoint;    /* counter seen by the checkpointing thread */
static int chkpnt_result = -2;
static long rollbacks;        /* protected: survives the rollback */
static long before_rollback;  /* protected: the counter when rollback() was called */
static long after_rollback;   /* the counter as the restored checkpointing thread found it */

static void set_phase(int p)
{
    pthread_mutex_lock(&mu);
    phase = p;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static void wait_phase(int p)
{
    pthread_mutex_lock(&mu);
    while (phase < p) pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

static void *count(void *arg)
{
    (void)arg;
    while (!stop) {
        pthread_mutex_lock(&mu);
        ++counter;
        pthread_mutex_unlock(&mu);
        usleep(100);
    }
    return NULL;
}

static void *checkpointer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&mu);
    at_checkpoint = counter;
    pthread_mutex_unlock(&mu);
    int r = chkpnt();  /* 0 now; 7 when rollback() brings the process back here */
    if (r == 7) after_rollback = __atomic_load_n(&counter, __ATOMIC_RELAXED);
    chkpnt_result = r;
    set_phase(1);
    return NULL;
}

int main(int argc, char **argv)
{
    (void)argc; (void)argv;
    CHECK(ckpt_protect(&rollbacks, sizeof rollbacks) == 0);
    CHECK(ckpt_protect(&before_rollback, sizeof before_rollback) == 0);
    pthread_t counter_thread, cp;
    CHECK(pthread_create(&counter_thread, NULL, count, NULL) == 0);
    while (__atomic_load_n(&counter, __ATOMIC_RELAXED) < 50) usleep(100);
    CHECK(pthread_create(&cp, NULL, checkpointer, NULL) == 0);
    wait_phase(1);  /* where the main thread is at the checkpoint, and comes back to */
    CHECK(pthread_join(cp, NULL) == 0);
    if (chkpnt_result == 7) {
        /* Every thread came back: the counting thread from the checkpoint's count on. */
        CHECK(rollbacks == 1);
        CHECK(ckpt_current_mode() == CKPT_MODE_ROLLED_BACK);
        CHECK(after_rollback >= at_checkpoint && after_rollback < before_rollback);
        const long resumed = after_rollback + 100;
        while (__atomic_load_n(&counter, __ATOMIC_RELAXED) < resumed) usleep(100);
        stop = 1;
        CHECK(pthread_join(counter_thread, NULL) == 0);
        puts("API-THREADS-OK");
        return 0;
    }
    CHECK(chkpnt_result == 0);
    /* The process goes on after the checkpoint: the counter advances. */
    pthread_mutex_lock(&mu);
    const long later = counter + 200;
    pthread_mutex_unlock(&mu);
    while (__atomic_load_n(&counter, __ATOMIC_RELAXED) < later) usleep(100);
    rollbacks = 1;
    before_rollback = __atomic_load_n(&counter, __ATOMIC_RELAXED);
    rollback(0, 7);
    /* Only after a failed rollback. */
    fprintf(stderr, "rollback returned: %s\n", strerror(errno));
    return 1;
}
