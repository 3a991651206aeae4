/* Two threads append numbered lines to a file each (O_APPEND: a write done twice shows as a
 * line twice), while the main thread waits for them; then the main thread checks both files
 * (every line once, in order) and prints what it found. Under ckpt every write() runs in a
 * wrapper's check-record-change section, in two threads at once.
 *   two_writers DIR LINES */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *dir;
static long lines;
static long written[2]; /* lines each thread has written: memory, to compare with its file */

static void *writer(void *arg)
{
    const int i = (int)(long)arg;
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/%c.txt", dir, 'a' + i);
    int fd = open(path, O_WRONLY | O_CREAT | O_APPEND, 0644);
    if (fd < 0) { perror(path); exit(2); }
    for (long k = 0; k < lines; ++k) {
        int n = snprintf(line, sizeof line, "%c %08ld\n", 'a' + i, k);
        if (write(fd, line, (size_t)n) != n) { perror("write"); exit(2); }
        written[i] = k + 1;
    }
    close(fd);
    return NULL;
}

/* Lines of file i: each "x %08ld" with the numbers 0, 1, 2, ... */
static int check(int i)
{
    char path[4096], line[64];
    snprintf(path, sizeof path, "%s/%c.txt", dir, 'a' + i);
    FILE *f = fopen(path, "r");
    if (!f) { perror(path); return 1; }
    long want = 0;
    while (fgets(line, sizeof line, f)) {
        char c;
        long k;
        if (sscanf(line, "%c %ld", &c, &k) != 2 || c != 'a' + i || k != want) {
            printf("%c.txt: line %ld is \"%.20s\", expected %ld\n", 'a' + i, want + 1, line, want);
            fclose(f);
            return 1;
        }
        ++want;
    }
    fclose(f);
    printf("%c.txt: %ld lines in order, %ld written\n", 'a' + i, want, written[i]);
    return want != written[i];
}

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: two_writers DIR LINES\n"); return 2; }
    dir = argv[1];
    lines = atol(argv[2]);
    pthread_t t[2];
    for (long i = 0; i < 2; ++i) pthread_create(&t[i], NULL, writer, (void *)i);
    for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
    int bad = check(0) | check(1);
    return bad;
}
