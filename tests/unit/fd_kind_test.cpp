// The descriptor-kind table (runtime/fd/fd_kind.h): every kind of descriptor is classified as
// the kind that restores it, or as a refused kind with its reason; image tags map back.
#include <catch2/catch.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "fd/fd_kind.h"

using namespace ckpt;

namespace {

// The kind of `fd` as the capture would see it (not standard, not inherited).
const fd::KindOps &kind_of(int fd, bool standard = false)
{
    REQUIRE(fd >= 0);
    struct stat st;
    REQUIRE(::fstat(fd, &st) == 0);
    char link[4096];
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
    REQUIRE(n > 0);
    link[n] = 0;
    const fd::Probe p{fd, &st, link, size_t(n), uint32_t(::fcntl(fd, F_GETFL)), standard, false};
    return fd::classify(p);
}

struct Closer {
    int fd;
    ~Closer() { if (fd >= 0) ::close(fd); }
};

}  // namespace

TEST_CASE("fd kinds: what an image can hold", "[fd]")
{
    char dir[] = "/tmp/ckpt-fdkind-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const std::string file = std::string(dir) + "/f";
    Closer f{::open(file.c_str(), O_RDWR | O_CREAT, 0600)};
    Closer d{::open(dir, O_RDONLY | O_DIRECTORY)};
    Closer null{::open("/dev/null", O_RDWR)};
    int p[2];
    REQUIRE(::pipe(p) == 0);
    Closer r{p[0]}, w{p[1]};

    CHECK(kind_of(f.fd).kind == image::FdKind::RegularFile);
    CHECK(kind_of(d.fd).kind == image::FdKind::Directory);
    CHECK(kind_of(null.fd).kind == image::FdKind::CharDevice);
    CHECK(kind_of(r.fd).kind == image::FdKind::SelfPipe);
    CHECK(kind_of(f.fd, true).kind == image::FdKind::Standard);
    for (int k : {f.fd, d.fd, null.fd, r.fd}) CHECK(kind_of(k).refusal == nullptr);
    CHECK(kind_of(f.fd).reopenable);
    CHECK_FALSE(kind_of(r.fd).reopenable);

    // Every tag an image holds has its kind, with all five parts.
    for (auto tag : {image::FdKind::RegularFile, image::FdKind::Directory, image::FdKind::CharDevice,
                     image::FdKind::Terminal, image::FdKind::SelfPipe, image::FdKind::Inherited,
                     image::FdKind::Standard}) {
        const fd::KindOps *k = fd::kind_ops(tag);
        REQUIRE(k);
        CHECK(k->kind == tag);
        CHECK((k->matches && k->restore && k->verify && k->describe));
    }
    CHECK(fd::kind_ops(image::FdKind(99)) == nullptr);

    // A deleted file cannot be found again by path.
    REQUIRE(::unlink(file.c_str()) == 0);
    CHECK(std::string(kind_of(f.fd).name) == "deleted file");
    CHECK(kind_of(f.fd).refusal);
    ::rmdir(dir);
}

TEST_CASE("fd kinds: refused kinds, each named", "[fd]")
{
    struct Case {
        const char *name;
        int fd;
    };
    int sv[2];
    REQUIRE(::socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
    Closer s0{sv[0]}, s1{sv[1]};
    Closer ns{::open("/proc/self/ns/net", O_RDONLY)};
    Closer memfd{::memfd_create("kindtest", 0)};
    Closer ev{::eventfd(0, 0)};
    Closer ep{::epoll_create1(0)};
    Closer tf{::timerfd_create(CLOCK_MONOTONIC, 0)};
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR2);
    Closer sf{::signalfd(-1, &mask, 0)};
    Closer in{::inotify_init1(0)};
    for (const Case &c : {Case{"socket", s0.fd}, Case{"namespace", ns.fd}, Case{"memfd", memfd.fd},
                          Case{"eventfd", ev.fd}, Case{"epoll", ep.fd}, Case{"timerfd", tf.fd},
                          Case{"signalfd", sf.fd}, Case{"inotify", in.fd}}) {
        INFO(c.name);
        const fd::KindOps &k = kind_of(c.fd);
        CHECK(std::string(k.name) == c.name);
        REQUIRE(k.refusal);
        CHECK_FALSE(k.reopenable);
        // Even as descriptor 0-2 a namespace, memfd or deleted file is refused.
        if (std::string(c.name) == "namespace" || std::string(c.name) == "memfd") CHECK(kind_of(c.fd, true).refusal);
    }
}
