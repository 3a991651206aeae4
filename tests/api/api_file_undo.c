/* rollback() undoes file changes made after the checkpoint, except in excluded files, the
 * same way whether the program runs under ckpt-run or started directly (standalone mode sets
 * the runtime up at the first API call, after the program opened a stdio stream).
 *
 *   api_file_undo WORK_DIR     prints API-FILE-UNDO-OK
 *
 * ckpt_exclude() and ckpt_include() are referenced weakly so that the program links (and says
 * so) without the persistent-state layer. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"

#pragma weak ckpt_exclude
#pragma weak ckpt_include

static int step; /* protected */

static void put(const char *path, const char *text)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 0);
    CHECK(write(fd, text, strlen(text)) == (ssize_t)strlen(text));
    CHECK(close(fd) == 0);
}

static int has(const char *path, const char *text)
{
    char buf[256] = {0};
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    return n >= 0 && strcmp(buf, text) == 0;
}

int main(int argc, char **argv)
{
    if (!&ckpt_exclude || !&ckpt_include) {
        fprintf(stderr, "api_file_undo: libckpt has no ckpt_exclude()/ckpt_include() yet "
                        "(persistent-state layer)\n");
        return 1;
    }
    CHECK(argc == 2);
    /* A stream opened before any API call: its writes after the checkpoint are undone too. */
    char streamed[4096];
    snprintf(streamed, sizeof streamed, "%s/streamed.txt", argv[1]);
    FILE *early = fopen(streamed, "w");
    CHECK(early != NULL);
    CHECK(fputs("A", early) >= 0 && fflush(early) == 0);
    char tracked[4096], excluded[4096], created[4096], removed[4096], reincluded[4096];
    snprintf(tracked, sizeof tracked, "%s/tracked.txt", argv[1]);
    snprintf(excluded, sizeof excluded, "%s/excluded.txt", argv[1]);
    snprintf(created, sizeof created, "%s/created.txt", argv[1]);
    snprintf(removed, sizeof removed, "%s/removed.txt", argv[1]);
    snprintf(reincluded, sizeof reincluded, "%s/reincluded.txt", argv[1]);
    put(tracked, "before");
    put(excluded, "before");
    put(removed, "before");
    put(reincluded, "before");
    CHECK(ckpt_exclude(excluded) == 0);
    CHECK(ckpt_exclude(reincluded) == 0);
    CHECK(ckpt_include(reincluded) == 0); /* back on the list of tracked files */
    CHECK(ckpt_protect(&step, sizeof step) == 0);

    const int r = chkpnt();
    if (r == 0) {
        step = 1;
        CHECK(fputs("B", early) >= 0 && fflush(early) == 0);
        put(tracked, "after");
        put(excluded, "after");
        put(created, "after");
        put(reincluded, "after");
        CHECK(unlink(removed) == 0);
        rollback(0, 3);
        CHECK(!"rollback(0, 3) returned");
    }
    CHECK(r == 3 && step == 1);
    CHECK(has(tracked, "before"));    /* changed after the checkpoint: undone */
    CHECK(has(reincluded, "before")); /* excluded, then included again: undone */
    CHECK(has(removed, "before"));    /* removed after the checkpoint: back */
    CHECK(access(created, F_OK) != 0);/* created after the checkpoint: gone */
    CHECK(has(excluded, "after"));    /* excluded: the change stays */
    CHECK(has(streamed, "A"));        /* written through stdio after the checkpoint: undone */
    CHECK(fclose(early) == 0);
    puts("API-FILE-UNDO-OK");
    return 0;
}
