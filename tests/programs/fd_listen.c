/* Listening sockets across a checkpoint (issue 10): a loopback TCP listener (SO_REUSEADDR,
 * backlog 7) and a unix socket bound to DIR/sock (mode 0600, backlog 5), each with a thread
 * blocked in accept() on it at the checkpoint; an abstract unix listener, a non-blocking
 * TCP listener on every address and an IPv6 loopback one (IPV6_V6ONLY, TCP_NODELAY; where
 * the machine has IPv6) nobody accepts on. After DIR/go, the main thread is the
 * client: each accepting thread must take its connection and answer it, and the listeners
 * must have their addresses, options, backlog and flags.
 *
 *   fd_listen DIR             the case above ("ok" lines)
 *   fd_listen DIR connected   also holds a connected loopback TCP pair (a checkpoint must be
 *                             refused, naming it) until DIR/go
 *   fd_listen DIR pending     only a loopback TCP listener, its port in DIR/port; a client
 *                             (the test) connects; after DIR/go1 the connection is accepted
 *                             and closed (DIR/drained), then the program waits for DIR/go */
#include "fdkind_common.h"
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>

static int tcp_listener, unix_listener, abstract_listener, any_listener;
static volatile pid_t accept_tid[2];

static int listen_tcp(uint32_t addr, int backlog, int flags)
{
    int s = socket(AF_INET, SOCK_STREAM | flags, 0);
    if (s < 0) die("socket");
    int one = 1;
    if (!(flags & SOCK_NONBLOCK) && setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) != 0) die("SO_REUSEADDR");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(addr), .sin_port = 0};
    if (bind(s, (struct sockaddr *)&a, sizeof a) != 0) die("bind tcp");
    if (listen(s, backlog) != 0) die("listen tcp");
    return s;
}

static int listen_unix(const struct sockaddr_un *a, socklen_t len, int backlog)
{
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    if (bind(s, (const struct sockaddr *)a, len) != 0) die("bind unix");
    if (listen(s, backlog) != 0) die("listen unix");
    return s;
}

/* Each accepting thread serves one client: reads its line and answers "pong " + line. */
static void *serve(void *arg)
{
    long id = (long)arg;
    int l = id == 0 ? tcp_listener : unix_listener;
    accept_tid[id] = (pid_t)syscall(SYS_gettid);
    int c = accept(l, NULL, NULL);
    if (c < 0) die("accept");
    char buf[64] = {0}, reply[80];
    ssize_t n = read(c, buf, sizeof buf - 1);
    if (n <= 0) die("read");
    snprintf(reply, sizeof reply, "pong %s", buf);
    if (write(c, reply, strlen(reply)) != (ssize_t)strlen(reply)) die("write");
    close(c);
    return NULL;
}

/* Is thread `tid` in accept()/accept4() (/proc/self/task/TID/syscall: 43 or 288)? */
static int in_accept(pid_t tid)
{
    char p[64], line[256] = {0};
    snprintf(p, sizeof p, "/proc/self/task/%d/syscall", (int)tid);
    FILE *f = fopen(p, "r");
    if (!f) return 0;
    int ok = fgets(line, sizeof line, f) && (atoi(line) == 43 || atoi(line) == 288);
    fclose(f);
    return ok;
}

static void wait_in_accept(void)
{
    const struct timespec tick = {0, 1000 * 1000};
    for (int i = 0; i < 2; ++i) {
        while (!accept_tid[i]) nanosleep(&tick, NULL);
        while (!in_accept(accept_tid[i])) nanosleep(&tick, NULL);
    }
}

static int connect_to(int family, const void *addr, socklen_t len)
{
    int s = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    if (connect(s, addr, len) != 0) die("connect");
    return s;
}

/* One client exchange over `s`: returns 1 if the answer is "pong MSG". */
static int ping(int s, const char *msg)
{
    char want[80], got[80] = {0};
    if (write(s, msg, strlen(msg)) != (ssize_t)strlen(msg)) die("write");
    snprintf(want, sizeof want, "pong %s", msg);
    ssize_t n, at = 0;
    while ((n = read(s, got + at, sizeof got - 1 - (size_t)at)) > 0) at += n;
    close(s);
    return strcmp(got, want) == 0;
}

int main(int argc, char **argv)
{
    const int connected_mode = argc == 3 && strcmp(argv[2], "connected") == 0;
    const int pending_mode = argc == 3 && strcmp(argv[2], "pending") == 0;
    start(connected_mode || pending_mode ? 2 : argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (pending_mode) {
        int l = listen_tcp(INADDR_LOOPBACK, 4, SOCK_CLOEXEC);
        struct sockaddr_in a;
        socklen_t alen = sizeof a;
        getsockname(l, (struct sockaddr *)&a, &alen);
        FILE *f = fopen(at("port.tmp"), "w");
        if (!f) die("port");
        fprintf(f, "%d\n", ntohs(a.sin_port));
        fclose(f);
        if (rename(at("port.tmp"), at("port")) != 0) die("rename");
        wait_for("go1");
        int c = accept(l, NULL, NULL);
        if (c < 0) die("accept");
        close(c);
        touch("drained");
        wait_for("go");
        return 0;
    }
    tcp_listener = listen_tcp(INADDR_LOOPBACK, 7, 0);
    any_listener = listen_tcp(INADDR_ANY, 3, SOCK_NONBLOCK | SOCK_CLOEXEC);
    struct sockaddr_un path_addr = {.sun_family = AF_UNIX};
    snprintf(path_addr.sun_path, sizeof path_addr.sun_path, "%s", at("sock"));
    unlink(path_addr.sun_path);
    unix_listener = listen_unix(&path_addr, sizeof path_addr, 5);
    if (chmod(path_addr.sun_path, 0600) != 0) die("chmod");
    struct sockaddr_un abs_addr = {.sun_family = AF_UNIX};
    const int abs_len = snprintf(abs_addr.sun_path + 1, sizeof abs_addr.sun_path - 1, "ckpt-fd-listen-%d", (int)getpid());
    const socklen_t abs_socklen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + (size_t)abs_len);
    abstract_listener = listen_unix(&abs_addr, abs_socklen, 2);

    /* IPv6 loopback, where there is IPv6 (the line printed is the same either way). */
    int v6 = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 v6_addr = {.sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT};
    int one = 1;
    if (v6 >= 0 && (setsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) != 0 ||
                    setsockopt(v6, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) != 0 ||
                    bind(v6, (struct sockaddr *)&v6_addr, sizeof v6_addr) != 0 || listen(v6, 9) != 0)) {
        close(v6);
        v6 = -1;
    }
    socklen_t v6len = sizeof v6_addr;
    if (v6 >= 0) getsockname(v6, (struct sockaddr *)&v6_addr, &v6len);

    struct sockaddr_in tcp_addr, any_addr;
    socklen_t len = sizeof tcp_addr;
    getsockname(tcp_listener, (struct sockaddr *)&tcp_addr, &len);
    len = sizeof any_addr;
    getsockname(any_listener, (struct sockaddr *)&any_addr, &len);

    int pair[2] = {-1, -1};
    if (connected_mode) {
        pair[0] = connect_to(AF_INET, &tcp_addr, sizeof tcp_addr);
        pair[1] = accept(tcp_listener, NULL, NULL);
        if (pair[1] < 0) die("accept");
        ready_then_wait();
        return 0;
    }

    pthread_t t[2];
    for (long i = 0; i < 2; ++i) pthread_create(&t[i], NULL, serve, (void *)i);
    wait_in_accept();
    ready_then_wait();

    /* The clients. */
    expect(ping(connect_to(AF_INET, &tcp_addr, sizeof tcp_addr), "tcp"),
           "the thread blocked in accept() on the TCP listener served a new client", NULL);
    expect(ping(connect_to(AF_UNIX, &path_addr, sizeof path_addr), "unix"),
           "the thread blocked in accept() on the unix listener served a new client", NULL);
    pthread_join(t[0], NULL);
    pthread_join(t[1], NULL);

    struct sockaddr_in now;
    len = sizeof now;
    getsockname(tcp_listener, (struct sockaddr *)&now, &len);
    expect(now.sin_port == tcp_addr.sin_port && now.sin_addr.s_addr == htonl(INADDR_LOOPBACK),
           "TCP listener on the same loopback address and port", NULL);
    int v = 0;
    len = sizeof v;
    getsockopt(tcp_listener, SOL_SOCKET, SO_REUSEADDR, &v, &len);
    expect(v == 1, "SO_REUSEADDR kept", NULL);
    struct tcp_info ti;
    len = sizeof ti;
    memset(&ti, 0, sizeof ti);
    getsockopt(tcp_listener, IPPROTO_TCP, TCP_INFO, &ti, &len);
    expect(ti.tcpi_sacked == 7, "TCP backlog 7 kept", NULL); /* a listener's tcpi_sacked: its backlog */
    expect(!(fcntl(tcp_listener, F_GETFD) & FD_CLOEXEC) && (fcntl(unix_listener, F_GETFD) & FD_CLOEXEC),
           "close-on-exec kept", NULL);

    len = sizeof now;
    getsockname(any_listener, (struct sockaddr *)&now, &len);
    expect(now.sin_port == any_addr.sin_port && now.sin_addr.s_addr == htonl(INADDR_ANY),
           "the listener on every address kept its port", NULL);
    v = 1;
    len = sizeof v;
    getsockopt(any_listener, SOL_SOCKET, SO_REUSEADDR, &v, &len);
    errno = 0;
    int none = accept(any_listener, NULL, NULL);
    expect(none < 0 && errno == EAGAIN && v == 0 && (fcntl(any_listener, F_GETFL) & O_NONBLOCK),
           "non-blocking listener: no connection (EAGAIN), SO_REUSEADDR still off", strerror(errno));
    int c = connect_to(AF_INET, &any_addr, sizeof any_addr);
    const struct timespec tick = {0, 1000 * 1000};
    int got = -1;
    for (int i = 0; i < 5000 && got < 0; ++i) {
        got = accept(any_listener, NULL, NULL);
        if (got < 0) nanosleep(&tick, NULL);
    }
    expect(got >= 0, "the non-blocking listener accepts a client", NULL);
    close(c);
    close(got);

    struct stat file_now;
    expect(stat(path_addr.sun_path, &file_now) == 0 && S_ISSOCK(file_now.st_mode) && (file_now.st_mode & 07777) == 0600,
           "the unix socket file is there, a socket, mode 0600", NULL);
    c = connect_to(AF_UNIX, &abs_addr, abs_socklen);
    got = accept(abstract_listener, NULL, NULL);
    expect(got >= 0, "the abstract unix listener accepts a client", NULL);
    close(c);
    close(got);
    if (v6 >= 0) {
        struct sockaddr_in6 v6now;
        v6len = sizeof v6now;
        getsockname(v6, (struct sockaddr *)&v6now, &v6len);
        int only = 0, nodelay = 0;
        len = sizeof only;
        getsockopt(v6, IPPROTO_IPV6, IPV6_V6ONLY, &only, &len);
        len = sizeof nodelay;
        getsockopt(v6, IPPROTO_TCP, TCP_NODELAY, &nodelay, &len);
        c = connect_to(AF_INET6, &v6_addr, sizeof v6_addr);
        got = accept(v6, NULL, NULL);
        expect(v6now.sin6_port == v6_addr.sin6_port && only == 1 && nodelay == 1 && got >= 0,
               "IPv6 loopback listener: same port, IPV6_V6ONLY and TCP_NODELAY kept, accepts a client", NULL);
        close(c);
        close(got);
    } else {
        expect(1, "IPv6 loopback listener: same port, IPV6_V6ONLY and TCP_NODELAY kept, accepts a client", NULL);
    }
    unlink(path_addr.sun_path);
    return failures != 0;
}
