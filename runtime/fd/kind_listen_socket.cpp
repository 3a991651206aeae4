// A listening stream socket: TCP over IPv4/IPv6 (any address, loopback included) or a unix
// socket (a path, an abstract name). A restore makes a new socket of the same family, type
// and protocol, gives it the options below that differ from a new socket's, binds it to the
// address getsockname gave and listens with the backlog the program asked for (recorded by
// the listen() wrapper, listen_backlogs.h), on the same descriptor number; a thread that was
// blocked in accept() on it restarts the call on the new socket. A unix socket's file is the
// one thing outside the process: the restore replaces it only if it is still the socket file
// that was there at the checkpoint (same device and inode), and gives it its mode.
//
// Refused: connections waiting to be accepted (they are the clients' connections, which a
// restore cannot bring back; retried at the next checkpoint), a listen() the wrapper did not
// see (its backlog is unknown), a socket filter, a unix socket bound to a relative path.
// Connected and unbound sockets are another kind (refused, kind_refused.cpp).
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "fd_kind.h"
#include "listen_backlogs.h"
#include "sys/raw_syscall.h"

namespace ckpt::fd {
namespace {

struct Option {
    int level, name;
    const char *text;
    int family;  // 0: every family
};

// What the kind keeps. SO_RCVBUF/SO_SNDBUF read back doubled (set_option halves them).
// IPV6_V6ONLY and the reuse options must be in place before bind: all are set before it.
constexpr Option kOptions[] = {
    {SOL_SOCKET, SO_REUSEADDR, "SO_REUSEADDR", 0},
    {SOL_SOCKET, SO_REUSEPORT, "SO_REUSEPORT", 0},
    {SOL_SOCKET, SO_KEEPALIVE, "SO_KEEPALIVE", 0},
    {SOL_SOCKET, SO_RCVBUF, "SO_RCVBUF", 0},
    {SOL_SOCKET, SO_SNDBUF, "SO_SNDBUF", 0},
    {SOL_SOCKET, SO_RCVLOWAT, "SO_RCVLOWAT", 0},
    {SOL_SOCKET, SO_RCVTIMEO, "SO_RCVTIMEO", 0},
    {SOL_SOCKET, SO_SNDTIMEO, "SO_SNDTIMEO", 0},
    {SOL_SOCKET, SO_LINGER, "SO_LINGER", 0},
    {SOL_SOCKET, SO_OOBINLINE, "SO_OOBINLINE", 0},
    {SOL_SOCKET, SO_PRIORITY, "SO_PRIORITY", 0},
    {SOL_SOCKET, SO_PASSCRED, "SO_PASSCRED", 0},
    {SOL_SOCKET, SO_MARK, "SO_MARK", AF_INET},
    {SOL_SOCKET, SO_MARK, "SO_MARK", AF_INET6},
    {SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", AF_INET},
    {SOL_SOCKET, SO_BINDTODEVICE, "SO_BINDTODEVICE", AF_INET6},
    {IPPROTO_IP, IP_TOS, "IP_TOS", AF_INET},
    {IPPROTO_IP, IP_TTL, "IP_TTL", AF_INET},
    {IPPROTO_IP, IP_FREEBIND, "IP_FREEBIND", AF_INET},
    {IPPROTO_IP, IP_TRANSPARENT, "IP_TRANSPARENT", AF_INET},
    {IPPROTO_IPV6, IPV6_V6ONLY, "IPV6_V6ONLY", AF_INET6},
    {IPPROTO_IPV6, IPV6_TCLASS, "IPV6_TCLASS", AF_INET6},
    {IPPROTO_IPV6, IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", AF_INET6},
    {IPPROTO_TCP, TCP_NODELAY, "TCP_NODELAY", -1},
    {IPPROTO_TCP, TCP_MAXSEG, "TCP_MAXSEG", -1},
    {IPPROTO_TCP, TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT", -1},
    {IPPROTO_TCP, TCP_FASTOPEN, "TCP_FASTOPEN", -1},
    {IPPROTO_TCP, TCP_KEEPIDLE, "TCP_KEEPIDLE", -1},
    {IPPROTO_TCP, TCP_KEEPINTVL, "TCP_KEEPINTVL", -1},
    {IPPROTO_TCP, TCP_KEEPCNT, "TCP_KEEPCNT", -1},
    {IPPROTO_TCP, TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", -1},
    {IPPROTO_TCP, TCP_CONGESTION, "TCP_CONGESTION", -1},
};
static_assert(sizeof kOptions / sizeof kOptions[0] <= image::kMaxSockOptions);

bool applies(const Option &o, int family)
{
    if (o.family == -1) return family == AF_INET || family == AF_INET6;  // TCP
    return o.family == 0 || o.family == family;
}

const char *option_text(int level, int name)
{
    for (const Option &o : kOptions)
        if (o.level == level && o.name == name) return o.text;
    return "a socket option";
}

long get_int(int fd, int level, int name, int &v)
{
    uint32_t len = sizeof v;
    return RAW5(SYS_getsockopt, fd, level, name, &v, &len);
}

bool is_inet(int family) { return family == AF_INET || family == AF_INET6; }

bool matches(const Probe &p)
{
    if (!S_ISSOCK(p.st->st_mode)) return false;
    int listening = 0, family = 0, type = 0, protocol = 0;
    if (get_int(p.fd, SOL_SOCKET, SO_ACCEPTCONN, listening) != 0 || !listening) return false;
    if (get_int(p.fd, SOL_SOCKET, SO_DOMAIN, family) != 0 || get_int(p.fd, SOL_SOCKET, SO_TYPE, type) != 0 ||
        get_int(p.fd, SOL_SOCKET, SO_PROTOCOL, protocol) != 0 || type != SOCK_STREAM)
        return false;
    return family == AF_UNIX || (is_inet(family) && protocol == IPPROTO_TCP);
}

// The NUL-terminated path of a unix address bound to a file; null for an abstract or unnamed one.
const char *unix_path(const image::FdListenSocketPayload &pl, char (&buf)[sizeof(sockaddr_un::sun_path) + 1])
{
    const uint32_t at = offsetof(sockaddr_un, sun_path);
    if (pl.family != AF_UNIX || pl.addr_len <= at || pl.addr[at] == 0) return nullptr;
    uint32_t n = 0;
    for (uint32_t i = at; i < pl.addr_len && i < sizeof pl.addr && pl.addr[i] && n < sizeof buf - 1; ++i)
        buf[n++] = char(pl.addr[i]);
    buf[n] = 0;
    return buf;
}

const char *capture(const Probe &p, void *payload, uint32_t cap, uint32_t &size)
{
    if (cap < sizeof(image::FdListenSocketPayload)) return "has no room for its record";
    auto *o = static_cast<image::FdListenSocketPayload *>(payload);
    *o = image::FdListenSocketPayload{};
    get_int(p.fd, SOL_SOCKET, SO_DOMAIN, o->family);
    get_int(p.fd, SOL_SOCKET, SO_TYPE, o->type);
    get_int(p.fd, SOL_SOCKET, SO_PROTOCOL, o->protocol);
    if (!listen_backlog(uint64_t(p.st->st_dev), uint64_t(p.st->st_ino), o->backlog))
        return "a listening socket of unknown backlog (not supported)";
    pollfd pfd{p.fd, POLLIN, 0};
    if (RAW3(SYS_poll, &pfd, 1, 0) > 0 && (pfd.revents & POLLIN))
        return "a listen queue holding connections (retried later)";
    uint32_t filter_len = 0;
    if (RAW5(SYS_getsockopt, p.fd, SOL_SOCKET, SO_GET_FILTER, nullptr, &filter_len) == 0 && filter_len > 0)
        return "a socket filter (not supported)";
    uint32_t alen = sizeof o->addr;
    if (RAW3(SYS_getsockname, p.fd, o->addr, &alen) != 0 || alen > sizeof o->addr)
        return "a listening socket whose address cannot be read";
    o->addr_len = alen;
    char buf[sizeof(sockaddr_un::sun_path) + 1];
    if (const char *path = unix_path(*o, buf)) {
        if (path[0] != '/') return "a unix socket on a relative path (not supported)";
        struct stat st;
        if (sys_newfstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISSOCK(st.st_mode)) {
            o->file_dev = st.st_dev;
            o->file_ino = st.st_ino;
            o->file_mode = st.st_mode & 07777;
        }
    }
    for (const Option &opt : kOptions) {
        if (!applies(opt, o->family)) continue;
        image::FdSockOption &r = o->options[o->n_options];
        uint32_t len = sizeof r.value;
        if (RAW5(SYS_getsockopt, p.fd, opt.level, opt.name, r.value, &len) != 0 || len > sizeof r.value) continue;
        r.level = opt.level;
        r.name = opt.name;
        r.len = len;
        ++o->n_options;
    }
    size = sizeof *o;
    return nullptr;
}

// "127.0.0.1:8080", "[::1]:8080", "/run/x.sock", "@name" (abstract).
void add_address(const image::FdListenSocketPayload &pl, text::Builder &out)
{
    if (pl.family == AF_INET && pl.addr_len >= sizeof(sockaddr_in)) {
        const uint8_t *a = pl.addr + offsetof(sockaddr_in, sin_addr);
        const uint8_t *port = pl.addr + offsetof(sockaddr_in, sin_port);
        out.add(uint64_t(a[0])).add(".").add(uint64_t(a[1])).add(".").add(uint64_t(a[2])).add(".").add(uint64_t(a[3])).add(":").add(uint64_t(port[0] << 8 | port[1]));
    } else if (pl.family == AF_INET6 && pl.addr_len >= sizeof(sockaddr_in6)) {
        const uint8_t *a = pl.addr + offsetof(sockaddr_in6, sin6_addr);
        const uint8_t *port = pl.addr + offsetof(sockaddr_in6, sin6_port);
        out.add("[");
        for (int i = 0; i < 16; i += 2) out.add(i ? ":" : "").add_hex(uint64_t(a[i] << 8 | a[i + 1]));
        out.add("]:").add(uint64_t(port[0] << 8 | port[1]));
    } else if (pl.family == AF_UNIX) {
        char buf[sizeof(sockaddr_un::sun_path) + 1];
        const uint32_t at = offsetof(sockaddr_un, sun_path);
        if (const char *path = unix_path(pl, buf)) {
            out.add(path);
        } else if (pl.addr_len > at + 1) {
            out.add("@");
            for (uint32_t i = at + 1; i < pl.addr_len && i < sizeof pl.addr; ++i)
                if (pl.addr[i] >= 0x20 && pl.addr[i] < 0x7f) out.add(reinterpret_cast<const char *>(pl.addr + i), 1);
        } else {
            out.add("(unnamed)");
        }
    }
}

// The socket file of a unix path socket: where it is still the one of the checkpoint (or
// there is none), the restore may bind there. False, with why, if something else is there.
bool socket_file_is_ours(const image::FdCommon &c, const image::FdListenSocketPayload &pl, const char *path,
                         bool &present, text::Builder &why)
{
    struct stat st;
    present = sys_newfstatat(AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!present) return true;
    if (S_ISSOCK(st.st_mode) && pl.file_ino && uint64_t(st.st_dev) == pl.file_dev && uint64_t(st.st_ino) == pl.file_ino)
        return true;
    why.add("fd ").add(uint64_t(c.fd)).add(": ").add(path)
        .add(" is not the socket file it was at the checkpoint (the listening socket cannot be bound there)");
    return false;
}

const image::FdListenSocketPayload &payload(const image::FdCommon &c)
{
    return *static_cast<const image::FdListenSocketPayload *>(payload_of(c));
}

// Gives the new socket `s` option `r` if a new socket has it otherwise. Returns false if the
// kernel refuses it.
bool set_option(long s, const image::FdSockOption &r)
{
    uint8_t cur[sizeof r.value] = {};
    uint32_t len = sizeof cur;
    if (RAW5(SYS_getsockopt, s, r.level, r.name, cur, &len) == 0 && len == r.len) {
        bool same = true;
        for (uint32_t i = 0; i < len && same; ++i) same = cur[i] == r.value[i];
        if (same) return true;
    }
    uint8_t v[sizeof r.value];
    for (uint32_t i = 0; i < sizeof v; ++i) v[i] = r.value[i];
    if (r.level == SOL_SOCKET && (r.name == SO_RCVBUF || r.name == SO_SNDBUF) && r.len == sizeof(int)) {
        int n;
        __builtin_memcpy(&n, v, sizeof n);
        n /= 2;  // the kernel doubles what it is given and reports that
        __builtin_memcpy(v, &n, sizeof n);
    }
    return RAW5(SYS_setsockopt, s, r.level, r.name, v, r.len) == 0;
}

void restore(const RestoreContext &ctx, size_t i)
{
    const image::FdCommon &c = *ctx.records[i];
    const image::FdListenSocketPayload &pl = payload(c);
    char msg[256];
    text::Builder m(msg, sizeof msg);
    auto fail = [&](const char *what, long err) {
        m.add("fd ").add(uint64_t(c.fd)).add(": ").add(what).add(" ");
        add_address(pl, m);
        if (err) m.add(" (errno ").add(uint64_t(-err)).add(")");
        ctx.refuse(msg);
    };
    const long s = RAW3(SYS_socket, pl.family, pl.type | SOCK_CLOEXEC, pl.protocol);
    if (s < 0) return fail("cannot create a socket for", s);
    int reuse = 0;
    const uint32_t n = pl.n_options < image::kMaxSockOptions ? pl.n_options : image::kMaxSockOptions;
    for (uint32_t k = 0; k < n; ++k) {
        const image::FdSockOption &r = pl.options[k];
        if (r.len > sizeof r.value) continue;
        if (r.level == SOL_SOCKET && r.name == SO_REUSEADDR) {
            if (r.len == sizeof reuse) __builtin_memcpy(&reuse, r.value, sizeof reuse);
            continue;
        }
        if (!set_option(s, r)) {
            m.add("fd ").add(uint64_t(c.fd)).add(": cannot set ").add(option_text(r.level, r.name)).add(" again on ");
            add_address(pl, m);
            ctx.refuse(msg);
            return;
        }
    }
    // The old process's connections may linger on the port (TIME_WAIT): bind as SO_REUSEADDR
    // allows, then give the socket the program's own setting.
    const int one = 1;
    RAW5(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    char buf[sizeof(sockaddr_un::sun_path) + 1];
    const char *path = unix_path(pl, buf);
    if (path) {
        bool present = false;
        if (!socket_file_is_ours(c, pl, path, present, m)) {
            ctx.refuse(msg);
            return;
        }
        if (present) sys_unlinkat(AT_FDCWD, path, 0);
    }
    const uint32_t alen = pl.addr_len < sizeof pl.addr ? pl.addr_len : uint32_t(sizeof pl.addr);
    if (long r = RAW3(SYS_bind, s, pl.addr, alen); r != 0) return fail("cannot bind again to", r);
    RAW5(SYS_setsockopt, s, SOL_SOCKET, SO_REUSEADDR, &reuse, sizeof reuse);
    if (path && pl.file_mode) sys_fchmodat(AT_FDCWD, path, int(pl.file_mode));
    if (long r = RAW2(SYS_listen, s, pl.backlog); r != 0) return fail("cannot listen again on", r);
    struct stat st;
    if (sys_fstat(int(s), &st) == 0) note_listen_backlog(c.fd, uint64_t(st.st_dev), uint64_t(st.st_ino), pl.backlog);
    place(s, c, true);
}

Verdict verify(const image::FdCommon &c, const void *p, const char *, text::Builder &why)
{
    const auto &pl = *static_cast<const image::FdListenSocketPayload *>(p);
    char buf[sizeof(sockaddr_un::sun_path) + 1];
    const char *path = unix_path(pl, buf);
    bool present = false;
    return !path || socket_file_is_ours(c, pl, path, present, why) ? Verdict::Ok : Verdict::Changed;
}

void describe(const image::FdCommon &c, const void *p, text::Builder &out)
{
    if (c.payload_size < sizeof(image::FdListenSocketPayload)) return;
    const auto &pl = *static_cast<const image::FdListenSocketPayload *>(p);
    out.add(pl.family == AF_UNIX ? "listening unix socket " : "listening TCP socket ");
    add_address(pl, out);
    out.add(", backlog ").add_int(pl.backlog);
    const uint32_t n = pl.n_options < image::kMaxSockOptions ? pl.n_options : image::kMaxSockOptions;
    for (uint32_t k = 0; k < n; ++k) {
        const image::FdSockOption &r = pl.options[k];
        int v = 0;
        if (r.level == SOL_SOCKET && (r.name == SO_REUSEADDR || r.name == SO_REUSEPORT) && r.len == sizeof v) {
            __builtin_memcpy(&v, r.value, sizeof v);
            if (v) out.add(", ").add(option_text(r.level, r.name));
        }
    }
}

}  // namespace

extern const KindOps kListenSocket = {image::FdKind::ListenSocket, "listening socket", matches, nullptr, false,
                                      capture, nullptr, restore, verify, describe, nullptr,
                                      sizeof(image::FdListenSocketPayload)};

}  // namespace ckpt::fd
