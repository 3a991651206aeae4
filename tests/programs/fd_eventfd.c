/* eventfd across a checkpoint: counters (one above 32 bits), EFD_SEMAPHORE, EFD_NONBLOCK,
 * close-on-exec, and a dup that must stay the same eventfd. */
#include "fdkind_common.h"
#include <stdint.h>
#include <sys/eventfd.h>

static uint64_t get(int fd, int *err)
{
    uint64_t v = 0;
    *err = read(fd, &v, 8) == 8 ? 0 : errno;
    return v;
}

int main(int argc, char **argv)
{
    start(argc, argv);
    int counter = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    int sem = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
    int big = eventfd(0, EFD_NONBLOCK);
    if (counter < 0 || sem < 0 || big < 0) die("eventfd");
    uint64_t v = 7, large = 0x100000005ull;
    if (write(counter, &v, 8) != 8 || write(big, &large, 8) != 8) die("write");
    int dup_of_counter = dup(counter);
    if (dup_of_counter < 0) die("dup");
    ready_then_wait();

    int err;
    char d[64];
    uint64_t got = get(counter, &err);
    snprintf(d, sizeof d, "read %llu, errno %d", (unsigned long long)got, err);
    expect(got == 7 && !err, "counter reads 7", d);
    get(counter, &err);
    expect(err == EAGAIN, "counter then empty, non-blocking (EAGAIN)", strerror(err));
    int ones = 0;
    for (int i = 0; i < 4; ++i) ones += get(sem, &err) == 1 && !err;
    expect(ones == 3 && err == EAGAIN, "semaphore gives 1 three times, then EAGAIN", NULL);
    got = get(big, &err);
    expect(got == large, "64-bit counter 0x100000005 kept", NULL);
    expect((fcntl(counter, F_GETFD) & FD_CLOEXEC) && !(fcntl(sem, F_GETFD) & FD_CLOEXEC), "close-on-exec kept", NULL);
    v = 2;
    if (write(counter, &v, 8) != 8) die("write");
    got = get(dup_of_counter, &err);
    expect(got == 2, "dup is the same eventfd (write one, read the other)", NULL);
    return failures != 0;
}
