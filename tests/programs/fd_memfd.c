/* memfd across a checkpoint: contents, size, seals, name, offset, a MAP_SHARED mapping that
 * must still be the same object as the descriptor (a store through the mapping is read through
 * the descriptor and the other way round), a second memfd without sealing, and a dup. */
#include "fdkind_common.h"
#include <stdint.h>
#include <sys/mman.h>

#define SIZE 65536

int main(int argc, char **argv)
{
    start(argc, argv);
    int m = memfd_create("fdkinds memfd", MFD_ALLOW_SEALING | MFD_CLOEXEC);
    int plain = memfd_create("plain", 0);
    if (m < 0 || plain < 0 || ftruncate(m, SIZE)) die("memfd_create");
    char *map = mmap(NULL, SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, m, 0);
    if (map == MAP_FAILED) die("mmap");
    for (int i = 0; i < SIZE; ++i) map[i] = (char)('a' + i % 26);
    memcpy(map, "hello memfd", 11);
    if (fcntl(m, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) die("F_ADD_SEALS");
    if (lseek(m, 5, SEEK_SET) != 5) die("lseek");
    if (write(plain, "plain contents", 14) != 14) die("write");
    int dup_of_m = dup(m);
    ready_then_wait();

    char buf[32] = {0};
    expect(pread(m, buf, 11, 0) == 11 && memcmp(buf, "hello memfd", 11) == 0, "contents kept", buf);
    int pattern = 1;
    for (int i = 11; i < SIZE; ++i) pattern &= map[i] == (char)('a' + i % 26);
    expect(pattern, "all 64 KiB of the mapping kept", NULL);
    map[0] = 'H';
    expect(pread(m, buf, 1, 0) == 1 && buf[0] == 'H', "a store through the mapping is read through the fd", NULL);
    if (pwrite(m, "M", 1, 6) != 1) die("pwrite");
    expect(map[6] == 'M', "a write through the fd is seen in the mapping", NULL);
    expect(fcntl(m, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW), "seals kept", NULL);
    expect(ftruncate(m, 10) < 0 && errno == EPERM, "F_SEAL_SHRINK still refuses a shrink", NULL);
    expect(lseek(dup_of_m, 0, SEEK_CUR) == 5, "offset kept, shared with the dup", NULL);
    char link[256] = {0};
    char self[64];
    snprintf(self, sizeof self, "/proc/self/fd/%d", m);
    readlink(self, link, sizeof link - 1);
    expect(strcmp(link, "/memfd:fdkinds memfd (deleted)") == 0, "name kept", link);
    expect((fcntl(m, F_GETFD) & FD_CLOEXEC) && !(fcntl(plain, F_GETFD) & FD_CLOEXEC), "close-on-exec kept", NULL);
    memset(buf, 0, sizeof buf);
    expect(pread(plain, buf, 14, 0) == 14 && strcmp(buf, "plain contents") == 0 && lseek(plain, 0, SEEK_CUR) == 14,
           "second memfd: contents and offset kept", buf);
    expect(fcntl(plain, F_GET_SEALS) == F_SEAL_SEAL, "second memfd: still cannot be sealed", NULL);
    return failures != 0;
}
