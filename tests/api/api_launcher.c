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

/* The newest version on disk (0: none). */
static long newest_version(void)
{
    DIR *d = opendir(job_dir);
    if (!d) return 0;
    long best = 0;
    for (struct dirent *e; (e = readdir(d));) {
        long v;
        char tail[8];
        if (sscanf(e->d_name, "ckpt-%ld.%4s", &v, tail) == 2 && strcmp(tail, "img") == 0 && v > best) best = v;
    }
    closedir(d);
    return best;
}

/* last_version in the launcher's status file: the newest checkpoint it has handled. */
static long launcher_last_version(void)
{
    char path[4096], line[512];
    snprintf(path, sizeof path, "%s/status", job_dir);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long v = -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "last_version=", 13) == 0) v = atol(line + 13);
    fclose(f);
    return v;
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
    /* A checkpoint of our own, reported after the interval change: once the launcher's status
     * names it, the launcher has handled the change (the status socket keeps the order), and a
     * periodic one it requested before has been delivered already. */
    CHECK(chkpnt() == 0);
    const long mine = newest_version();
    for (int i = 0; i < 1000 && launcher_last_version() < mine; ++i) sleep_ms(10);
    CHECK(launcher_last_version() >= mine);
    const int settled = count_versions();
    sleep_ms(700); /* the observation window of a negative check: no checkpoint comes any more */
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
