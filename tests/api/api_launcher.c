/* The contract of the calls that talk to ckpt-run, run under it:
 *
 *   ckpt-run --interval 1h ... -- api_launcher JOB_DIR keep|nokeep
 *
 * Checks ckpt_under_launcher(), ckpt_set_interval() (periodic checkpoints start and stop),
 * ckpt_heartbeat(), ckpt_keep(), chkpnt() and rollback() under the launcher (same pid,
 * launcher still connected afterwards). Prints API-LAUNCHER-OK; the driver checks that the
 * job directory outlives a normal exit with `keep` and is removed with `nokeep`. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <dirent.h>
#include <time.h>
#include <unistd.h>

#include "check.h"

static const char *job_dir;
static int counter;
static int carried;
static pid_t pid_before;

static int count_versions(void)
{
    DIR *d = opendir(job_dir);
    if (!d) return 0;
    int n = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (strncmp(e->d_name, "ckpt-", 5) == 0 && strstr(e->d_name, ".img")) ++n;
    closedir(d);
    return n;
}

/* Sleeps `ms` even when checkpoint signals interrupt the sleep. */
static void sleep_ms(long ms)
{
    struct timespec left = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&left, &left) != 0 && errno == EINTR) {}
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: api_launcher JOB_DIR keep|nokeep\n");
        return 2;
    }
    job_dir = argv[1];
    const int keep = strcmp(argv[2], "keep") == 0;

    CHECK(ckpt_under_launcher() == 1);
    CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);
    CHECK(ckpt_heartbeat() == 0);
    CHECK(ckpt_keep(keep) == 0);
    CHECK(count_versions() == 0);

    /* A short interval: the launcher starts taking checkpoints; 0 stops them. */
    CHECK(ckpt_set_interval(100) == 0);
    for (int i = 0; i < 50 && count_versions() < 2; ++i) sleep_ms(100);
    CHECK(count_versions() >= 2);
    CHECK(ckpt_set_interval(0) == 0);
    sleep_ms(300); /* one that was already requested may still land */
    const int settled = count_versions();
    sleep_ms(700);
    CHECK(count_versions() == settled);

    /* chkpnt() and rollback() under the launcher. */
    pid_before = getpid();
    CHECK(ckpt_protect(&carried, sizeof carried) == 0);
    counter = 1;
    const int r = chkpnt();
    if (r == 0) {
        CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);
        counter = 2;
        carried = 77;
        rollback(0, 9);
        CHECK(!"rollback(0, 9) returned");
    }
    CHECK(r == 9);
    CHECK(counter == 1 && carried == 77);
    CHECK(getpid() == pid_before);
    CHECK(ckpt_current_mode() == CKPT_MODE_ROLLED_BACK);
    CHECK(ckpt_under_launcher() == 1);
    CHECK(ckpt_heartbeat() == 0);           /* the status pipe is still connected */
    CHECK(ckpt_set_interval(3600000) == 0);
    CHECK(chkpnt() == 0);                   /* checkpoints go on after a rollback */
    CHECK(ckpt_keep(keep) == 0);

    puts("API-LAUNCHER-OK");
    return 0;
}
