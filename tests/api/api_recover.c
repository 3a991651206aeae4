/* chkpnt() after a crash recovery. The first run takes a checkpoint and kills itself with
 * SIGKILL; running the same command under ckpt-run again restores it, and chkpnt() returns
 * CKPT_RECOVERED in recovered mode. The first run may be under ckpt-run or started directly
 * (standalone): both must be recoverable by `ckpt-run -- api_recover ARGS` in the same
 * working directory with the same CKPT_DIR, even if the program changed its working
 * directory before chkpnt() (--chdir). Prints API-RECOVERED-OK on the second run. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <signal.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

int main(int argc, char **argv)
{
    /* --chdir: move away from the starting directory before the first chkpnt(); the job
     * is still named after the directory ckpt-run started it in. */
    const int move = argc > 1 && strcmp(argv[1], "--chdir") == 0;
    if (move) CHECK(chdir("/") == 0);
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
    if (r == 5) {
        /* Rolled back, by the recovered process, to the checkpoint of the first run (taken
         * standalone or under the earlier launcher): still supervised by this launcher, its
         * periodic checkpoint signals must find the runtime's handler. */
        CHECK(ckpt_current_mode() == CKPT_MODE_ROLLED_BACK);
        CHECK(ckpt_under_launcher() == 1);
        CHECK(ckpt_set_interval(50) == 0);
        for (int i = 0; i < 10; ++i) {
            struct timespec ts = {0, 50 * 1000000L};
            while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {}
        }
        CHECK(ckpt_set_interval(3600000) == 0);
        CHECK(ckpt_heartbeat() == 0);
        printf("API-RECOVERED-OK (first run was %s)\n", started_under_launcher ? "under ckpt-run" : "standalone");
        return 0;
    }
    CHECK(r == CKPT_RECOVERED);
    CHECK(ckpt_current_mode() == CKPT_MODE_RECOVERED);
    CHECK(strcmp(heap, "state from before the crash") == 0);
    char cwd[4096];
    CHECK(!move || (getcwd(cwd, sizeof cwd) && strcmp(cwd, "/") == 0));
    CHECK(ckpt_under_launcher() == 1);
    CHECK(ckpt_heartbeat() == 0);
    CHECK(chkpnt() == 0);  /* and checkpoints work in the recovered process */
    fflush(NULL);
    rollback(1, 5);        /* back to the first run's checkpoint */
    CHECK(!"rollback(1, 5) returned");
    return 1;
}
