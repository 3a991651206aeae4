/* chkpnt() after a crash recovery. The first run takes a checkpoint and kills itself with
 * SIGKILL; running the same command under ckpt-run again restores it, and chkpnt() returns
 * CKPT_RECOVERED in recovered mode. The first run may be under ckpt-run or started directly
 * (standalone): both must be recoverable by `ckpt-run -- api_recover ARGS` in the same
 * working directory with the same CKPT_DIR. Prints API-RECOVERED-OK on the second run. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <signal.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char *heap = malloc(64);
    CHECK(heap != NULL);
    strcpy(heap, "state from before the crash");
    const int started_under_launcher = ckpt_under_launcher();
    CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);

    const int r = chkpnt();
    if (r == 0) {
        CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);
        printf("first run (%s): checkpoint taken, crashing\n", started_under_launcher ? "under ckpt-run" : "standalone");
        fflush(stdout);
        kill(getpid(), SIGKILL);
        CHECK(!"still alive after SIGKILL");
    }
    CHECK(r == CKPT_RECOVERED);
    CHECK(ckpt_current_mode() == CKPT_MODE_RECOVERED);
    CHECK(strcmp(heap, "state from before the crash") == 0);
    CHECK(ckpt_under_launcher() == 1);
    CHECK(ckpt_heartbeat() == 0);
    CHECK(chkpnt() == 0);  /* and checkpoints work in the recovered process */
    printf("API-RECOVERED-OK (first run was %s)\n", started_under_launcher ? "under ckpt-run" : "standalone");
    return 0;
}
