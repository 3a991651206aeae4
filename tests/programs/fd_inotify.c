/* inotify across a checkpoint: two watches (one added by a relative path) must report events
 * for files created after the restore, with the same watch descriptors, and the next watch
 * added gets the next number; IN_NONBLOCK kept. */
#include "fdkind_common.h"
#include <sys/inotify.h>
#include <sys/stat.h>

/* Reads the queued events: "wd:name" for each, space-separated. */
static void events(int in, char *out, size_t cap)
{
    char buf[4096] __attribute__((aligned(8)));
    out[0] = 0;
    const double t0 = mono_now();
    /* The events of the creations just made are queued by the time they return; poll
     * briefly anyway in case of a slow file system. */
    ssize_t n;
    while ((n = read(in, buf, sizeof buf)) < 0 && errno == EAGAIN && mono_now() - t0 < 5) usleep(1000);
    for (ssize_t off = 0; off < n;) {
        struct inotify_event *e = (struct inotify_event *)(buf + off);
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s%d:%s", l ? " " : "", e->wd, e->len ? e->name : "");
        off += (ssize_t)(sizeof *e + e->len);
    }
}

int main(int argc, char **argv)
{
    start(argc, argv);
    if (mkdir(at("watched"), 0755) && errno != EEXIST) die("mkdir");
    if (mkdir(at("watched/sub"), 0755) && errno != EEXIST) die("mkdir");
    if (mkdir(at("watched/later"), 0755) && errno != EEXIST) die("mkdir");
    int in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    if (in < 0) die("inotify_init1");
    int wd1 = inotify_add_watch(in, at("watched"), IN_CREATE);
    if (chdir(at("watched"))) die("chdir");
    int wd2 = inotify_add_watch(in, "sub", IN_CREATE | IN_DELETE);  /* relative to the cwd */
    if (wd1 != 1 || wd2 != 2) die("inotify_add_watch");
    ready_then_wait();

    char got[512];
    int fd = open(at("watched/after1"), O_CREAT | O_WRONLY, 0644);
    if (fd < 0) die("create");
    close(fd);
    events(in, got, sizeof got);
    expect(strcmp(got, "1:after1") == 0, "watch 1 reports a file created after the restore", got);
    fd = open(at("watched/sub/after2"), O_CREAT | O_WRONLY, 0644);
    if (fd < 0) die("create");
    close(fd);
    unlink(at("watched/sub/after2"));
    events(in, got, sizeof got);
    expect(strcmp(got, "2:after2 2:after2") == 0, "watch 2 (added by a relative path) reports create and delete", got);
    int wd3 = inotify_add_watch(in, at("watched/later"), IN_CREATE);
    char d[32];
    snprintf(d, sizeof d, "wd %d", wd3);
    expect(wd3 == 3, "the next watch gets number 3", d);
    char buf[64];
    expect(read(in, buf, sizeof buf) < 0 && errno == EAGAIN, "IN_NONBLOCK kept (EAGAIN)", NULL);
    unlink(at("watched/after1"));
    return failures != 0;
}
