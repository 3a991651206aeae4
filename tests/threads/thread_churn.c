/* thread_churn ROUNDS WORK: threads created and exiting all the time. Each round the main thread
 * creates 6 joinable threads that each hash their part of the round and exit; meanwhile a
 * churn thread keeps creating detached threads that exit at once. Prints one checksum of all
 * rounds every 500 rounds and at the end, the same however often the process was
 * checkpointed and restored. WORK: hashing steps of each thread. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static volatile int g_done;
static uint64_t g_part[6];
static long g_work = 20000;
static volatile uint64_t g_detached;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 33; x *= 0xff51afd7ed558ccdull; x ^= x >> 33; x *= 0xc4ceb9fe1a85ec53ull; x ^= x >> 33;
    return x;
}

static void *part(void *arg)
{
    uint64_t *slot = arg, h = *slot;
    for (long i = 0; i < g_work; ++i) h = mix(h + (uint64_t)i);
    *slot = h;
    return NULL;
}

static void *short_lived(void *arg)
{
    (void)arg;
    __atomic_add_fetch(&g_detached, 1, __ATOMIC_RELAXED);
    return NULL;
}

static void *churn(void *arg)
{
    (void)arg;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    while (!g_done) {
        pthread_t t;
        if (pthread_create(&t, &a, short_lived, NULL) != 0) sched_yield();
    }
    return NULL;
}

int main(int argc, char **argv)
{
    const long rounds = argc > 1 ? atol(argv[1]) : 1000;
    if (argc > 2) g_work = atol(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    pthread_t c;
    pthread_create(&c, NULL, churn, NULL);
    uint64_t sum = 0;
    for (long r = 0; r < rounds; ++r) {
        pthread_t t[6];
        for (int k = 0; k < 6; ++k) {
            g_part[k] = mix((uint64_t)r * 6 + (uint64_t)k);
            if (pthread_create(&t[k], NULL, part, &g_part[k]) != 0) { perror("pthread_create"); return 1; }
        }
        for (int k = 0; k < 6; ++k) {
            pthread_join(t[k], NULL);
            sum = mix(sum ^ g_part[k]);
        }
        if ((r + 1) % 500 == 0) printf("round %ld checksum %016llx\n", r + 1, (unsigned long long)sum);
    }
    g_done = 1;
    pthread_join(c, NULL);
    printf("rounds %ld checksum %016llx\n", rounds, (unsigned long long)sum);
    return 0;
}
