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
#include <sys/sysmacros.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <string>

#include "fd/fd_kind.h"
#include "fd/fd_table.h"
#include "fd/fdinfo.h"
#include "fd/inotify_watches.h"

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
                     image::FdKind::Standard, image::FdKind::Eventfd, image::FdKind::Timerfd,
                     image::FdKind::Signalfd, image::FdKind::Epoll, image::FdKind::Inotify,
                     image::FdKind::Memfd}) {
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
    for (const Case &c : {Case{"socket", s0.fd}, Case{"namespace", ns.fd}}) {
        INFO(c.name);
        const fd::KindOps &k = kind_of(c.fd);
        CHECK(std::string(k.name) == c.name);
        REQUIRE(k.refusal);
        CHECK_FALSE(k.reopenable);
    }
    // Even as descriptor 0-2 a namespace is refused.
    CHECK(kind_of(ns.fd, true).refusal);
}

namespace {

// What the capture of `fd` records: its kind's payload (capture must accept it).
std::string payload_of_fd(int fd, const fd::KindOps *&kind)
{
    REQUIRE(fd >= 0);
    struct stat st;
    REQUIRE(::fstat(fd, &st) == 0);
    static char link[4096];
    const std::string proc = "/proc/self/fd/" + std::to_string(fd);
    const ssize_t n = ::readlink(proc.c_str(), link, sizeof link - 1);
    REQUIRE(n > 0);
    link[n] = 0;
    const fd::Probe p{fd, &st, link, size_t(n), uint32_t(::fcntl(fd, F_GETFL)), false, false};
    kind = &fd::classify(p);
    REQUIRE(kind->refusal == nullptr);
    REQUIRE(kind->capture);
    static uint64_t buf[64 * 1024 / 8];
    uint32_t size = 0;
    const char *why = kind->capture(p, buf, sizeof buf, size);
    INFO((why ? why : ""));
    REQUIRE(why == nullptr);
    return std::string(reinterpret_cast<const char *>(buf), size);
}

std::string describe(const fd::KindOps &k, const std::string &payload)
{
    image::FdCommon c{};
    c.payload_size = uint32_t(payload.size());
    char out[2048];
    text::Builder b(out, sizeof out);
    k.describe(c, payload.data(), b);
    return out;
}

}  // namespace

TEST_CASE("fd kinds of issue 10: classified, captured without changing them, described", "[fd]")
{
    const fd::KindOps *k = nullptr;

    Closer ev{::eventfd(0, EFD_SEMAPHORE)};
    uint64_t v = 0x100000003ull;
    REQUIRE(::write(ev.fd, &v, 8) == 8);
    std::string pl = payload_of_fd(ev.fd, k);
    CHECK(k->kind == image::FdKind::Eventfd);
    REQUIRE(pl.size() == sizeof(image::FdEventfdPayload));
    const auto *e = reinterpret_cast<const image::FdEventfdPayload *>(pl.data());
    CHECK(e->count == 0x100000003ull);
    CHECK(e->semaphore == 1);
    CHECK(describe(*k, pl) == "eventfd, counter 4294967299, semaphore");
    uint64_t got = 0;
    REQUIRE(::read(ev.fd, &got, 8) == 8);  // the capture did not consume the counter
    CHECK(got == 1);

    Closer tf{::timerfd_create(CLOCK_REALTIME, 0)};
    struct timespec now;
    ::clock_gettime(CLOCK_REALTIME, &now);
    struct itimerspec abs_time = {{2, 500000000}, {now.tv_sec + 100, 0}};
    REQUIRE(::timerfd_settime(tf.fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &abs_time, nullptr) == 0);
    pl = payload_of_fd(tf.fd, k);
    CHECK(k->kind == image::FdKind::Timerfd);
    const auto *t = reinterpret_cast<const image::FdTimerfdPayload *>(pl.data());
    CHECK(t->clockid == CLOCK_REALTIME);
    CHECK(t->settime_flags == (TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET));
    // An absolute timer keeps its deadline itself, not the time left.
    CHECK(t->value_sec >= now.tv_sec + 99);
    CHECK(t->value_sec <= now.tv_sec + 100);
    CHECK((t->interval_sec == 2 && t->interval_nsec == 500000000));
    CHECK(describe(*k, pl).find("every 2.500000000 s, 0 unread expirations") != std::string::npos);

    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    Closer sf{::signalfd(-1, &mask, 0)};
    pl = payload_of_fd(sf.fd, k);
    CHECK(k->kind == image::FdKind::Signalfd);
    CHECK(reinterpret_cast<const image::FdSignalfdPayload *>(pl.data())->sigmask == ((1ull << 9) | (1ull << 11)));
    CHECK(describe(*k, pl) == "signalfd, signals 10,12");

    Closer ep{::epoll_create1(0)};
    struct epoll_event one = {EPOLLIN | EPOLLET, {.u64 = 0xabcdef0123ull}};
    REQUIRE(::epoll_ctl(ep.fd, EPOLL_CTL_ADD, ev.fd, &one) == 0);
    pl = payload_of_fd(ep.fd, k);
    CHECK(k->kind == image::FdKind::Epoll);
    const auto *h = reinterpret_cast<const image::FdEpollPayload *>(pl.data());
    REQUIRE(h->n == 1);
    const auto *entry = reinterpret_cast<const image::FdEpollEntry *>(h + 1);
    CHECK(entry->tfd == ev.fd);
    CHECK(entry->events == (EPOLLIN | EPOLLET | EPOLLERR | EPOLLHUP));
    CHECK(entry->data == 0xabcdef0123ull);
    CHECK(k->rearm);

    Closer in{::inotify_init1(0)};
    char dir[] = "/tmp/ckpt-fdkind-XXXXXX";
    REQUIRE(::mkdtemp(dir));
    const int wd = ::inotify_add_watch(in.fd, dir, IN_CREATE);
    REQUIRE(wd == 1);
    struct stat st;
    REQUIRE(::stat(dir, &st) == 0);
    // Not added through the wrapper (this is not libckpt): refused until its path is known.
    static uint64_t buf[1024];
    uint32_t size = 0;
    struct stat ist;
    REQUIRE(::fstat(in.fd, &ist) == 0);
    const fd::Probe ip{in.fd, &ist, "anon_inode:inotify", 18, 0, false, false};
    CHECK(fd::classify(ip).kind == image::FdKind::Inotify);
    CHECK(std::string(fd::classify(ip).capture(ip, buf, sizeof buf, size)) == "an inotify watch ckpt did not see added");
    REQUIRE(fd::note_inotify_watch(wd, dir, std::strlen(dir), 0, uint64_t(st.st_dev), uint64_t(st.st_ino)));
    pl = payload_of_fd(in.fd, k);
    CHECK(describe(*k, pl) == std::string("inotify, watching 1:") + dir + " mask 0x100");
    image::FdCommon c{};
    c.payload_size = uint32_t(pl.size());
    char why[512];
    text::Builder wb(why, sizeof why);
    CHECK(k->verify(c, pl.data(), "", wb) == fd::Verdict::Ok);
    ::rmdir(dir);
    text::Builder wb2(why, sizeof why);
    CHECK(k->verify(c, pl.data(), "", wb2) == fd::Verdict::Missing);
    CHECK(std::string(why).find("watched " + std::string(dir) + ", and it no longer exists") != std::string::npos);

    Closer mf{::memfd_create("kind test", MFD_ALLOW_SEALING)};
    REQUIRE(::write(mf.fd, "contents", 8) == 8);
    REQUIRE(::fcntl(mf.fd, F_ADD_SEALS, F_SEAL_GROW) == 0);
    pl = payload_of_fd(mf.fd, k);
    CHECK(k->kind == image::FdKind::Memfd);
    const auto *m = reinterpret_cast<const image::FdMemfdPayload *>(pl.data());
    CHECK(m->size == 8);
    CHECK(m->seals == F_SEAL_GROW);
    // The capture maps the contents for the image, until the capture ends.
    REQUIRE(m->contents_addr != 0);
    CHECK(std::memcmp(reinterpret_cast<const void *>(m->contents_addr), "contents", 8) == 0);
    CHECK(describe(*k, pl) == "memfd, 8 bytes, seals 0x4");
    fd::end_fd_capture();
}

TEST_CASE("fd kinds: fdinfo text and device numbers", "[fd]")
{
    const char line[] = "tfd:       12 events: 80000019 data:     1234abcd  pos:0 ino:40f sdev:fe00001";
    const char *end = line + sizeof line - 1;
    uint64_t v = 0;
    CHECK((fd::FdInfo::field(line, end, "tfd:", 10, v) && v == 12));
    CHECK((fd::FdInfo::field(line, end, "events:", 16, v) && v == 0x80000019));
    CHECK((fd::FdInfo::field(line, end, "data:", 16, v) && v == 0x1234abcd));
    CHECK((fd::FdInfo::field(line, end, "ino:", 16, v) && v == 0x40f));  // not sdev's tail
    CHECK((fd::FdInfo::field(line, end, "sdev:", 16, v) && v == 0xfe00001));
    CHECK_FALSE(fd::FdInfo::field(line, end, "mask:", 16, v));
    const char *p = "0755";
    CHECK((fd::FdInfo::parse(p, p + 4, 8, v) && v == 0755));
    // The kernel's major << 20 | minor is st_dev's encoding (makedev) in stat.
    CHECK(fd::stat_dev_from_kernel(0xfe00001) == makedev(254, 1));
    CHECK(fd::stat_dev_from_kernel((uint64_t(259) << 20) | 300) == makedev(259, 300));
}
