/* The contract of ckpt/ckpt.h in standalone mode (linked with -lckpt, started directly).
 *
 *   api_contract JOB_DIR SCRATCH_FILE   the whole contract; prints API-CONTRACT-OK
 *   api_contract --unusable-dir         CKPT_DIR cannot hold a job directory; prints
 *                                       API-UNUSABLE-DIR-OK
 *
 * JOB_DIR is where the checkpoints of this run go ($CKPT_DIR/$CKPT_NAME); it must not exist
 * yet, so that the versions are numbered 1, 2, 3. The test walks through a sequence of
 * rollbacks; the protected variable `step` says how far it has got, since everything else
 * goes back in time with each rollback. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "check.h"

enum { kHeap = 1 << 20, kStack = 4096 };

static const char *job_dir;
static char *heap;
static int counter;          /* never protected: reverts with every rollback */
static int carried;          /* protected before the checkpoints */
static int late;             /* protected only after the checkpoints were taken */
static int late_fd = -1;     /* protected: a descriptor opened after the checkpoints */
static int step;             /* protected: which stage of the test comes next */
static int arrived_at;       /* protected: the checkpoint the last rollback landed on */
static int arrived_value;    /* protected: what chkpnt() returned there */


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

static int has_version(int v)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/ckpt-%06d.img", job_dir, v);
    return access(path, F_OK) == 0;
}

static int all_bytes(const char *p, size_t n, char c)
{
    for (size_t i = 0; i < n; ++i)
        if (p[i] != c) return 0;
    return 1;
}

/* State k: counter 10k, heap all 'a'+k, the stack buffer all 'A'+k. */
static void __attribute__((noinline)) fill(char *stack, int k)
{
    counter = 10 * k;
    memset(heap, 'a' + k, kHeap);
    memset(stack, 'A' + k, kStack);
}

static void __attribute__((noinline)) expect_state(const char *stack, int k)
{
    CHECK(counter == 10 * k);
    CHECK(all_bytes(heap, kHeap, (char)('a' + k)));
    CHECK(all_bytes(stack, kStack, (char)('A' + k)));
}

/* Execution came back to checkpoint k through rollback() with chkpnt() returning r. */
static void arrived(int k, int r, const char *stack, int fd)
{
    arrived_at = k;
    arrived_value = r;
    CHECK(r > 0);
    CHECK(ckpt_current_mode() == CKPT_MODE_ROLLED_BACK);
    CHECK(ckpt_under_launcher() == 0);
    expect_state(stack, k);
    /* Same descriptors as at the checkpoint, with the offsets of then: one byte per checkpoint
     * was written before it. */
    CHECK(lseek(fd, 0, SEEK_CUR) == k);
    CHECK(late_fd < 0 || (fcntl(late_fd, F_GETFD) == -1 && errno == EBADF));
}

static int unusable_dir(void)
{
    /* CKPT_DIR is a regular file: the job directory cannot be made below it. */
    CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);
    CHECK_FAILS(chkpnt(), ENOTDIR);
    CHECK_FAILS(rollback(0, 1), ENOTDIR);
    CHECK(ckpt_protect(&counter, sizeof counter) == 0);  /* needs no directory */
    CHECK(ckpt_unprotect(&counter, sizeof counter) == 0);
    puts("API-UNUSABLE-DIR-OK");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--unusable-dir") == 0) return unusable_dir();
    if (argc != 3) {
        fprintf(stderr, "usage: api_contract JOB_DIR SCRATCH_FILE | --unusable-dir\n");
        return 2;
    }
    job_dir = argv[1];
    char stack[kStack];

    /* Started directly: a normal run, no launcher; the launcher's calls refuse. */
    CHECK(ckpt_under_launcher() == 0);
    CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);
    CHECK_FAILS(ckpt_set_interval(1000), ENOTCONN);
    CHECK_FAILS(ckpt_set_interval(0), ENOTCONN);
    CHECK_FAILS(ckpt_heartbeat(), ENOTCONN);
    CHECK_FAILS(ckpt_keep(1), ENOTCONN);
    CHECK_FAILS(ckpt_keep(0), ENOTCONN);

    /* Nothing to roll back to yet. */
    CHECK_FAILS(rollback(0, 1), ENOENT);
    CHECK_FAILS(rollback(1, 1), ENOENT);
    CHECK_FAILS(rollback(-1, 1), ENOENT);

    /* The protection table: 64 ranges, then ENOSPC; a range that is not in it: ENOENT. */
    static char cells[65];
    for (int i = 0; i < 64; ++i) CHECK(ckpt_protect(&cells[i], 1) == 0);
    CHECK_FAILS(ckpt_protect(&cells[64], 1), ENOSPC);
    CHECK_FAILS(ckpt_unprotect(&cells[64], 1), ENOENT);
    CHECK_FAILS(ckpt_unprotect(&cells[0], 2), ENOENT); /* same address, other length */
    for (int i = 0; i < 64; ++i) CHECK(ckpt_unprotect(&cells[i], 1) == 0);
    CHECK_FAILS(ckpt_unprotect(&cells[0], 1), ENOENT);

    /* A checkpoint the runtime refuses (a socket): -1/EOPNOTSUPP, nothing written, the
     * program goes on. */
    int sock = socket(AF_UNIX, SOCK_DGRAM, 0);
    CHECK(sock >= 0);
    CHECK_FAILS(chkpnt(), EOPNOTSUPP);
    CHECK(close(sock) == 0);
    CHECK(count_versions() == 0);

    CHECK(ckpt_protect(&carried, sizeof carried) == 0);
    CHECK(ckpt_protect(&late_fd, sizeof late_fd) == 0);
    CHECK(ckpt_protect(&step, sizeof step) == 0);
    CHECK(ckpt_protect(&arrived_at, sizeof arrived_at) == 0);
    CHECK(ckpt_protect(&arrived_value, sizeof arrived_value) == 0);
    heap = malloc(kHeap);
    CHECK(heap != NULL);
    int fd = open(argv[2], O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    CHECK(fd >= 3);

    /* Three checkpoints, each of a different state. */
    int r;
    fill(stack, 1);
    CHECK(write(fd, "1", 1) == 1);
    if ((r = chkpnt()) != 0) { arrived(1, r, stack, fd); goto next; }
    CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);
    CHECK(count_versions() == 1 && has_version(1));

    fill(stack, 2);
    CHECK(write(fd, "2", 1) == 1);
    if ((r = chkpnt()) != 0) { arrived(2, r, stack, fd); goto next; }
    CHECK(count_versions() == 2 && has_version(2));

    fill(stack, 3);
    CHECK(write(fd, "3", 1) == 1);
    if ((r = chkpnt()) != 0) { arrived(3, r, stack, fd); goto next; }
    CHECK(count_versions() == 3 && has_version(3));
    CHECK(ckpt_current_mode() == CKPT_MODE_NORMAL);

next:
    switch (step) {
    case 0:
        /* Absolute version 2. Protected bytes keep the values they have now. */
        step = 1;
        fill(stack, 9);
        carried = 1000;
        CHECK(write(fd, "xyz", 3) == 3);
        late_fd = open("/dev/null", O_RDONLY);
        CHECK(late_fd >= 0);
        late = 555;
        CHECK(ckpt_protect(&late, sizeof late) == 0);
        rollback(2, 42);
        CHECK(!"rollback(2, 42) returned");
        break;
    case 1:
        CHECK(arrived_at == 2 && arrived_value == 42);
        CHECK(carried == 1000);
        CHECK(late == 555);
        /* The rollback retired version 3 (the timeline it abandoned). Relative: the latest is
         * now 2, so 0 is version 2 again. The protection of `late`, added after the
         * checkpoint, must survive the first rollback too. */
        CHECK(count_versions() == 2 && has_version(2) && !has_version(3));
        CHECK_FAILS(rollback(3, 1), ENOENT);
        step = 2;
        fill(stack, 8);
        carried = 2000;
        late = 666;
        rollback(0, 7);
        CHECK(!"rollback(0, 7) returned");
        break;
    case 2:
        CHECK(arrived_at == 2 && arrived_value == 7);
        CHECK(carried == 2000);
        CHECK(late == 666);
        /* Unprotected again: `late` now reverts (it was 0 at checkpoint 1). -1 is the one
         * before the latest, version 1; a value <= 0 becomes 1. */
        CHECK(ckpt_unprotect(&late, sizeof late) == 0);
        late = 777;
        step = 3;
        rollback(-1, 0);
        CHECK(!"rollback(-1, 0) returned");
        break;
    case 3:
        CHECK(arrived_at == 1 && arrived_value == 1);
        CHECK(late == 0);
        CHECK(count_versions() == 1 && has_version(1));
        step = 4;
        rollback(1, -5);
        CHECK(!"rollback(1, -5) returned");
        break;
    case 4:
        CHECK(arrived_at == 1 && arrived_value == 1);
        step = 5;
        rollback(0, INT_MAX - 1);
        CHECK(!"rollback(0, INT_MAX - 1) returned");
        break;
    case 5:
        CHECK(arrived_at == 1 && arrived_value == INT_MAX - 1);
        break;
    default:
        CHECK(!"unexpected step");
    }

    /* Versions that do not exist: -1/ENOENT, and nothing changes. */
    step = 6;
    fill(stack, 7);
    carried = 4242;
    const off_t offset = lseek(fd, 0, SEEK_CUR);
    CHECK_FAILS(rollback(2, 1), ENOENT);   /* retired by the rollbacks */
    CHECK_FAILS(rollback(1000, 1), ENOENT);
    CHECK_FAILS(rollback(-1, 1), ENOENT); /* only 1 exists */
    CHECK_FAILS(rollback(INT_MIN, 1), ENOENT);
    CHECK(step == 6 && carried == 4242);
    expect_state(stack, 7);
    CHECK(lseek(fd, 0, SEEK_CUR) == offset);
    CHECK(count_versions() == 1);
    CHECK(ckpt_current_mode() == CKPT_MODE_ROLLED_BACK);

    /* A protected range that was no writable memory at the checkpoint (a mapping made since)
     * cannot be carried over: rollback() refuses with EINVAL, and nothing changes. */
    char *fresh = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(fresh != MAP_FAILED);
    CHECK(ckpt_protect(fresh + 4096, 64) == 0);
    CHECK_FAILS(rollback(0, 1), EINVAL);
    CHECK(ckpt_unprotect(fresh + 4096, 64) == 0);
    CHECK(step == 6 && carried == 4242);
    expect_state(stack, 7);
    CHECK(lseek(fd, 0, SEEK_CUR) == offset);
    CHECK(count_versions() == 1);

    /* Checkpoints go on after rollbacks, numbered on from the version rolled back to (the
     * retired numbers are free again); standalone keeps the newest three. */
    CHECK(chkpnt() == 0);
    CHECK(count_versions() == 2 && has_version(2));
    CHECK(chkpnt() == 0);
    CHECK(chkpnt() == 0);
    CHECK(count_versions() == 3 && has_version(4) && !has_version(1));
    CHECK_FAILS(rollback(1, 1), ENOENT);

    /* Only this process's own normal exit removes the checkpoints, not a child's. */
    fflush(NULL);
    pid_t child = fork();
    CHECK(child >= 0);
    if (child == 0) exit(0);
    int status = 0;
    CHECK(waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
    CHECK(count_versions() == 3);

    puts("API-CONTRACT-OK");
    return 0;
}
