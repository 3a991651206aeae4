// cps_peer: one process of the checkpoint-service tests (tests/cps/test_*.py), speaking a line
// protocol on stdin/stdout.
//
//   cps_peer standby NAME sync|async [N]
//       Opens NAME (creating it), registers for immediate consumption and prints
//       "seen V" for every committed change of section "seq" (V as of that change). On the
//       stdin line "promote" it becomes the active writer: "start V" (the value it took over),
//       then writes V+1, V+2, ... to "seq", printing "ack I" after each acknowledged write and,
//       asynchronous, "synced I" after clCkptCheckpointSynchronize every N writes. A failed
//       write prints "fail I CODE TEXT" and is tried again. "read" prints "final V".
//   cps_peer create NAME RETENTION_MS [SECTION EXPIRY_MS]
//       Creates NAME (and SECTION expiring EXPIRY_MS from now), closes it, exits.
//   cps_peer hold NAME       Keeps NAME open until stdin ends.
#include <ckp/cl_ckpt.h>
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>

namespace {

ClCkptHdlT g_ckpt;
bool g_active = false;

ClNameT name_of(const char *s)
{
    ClNameT n{};
    n.length = ClUInt16T(std::strlen(s));
    std::memcpy(n.value, s, n.length);
    return n;
}

ClCkptSectionIdT sid(const char *s) { return {(ClUInt8T *)s, ClUInt16T(std::strlen(s))}; }

bool read_seq(ClCkptHdlT h, long *v)
{
    ClCkptIOVectorElementT e{};
    e.sectionId = sid("seq");
    ClUInt32T bad;
    if (clCkptCheckpointRead(h, &e, 1, &bad) != CL_OK) return false;
    *v = std::strtol(std::string(static_cast<char *>(e.dataBuffer), e.readSize).c_str(), nullptr, 10);
    std::free(e.dataBuffer);
    return true;
}

ClRcT on_change(ClNameT *, ClCkptHdlT h)
{
    long v;
    if (g_active) return CL_OK;
    if (read_seq(h, &v)) std::printf("seen %ld\n", v);
    else std::printf("unread %s\n", clCkptErrorText());  // the test reports it
    std::fflush(stdout);
    return CL_OK;
}

[[noreturn]] void die(const char *what, ClRcT rc)
{
    std::fprintf(stderr, "cps_peer: %s: 0x%x %s\n", what, rc, clCkptErrorText());
    std::exit(2);
}

ClCkptSvcHdlT init()
{
    ClCkptSvcHdlT svc;
    ClVersionT v{'B', 1, 1};
    if (ClRcT rc = clCkptInitialize(&svc, nullptr, &v)) die("clCkptInitialize", rc);
    return svc;
}

ClCkptCheckpointCreationAttributesT attrs(bool async, ClTimeT retention)
{
    ClCkptCheckpointCreationAttributesT a{};
    a.creationFlags = async ? (CL_CKPT_WR_ACTIVE_REPLICA | CL_CKPT_CHECKPOINT_COLLOCATED) : CL_CKPT_WR_ALL_REPLICAS;
    a.maxSections = 4;
    a.maxSectionSize = 256;
    a.checkpointSize = 1024;
    a.maxSectionIdSize = 16;
    a.retentionDuration = retention;
    return a;
}

// A line from stdin if one is ready ("" if none; "EOF" at the end).
std::string stdin_line(int timeout_ms)
{
    static std::string buf;
    for (;;) {
        const size_t nl = buf.find('\n');
        if (nl != std::string::npos) {
            std::string line = buf.substr(0, nl);
            buf.erase(0, nl + 1);
            return line;
        }
        struct pollfd p = {0, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) != 1) return "";
        char c[256];
        const ssize_t n = ::read(0, c, sizeof c);
        if (n <= 0) return "EOF";
        buf.append(c, size_t(n));
        timeout_ms = 0;
    }
}

int standby(const char *ckpt, bool async, int every)
{
    ClCkptSvcHdlT svc = init();
    ClNameT nm = name_of(ckpt);
    auto a = attrs(async, CL_TIME_END);
    if (ClRcT rc = clCkptCheckpointOpen(svc, &nm, &a,
                                        CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE, 0,
                                        &g_ckpt))
        die("clCkptCheckpointOpen", rc);
    if (ClRcT rc = clCkptImmediateConsumptionRegister(g_ckpt, on_change)) die("register", rc);
    ClSelectionObjectT so;
    clCkptSelectionObjectGet(svc, &so);
    std::printf("ready\n");
    std::fflush(stdout);
    for (;;) {
        struct pollfd p[2] = {{so, POLLIN, 0}, {0, POLLIN, 0}};
        ::poll(p, 2, -1);
        if (p[0].revents & POLLIN) clCkptDispatch(svc, CL_DISPATCH_ALL);
        if (p[1].revents & (POLLIN | POLLHUP)) {
            const std::string line = stdin_line(0);
            if (line == "EOF") return 0;
            if (line == "read") {
                long v = -1;
                read_seq(g_ckpt, &v);
                std::printf("final %ld\n", v);
                std::fflush(stdout);
            }
            if (line == "promote") break;
        }
    }
    g_active = true;
    if (async)
        if (ClRcT rc = clCkptActiveReplicaSet(g_ckpt)) die("clCkptActiveReplicaSet", rc);
    long v = 0;
    ClCkptSectionIdT seq = sid("seq");
    if (!read_seq(g_ckpt, &v)) {
        ClCkptSectionCreationAttributesT ca{CL_TIME_END, &seq};
        if (ClRcT rc = clCkptSectionCreate(g_ckpt, &ca, (const ClUInt8T *)"0", 1)) die("clCkptSectionCreate", rc);
        if (async)
            if (ClRcT rc = clCkptCheckpointSynchronize(g_ckpt, 0)) die("clCkptCheckpointSynchronize", rc);
        v = 0;
    }
    std::printf("start %ld\n", v);
    std::fflush(stdout);
    for (long i = v + 1;; ++i) {
        const std::string s = std::to_string(i);
        for (;;) {
            const ClRcT rc = clCkptSectionOverwrite(g_ckpt, &seq, s.data(), s.size());
            if (rc == CL_OK) break;
            std::printf("fail %ld 0x%x %s\n", i, rc, clCkptErrorText());
            std::fflush(stdout);
        }
        std::printf("ack %ld\n", i);
        if (async && i % every == 0) {
            const ClRcT rc = clCkptCheckpointSynchronize(g_ckpt, 0);
            if (rc == CL_OK) std::printf("synced %ld\n", i);
            else std::printf("fail %ld 0x%x %s\n", i, rc, clCkptErrorText());
        }
        std::fflush(stdout);
        clCkptDispatch(svc, CL_DISPATCH_ALL);
        if (stdin_line(0) == "EOF") return 0;
    }
}

int create(const char *ckpt, long retention_ms, const char *section, long expiry_ms)
{
    ClCkptSvcHdlT svc = init();
    ClNameT nm = name_of(ckpt);
    auto a = attrs(false, ClTimeT(retention_ms) * 1000000);
    ClCkptHdlT h;
    if (ClRcT rc = clCkptCheckpointOpen(svc, &nm, &a,
                                        CL_CKPT_CHECKPOINT_READ | CL_CKPT_CHECKPOINT_WRITE | CL_CKPT_CHECKPOINT_CREATE, 0, &h))
        die("clCkptCheckpointOpen", rc);
    if (section) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ClCkptSectionIdT id = sid(section);
        ClCkptSectionCreationAttributesT ca{(ClTimeT(ts.tv_sec) * 1000000000 + ts.tv_nsec) + ClTimeT(expiry_ms) * 1000000, &id};
        if (ClRcT rc = clCkptSectionCreate(h, &ca, (const ClUInt8T *)"x", 1)) die("clCkptSectionCreate", rc);
    }
    if (ClRcT rc = clCkptCheckpointClose(h)) die("clCkptCheckpointClose", rc);
    clCkptFinalize(svc);
    return 0;
}

int hold(const char *ckpt)
{
    ClCkptSvcHdlT svc = init();
    ClNameT nm = name_of(ckpt);
    ClCkptHdlT h;
    if (ClRcT rc = clCkptCheckpointOpen(svc, &nm, nullptr, CL_CKPT_CHECKPOINT_READ, 0, &h)) die("clCkptCheckpointOpen", rc);
    std::printf("ready\n");
    std::fflush(stdout);
    while (stdin_line(-1) != "EOF") {
    }
    clCkptCheckpointClose(h);
    clCkptFinalize(svc);
    return 0;
}

}  // namespace

int main(int argc, char **argv)
{
    const std::string mode = argc > 2 ? argv[1] : "";
    if (mode == "standby" && argc >= 4)
        return standby(argv[2], std::string(argv[3]) == "async", argc > 4 ? std::atoi(argv[4]) : 5);
    if (mode == "create" && argc >= 4)
        return create(argv[2], std::atol(argv[3]), argc > 5 ? argv[4] : nullptr, argc > 5 ? std::atol(argv[5]) : 0);
    if (mode == "hold") return hold(argv[2]);
    std::fprintf(stderr, "usage: see the comment at the top of cps_peer.cpp\n");
    return 64;
}
