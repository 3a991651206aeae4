/* The headline test program of the persistent-state layer. Deterministic: an uninterrupted
 * run gives the reference files. Each step i:
 *   (a) appends a numbered line to log.txt with stdio (flushed every third step, so stdio
 *       buffers cross checkpoints),
 *   (b) rewrites a 64-byte record in place in state.bin with pwrite,
 *   (c) saves config.json by writing config.tmp and renaming it over the old one,
 *   (d) creates scratch-i.tmp and deletes scratch-(i-2).tmp; every 5 steps makes a directory
 *       d-i and removes d-(i-5),
 *   (e) changes the mode of mode.txt.
 * usage: headline DIR STEPS [SNAPDIR]
 * env: STEP_US (pause between steps, default 20000), BLOCK_CKPT=1 (checkpoints only between
 * steps: the checkpoint signal, CKPT_SIGNAL, is blocked during a step), PAUSE_ON_RESTORE=1
 * (after a restore, write SNAPDIR/resumed with the number of steps done and wait for
 * SNAPDIR/go-N, N = lines in SNAPDIR/resumed, before going on). With SNAPDIR, a manifest of DIR (name, type, mode, size,
 * FNV-1a of the contents) is written to SNAPDIR/step-N.txt after every step N (and step-0). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *dir, *snapdir;
static pid_t my_ppid; /* the launcher: a restore is done by a new one (the pid may stay) */
static long steps_done;

static void die(const char *what)
{
    fprintf(stderr, "headline: %s: %s\n", what, strerror(errno));
    exit(2);
}

static void path(char *out, size_t n, const char *name) { snprintf(out, n, "%s/%s", dir, name); }

static uint64_t fnv_file(const char *p, long *size)
{
    uint64_t h = 1469598103934665603ull;
    *size = 0;
    int fd = open(p, O_RDONLY);
    if (fd < 0) return 0;
    unsigned char buf[8192];
    ssize_t n;
    while ((n = read(fd, buf, sizeof buf)) > 0) {
        for (ssize_t i = 0; i < n; ++i) h = (h ^ buf[i]) * 1099511628211ull;
        *size += n;
    }
    close(fd);
    return h;
}

static int cmp(const struct dirent **a, const struct dirent **b) { return strcmp((*a)->d_name, (*b)->d_name); }

static void snapshot(long step)
{
    if (!snapdir) return;
    char out[4096], tmp[4096];
    snprintf(out, sizeof out, "%s/step-%ld.txt", snapdir, step);
    snprintf(tmp, sizeof tmp, "%s/.step.tmp", snapdir);
    FILE *f = fopen(tmp, "w");
    if (!f) die("snapshot");
    struct dirent **names;
    int n = scandir(dir, &names, NULL, cmp);
    for (int i = 0; i < n; ++i) {
        const char *nm = names[i]->d_name;
        if (strcmp(nm, ".") && strcmp(nm, "..")) {
            char p[4096];
            path(p, sizeof p, nm);
            struct stat st;
            if (lstat(p, &st) == 0) {
                long size = 0;
                uint64_t h = S_ISREG(st.st_mode) ? fnv_file(p, &size) : 0;
                fprintf(f, "%s %c %o %ld %016llx\n", nm, S_ISDIR(st.st_mode) ? 'd' : S_ISREG(st.st_mode) ? 'f' : 'o',
                        (unsigned)(st.st_mode & 07777), S_ISREG(st.st_mode) ? size : 0L, (unsigned long long)h);
            }
        }
        free(names[i]);
    }
    free(names);
    fclose(f);
    rename(tmp, out);
}

static void write_file(const char *name, const char *text)
{
    char p[4096];
    path(p, sizeof p, name);
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) die(name);
    size_t len = strlen(text);
    if (write(fd, text, len) != (ssize_t)len) die("write");
    close(fd);
}

/* Announces a resume (a line with the number of steps done in SNAPDIR/resumed) and waits for
 * SNAPDIR/go-N, N = the number of lines in that file: unique per announcement. */
static void wait_for_go(long k)
{
    char p[4096], r[4096];
    snprintf(r, sizeof r, "%s/resumed", snapdir);
    FILE *f = fopen(r, "a");
    if (f) {
        fprintf(f, "%ld\n", k);
        fclose(f);
    }
    long lines = 0;
    f = fopen(r, "r");
    if (f) {
        int c;
        while ((c = fgetc(f)) != EOF) lines += c == '\n';
        fclose(f);
    }
    snprintf(p, sizeof p, "%s/go-%ld", snapdir, lines);
    struct timespec ts = {0, 5000000};
    while (access(p, F_OK) != 0) nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: headline DIR STEPS [SNAPDIR]\n");
        return 64;
    }
    dir = argv[1];
    const long steps = atol(argv[2]);
    snapdir = argc > 3 ? argv[3] : NULL;
    const long step_us = getenv("STEP_US") ? atol(getenv("STEP_US")) : 20000;
    const int block = getenv("BLOCK_CKPT") && atoi(getenv("BLOCK_CKPT"));
    const int pause_restore = getenv("PAUSE_ON_RESTORE") && atoi(getenv("PAUSE_ON_RESTORE")) && snapdir;
    sigset_t ck;
    sigemptyset(&ck);
    if (getenv("CKPT_SIGNAL")) sigaddset(&ck, atoi(getenv("CKPT_SIGNAL")));
    my_ppid = getppid();

    if (block) sigprocmask(SIG_BLOCK, &ck, NULL);
    char p[4096];
    path(p, sizeof p, "state.bin");
    int state = open(p, O_RDWR | O_CREAT, 0644);
    if (state < 0) die("state.bin");
    char rec[64];
    memset(rec, '.', sizeof rec);
    rec[63] = '\n';
    for (int r = 0; r < 64; ++r)
        if (pwrite(state, rec, sizeof rec, r * 64) != sizeof rec) die("pwrite");
    write_file("mode.txt", "mode file\n");
    path(p, sizeof p, "log.txt");
    FILE *log = fopen(p, "a");
    if (!log) die("log.txt");
    snapshot(0);
    if (block) sigprocmask(SIG_UNBLOCK, &ck, NULL);

    for (long i = steps_done + 1; i <= steps; ++i) {
        if (block) sigprocmask(SIG_BLOCK, &ck, NULL);
        if (pause_restore && getppid() != my_ppid) {
            my_ppid = getppid();
            wait_for_go(steps_done);
        }
        /* (a) */
        fprintf(log, "line %06ld\n", i);
        if (i % 3 == 0) fflush(log);
        /* (b) */
        memset(rec, ' ', sizeof rec);
        int n = snprintf(rec, sizeof rec, "record %ld written at step %ld", (i * 7) % 64, i);
        rec[n] = ' ';
        rec[63] = '\n';
        if (pwrite(state, rec, sizeof rec, ((i * 7) % 64) * 64) != sizeof rec) die("pwrite");
        /* (c) */
        char text[256];
        snprintf(text, sizeof text, "{\"step\": %ld, \"name\": \"config\", \"pad\": \"%0*d\"}\n", i, (int)(i % 50), 0);
        write_file("config.tmp", text);
        char a[4096], b[4096];
        path(a, sizeof a, "config.tmp");
        path(b, sizeof b, "config.json");
        if (rename(a, b) != 0) die("rename");
        /* (d) */
        char name[64];
        snprintf(name, sizeof name, "scratch-%ld.tmp", i);
        snprintf(text, sizeof text, "scratch of step %ld\n", i);
        write_file(name, text);
        snprintf(name, sizeof name, "scratch-%ld.tmp", i - 2);
        path(a, sizeof a, name);
        unlink(a);
        if (i % 5 == 0) {
            snprintf(name, sizeof name, "d-%ld", i);
            path(a, sizeof a, name);
            if (mkdir(a, 0750) != 0) die("mkdir");
            snprintf(name, sizeof name, "d-%ld", i - 5);
            path(a, sizeof a, name);
            rmdir(a);
        }
        /* (e) */
        path(a, sizeof a, "mode.txt");
        if (chmod(a, (i % 2) ? 0640 : 0600) != 0) die("chmod");
        steps_done = i;
        snapshot(i);
        if (block) sigprocmask(SIG_UNBLOCK, &ck, NULL);
        if (step_us > 0) {
            struct timespec ts = {step_us / 1000000, (step_us % 1000000) * 1000};
            nanosleep(&ts, NULL);
        }
    }
    fclose(log);
    close(state);
    snapshot(steps + 1);
    printf("headline done %ld\n", steps);
    return 0;
}
