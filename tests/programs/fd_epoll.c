/* epoll across a checkpoint: an interest list of descriptors numbered below and above the
 * epoll instance (a self-pipe's two ends, eventfds), with EPOLLET and EPOLLONESHOT and the
 * data words; epoll_wait must report the same readiness after the restore as before the
 * checkpoint, then new events as they happen; a dup of the epoll instance is the same one. */
#include "fdkind_common.h"
#include <stdint.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

/* The ready entries as text, in data order: "0x1111:IN 0x3333:OUT". */
static void ready_list(int ep, char *out, size_t cap)
{
    struct epoll_event ev[8];
    int n = epoll_wait(ep, ev, 8, 0);
    for (int i = 0; i < n; ++i)
        for (int j = i + 1; j < n; ++j)
            if (ev[j].data.u64 < ev[i].data.u64) { struct epoll_event t = ev[i]; ev[i] = ev[j]; ev[j] = t; }
    out[0] = 0;
    for (int i = 0; i < n; ++i) {
        size_t l = strlen(out);
        snprintf(out + l, cap - l, "%s0x%llx:%s%s", i ? " " : "", (unsigned long long)ev[i].data.u64,
                 (ev[i].events & EPOLLIN) ? "IN" : "", (ev[i].events & EPOLLOUT) ? "OUT" : "");
    }
    if (n <= 0) snprintf(out, cap, "none");
}

static void add(int ep, int fd, uint32_t events, uint64_t data)
{
    struct epoll_event ev = {events, {.u64 = data}};
    if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev)) die("epoll_ctl");
}

int main(int argc, char **argv)
{
    start(argc, argv);
    int ready_ev = eventfd(1, EFD_NONBLOCK);           /* below the epoll fd */
    int ep = epoll_create1(EPOLL_CLOEXEC);
    int p[2];
    if (ready_ev < 0 || ep < 0 || pipe2(p, O_NONBLOCK)) die("set-up");
    int oneshot = eventfd(0, EFD_NONBLOCK);            /* above it */
    add(ep, ready_ev, EPOLLIN, 0x1111);
    add(ep, p[0], EPOLLIN | EPOLLET, 0x2222);
    add(ep, p[1], EPOLLOUT, 0x3333);
    add(ep, oneshot, EPOLLIN | EPOLLONESHOT, 0x4444);
    char before[256], after[256];
    ready_list(ep, before, sizeof before);
    int dup_of_ep = dup(ep);
    ready_then_wait();

    ready_list(ep, after, sizeof after);
    char d[600];
    snprintf(d, sizeof d, "before: %s; after: %s", before, after);
    expect(strcmp(before, after) == 0 && strcmp(before, "0x1111:IN 0x3333:OUT") == 0,
           "epoll_wait reports the same readiness (0x1111:IN 0x3333:OUT)", d);
    if (write(p[1], "x", 1) != 1) die("write");
    ready_list(ep, after, sizeof after);
    expect(strcmp(after, "0x1111:IN 0x2222:IN 0x3333:OUT") == 0, "edge-triggered pipe end reports new data", after);
    ready_list(ep, after, sizeof after);
    expect(strcmp(after, "0x1111:IN 0x3333:OUT") == 0, "the edge is reported once", after);
    uint64_t one = 1;
    if (write(oneshot, &one, 8) != 8) die("write");
    ready_list(dup_of_ep, after, sizeof after);
    expect(strcmp(after, "0x1111:IN 0x3333:OUT 0x4444:IN") == 0, "one-shot entry fires (seen through the dup)", after);
    ready_list(ep, after, sizeof after);
    expect(strcmp(after, "0x1111:IN 0x3333:OUT") == 0, "and only once", after);
    expect((fcntl(ep, F_GETFD) & FD_CLOEXEC) != 0, "EPOLL_CLOEXEC kept", NULL);
    return failures != 0;
}
