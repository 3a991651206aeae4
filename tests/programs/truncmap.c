/* truncmap STEPS STEP_US: maps a 16-page file twice (MAP_SHARED and MAP_PRIVATE), then
 * truncates it to one page and deletes it: the pages past the new end raise SIGBUS when
 * touched. Each step changes and prints the first page of both mappings (which stay backed).
 * Under ckpt-run every checkpoint must save them without touching the rest (issue 9, item 6). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: truncmap STEPS STEP_US\n");
        return 2;
    }
    const int steps = atoi(argv[1]);
    const int step_us = atoi(argv[2]);
    const long page = sysconf(_SC_PAGESIZE);
    char path[64];
    snprintf(path, sizeof path, "truncmap.%d.data", (int)getpid());
    int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0600);
    if (fd < 0) { perror("open"); return 1; }
    char *buf = malloc((size_t)page);
    for (int i = 0; i < 16; ++i) {
        memset(buf, 'a' + i, (size_t)page);
        if (write(fd, buf, (size_t)page) != page) { perror("write"); return 1; }
    }
    unsigned char *shared = mmap(NULL, (size_t)(16 * page), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    unsigned char *priv = mmap(NULL, (size_t)(16 * page), PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    if (shared == MAP_FAILED || priv == MAP_FAILED) { perror("mmap"); return 1; }
    priv[0] = 'P';  /* one private page diverges from the file */
    if (ftruncate(fd, page) != 0) { perror("ftruncate"); return 1; }
    unlink(path);
    close(fd);
    for (int s = 0; s < steps; ++s) {
        shared[s % page] = (unsigned char)('A' + s % 26);
        priv[1 + s % (page - 1)] = (unsigned char)('a' + s % 26);
        unsigned long sum = 0;
        for (long i = 0; i < page; ++i) sum += shared[i] + priv[i];
        printf("step %d sum %lu\n", s, sum);
        fflush(stdout);
        usleep((useconds_t)step_us);
    }
    printf("done\n");
    return 0;
}
