/* Descriptor and shared-memory cases for tests/correctness (issue 9, item 10). Each mode sets
 * up one kind of state, creates DIR/ready, waits for DIR/go (polling: the test creates it when
 * it has seen what it waits for, possibly after a kill and a restore), then uses the state and
 * exits 0.
 *   fdcase dup DIR             fd and its dup on DIR/data; after go: write through one, print
 *                              both offsets ("pos1=N pos2=N")
 *   fdcase file DIR            DIR/data open as fd 3; after go: writes "after\n" to it
 *   fdcase stdout DIR          stdout pointed at DIR/log (freopen); after go: prints "after"
 *   fdcase nsnet DIR           waits for DIR/go1 before it opens /proc/self/ns/net, then creates
 *                              DIR/opened and waits for DIR/go
 *   fdcase shm DIR             a SysV shared memory segment attached (and marked for removal)
 *   fdcase memfd-twice DIR     a memfd mapped MAP_SHARED at two addresses, its fd closed;
 *                              after go: writes through one, prints "shared=1" if the other
 *                              sees it
 *   fdcase epoll-closed DIR    an epoll instance watching an eventfd by a number since closed
 *                              (the eventfd lives on as a dup)
 *   fdcase inotify-gap DIR     an inotify instance with watches 1 and 2, watch 1 removed
 *   fdcase inotify-unread DIR  an inotify instance holding an unread event until DIR/go1, then
 *                              read; creates DIR/drained */
#define _GNU_SOURCE
#include "fdkind_common.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/shm.h>
#include <time.h>
#include <unistd.h>

/* dir, at(), touch(), wait_for(), die(): the descriptor-kind programs' helpers. */

int main(int argc, char **argv)
{
    if (argc != 3) { fprintf(stderr, "usage: fdcase MODE DIR\n"); return 64; }
    const char *mode = argv[1];
    snprintf(dir, sizeof dir, "%s", argv[2]);

    if (strcmp(mode, "dup") == 0) {
        int fd = open(at("data"), O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0) die("open");
        int fd2 = dup(fd);
        if (fd2 < 0 || write(fd, "abc", 3) != 3) die("dup/write");
        touch("ready");
        wait_for("go");
        if (write(fd, "XYZ", 3) != 3) die("write");
        printf("pos1=%ld pos2=%ld\n", (long)lseek(fd, 0, SEEK_CUR), (long)lseek(fd2, 0, SEEK_CUR));
        return 0;
    }
    if (strcmp(mode, "file") == 0) {
        int fd = open(at("data"), O_RDWR | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || write(fd, "before\n", 7) != 7) die("open/write");
        touch("ready");
        wait_for("go");
        if (write(fd, "after\n", 6) != 6) die("write");
        return 0;
    }
    if (strcmp(mode, "stdout") == 0) {
        if (!freopen(at("log"), "a", stdout)) die("freopen");
        printf("before\n");
        fflush(stdout);
        touch("ready");
        wait_for("go");
        printf("after\n");
        return 0;
    }
    if (strcmp(mode, "nsnet") == 0) {
        touch("ready");
        wait_for("go1");
        if (open("/proc/self/ns/net", O_RDONLY) < 0) die("open /proc/self/ns/net");
        touch("opened");
        wait_for("go");
        return 0;
    }
    if (strcmp(mode, "shm") == 0) {
        int id = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
        if (id < 0) die("shmget");
        char *p = shmat(id, NULL, 0);
        if (p == (void *)-1) die("shmat");
        shmctl(id, IPC_RMID, NULL);  /* gone with the last detach: nothing left behind */
        strcpy(p, "segment");
        touch("ready");
        wait_for("go");
        return strcmp(p, "segment") == 0 ? 0 : 1;
    }
    if (strcmp(mode, "memfd-twice") == 0) {
        int fd = memfd_create("fdcase", 0);
        if (fd < 0 || ftruncate(fd, 4096) != 0) die("memfd_create");
        char *a = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        char *b = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (a == MAP_FAILED || b == MAP_FAILED) die("mmap");
        close(fd);
        strcpy(a, "one");
        touch("ready");
        wait_for("go");
        strcpy(a, "two");
        printf("shared=%d\n", strcmp(b, "two") == 0);
        return 0;
    }
    if (strcmp(mode, "epoll-closed") == 0) {
        int ep = epoll_create1(0);
        int ev = eventfd(1, 0);
        struct epoll_event e = {EPOLLIN, {.u64 = 1}};
        if (ep < 0 || ev < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, ev, &e) != 0) die("epoll");
        int keep = dup(ev);
        close(ev);  /* the entry stays: the eventfd lives on as `keep` */
        touch("ready");
        wait_for("go");
        struct epoll_event got;
        return epoll_wait(ep, &got, 1, 0) == 1 && keep >= 0 ? 0 : 1;
    }
    if (strcmp(mode, "inotify-gap") == 0 || strcmp(mode, "inotify-unread") == 0) {
        int in = inotify_init1(IN_NONBLOCK);
        if (in < 0) die("inotify_init1");
        if (mkdir(at("w1"), 0755) != 0 || mkdir(at("w2"), 0755) != 0) die("mkdir");
        int wd1 = inotify_add_watch(in, at("w1"), IN_CREATE);
        if (wd1 != 1 || inotify_add_watch(in, at("w2"), IN_CREATE) != 2) die("inotify_add_watch");
        if (strcmp(mode, "inotify-gap") == 0) {
            if (inotify_rm_watch(in, wd1) != 0) die("inotify_rm_watch");
        } else {
            int fd = open(at("w2/event"), O_CREAT | O_WRONLY, 0644);
            if (fd < 0) die("create");
            close(fd);
        }
        char buf[4096];
        if (strcmp(mode, "inotify-gap") == 0)  /* drain IN_IGNORED: only the gap is in the way */
            while (read(in, buf, sizeof buf) > 0) {
            }
        touch("ready");
        if (strcmp(mode, "inotify-unread") == 0) {
            wait_for("go1");
            while (read(in, buf, sizeof buf) > 0) {
            }
            touch("drained");
        }
        wait_for("go");
        return 0;
    }
    fprintf(stderr, "fdcase: unknown mode %s\n", mode);
    return 64;
}
