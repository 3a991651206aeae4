/* A file written through a MAP_SHARED mapping after the checkpoint (issue 9, item 3): the
 * recovery must undo the writes and restore (not refuse the image because the file changed).
 * The first run maps the file, checkpoints, overwrites it through the mapping and dies of
 * SIGKILL; the second (same arguments, under ckpt-run) comes back at the checkpoint and checks
 * the mapping and the file hold the bytes of then. argv[1]: the data file. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include "check.h"

enum { kSize = 3 * 4096 };

static int all(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; ++i)
        if (p[i] != c) return 0;
    return 1;
}

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    static char buf[kSize];
    int fd = -1;
    char *map = NULL;
    if (ckpt_current_mode() == CKPT_MODE_NORMAL) {
        fd = open(argv[1], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        CHECK(fd >= 0);
        memset(buf, 'o', sizeof buf);
        CHECK(write(fd, buf, sizeof buf) == kSize);
        map = mmap(NULL, kSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        CHECK(map != MAP_FAILED);
    }
    const int r = chkpnt();
    if (r == CKPT_RECOVERED) {
        CHECK(all(map, kSize, 'o'));
        CHECK(pread(fd, buf, sizeof buf, 0) == kSize);
        CHECK(all(buf, kSize, 'o'));
        puts("API-SHARED-MAP-OK");
        return 0;
    }
    CHECK(r == 0);
    memset(map + 4096, 'x', 4096);
    CHECK(msync(map, kSize, MS_SYNC) == 0);
    printf("wrote through the mapping, crashing\n");
    fflush(stdout);
    kill(getpid(), SIGKILL);
    return 1;
}
