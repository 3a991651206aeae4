/* Undo acts only on the object it recorded (issue 9, item 2): after the checkpoint the program
 * renames a.txt to b.txt and dies of SIGKILL; before the recovery the driver puts another
 * file at b.txt. The recovery must not move that file to a.txt: it fails with exit 83 naming
 * the record (or, with --on-undo-failure=proceed, goes on and leaves it). The second run
 * prints API-UNDO-IDENTITY-OK. argv[1]: the directory of the files. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <fcntl.h>
#include <signal.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
    CHECK(argc == 2);
    char a[4096], b[4096];
    snprintf(a, sizeof a, "%s/a.txt", argv[1]);
    snprintf(b, sizeof b, "%s/b.txt", argv[1]);
    const int r = chkpnt();
    if (r == CKPT_RECOVERED) {
        puts("API-UNDO-IDENTITY-OK");
        return 0;
    }
    CHECK(r == 0);
    CHECK(rename(a, b) == 0);
    printf("renamed, crashing\n");
    fflush(stdout);
    kill(getpid(), SIGKILL);
    return 1;
}
