#include "lazy_loader.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "../../runtime/status_protocol.h"
#include "../exit_codes.h"
#include "block_loads.h"
#include "lazy_extents.h"
#include "staging.h"

namespace ckpt::restorer::lazy {
namespace {

constexpr uint64_t kPage = image::kPageSize;
constexpr uint64_t kAncestorUnitPages = 64;
// Without these the loader could not follow the program: fork (the child's missing pages),
// mremap (pages moved before they were loaded), MADV_DONTNEED and munmap (pages that must stay
// zero, not be loaded).
constexpr uint64_t kFeatures =
    UFFD_FEATURE_EVENT_FORK | UFFD_FEATURE_EVENT_REMAP | UFFD_FEATURE_EVENT_REMOVE | UFFD_FEATURE_EVENT_UNMAP;

// What arrives together: a block of this image (checked against its checksum, perhaps
// compressed) or up to 64 pages an ancestor stored (raw; that image's page data was checked
// whole when the chain was opened, restore_chain.h).
struct Unit {
    int fd;
    bool block;
    image::BlockRecord rec;  // block
    uint64_t offset, len;    // ancestor bytes
    uint32_t first_piece, n_pieces;
    uint32_t region;
    uint64_t raw_len() const { return block ? rec.raw_size : len; }
};
struct Piece {
    uint64_t addr, len;  // where the image had them
};
struct Lookup {
    uint64_t addr, end;
    uint32_t unit;
};

struct Target {
    int fd = -1;
    bool primary = false;  // the restored process itself (not a child it forked meanwhile)
    std::vector<uint8_t> done;
    size_t left = 0;
    std::vector<Extent> ext;
};

enum class Copy { Ok, Again, Gone };

struct Loader {
    std::vector<Unit> units;
    std::vector<Piece> pieces;
    std::vector<Lookup> lookup;  // sorted by addr
    std::vector<Target> targets;
    std::vector<std::string> region_names;
    int status_fd = -1, done_w = -1;
    pid_t program = 0;
    uint64_t version = 0;
    std::vector<char> buf;
    uint32_t buf_unit = UINT32_MAX;
    size_t next = 0;
};

uint64_t pages_of(const image::RegionRecord &r) { return (r.end - r.start) / kPage; }

// ---- the program's side: a failure after the point of no return ------------------------

// Every process the program forked, each stopped as it is found (none escapes by forking).
void descendants(pid_t p, std::vector<pid_t> &out)
{
    std::error_code ec;
    for (const auto &task : std::filesystem::directory_iterator("/proc/" + std::to_string(p) + "/task", ec)) {
        std::ifstream children(task.path() / "children");
        pid_t c;
        while (children >> c) {
            ::kill(c, SIGSTOP);
            out.push_back(c);
            descendants(c, out);
        }
    }
}

[[noreturn]] void fail(Loader &l, const std::string &what)
{
    // Frozen first, so that no child escapes the kill by forking meanwhile.
    ::kill(l.program, SIGSTOP);
    std::vector<pid_t> all{l.program};
    descendants(l.program, all);
    for (pid_t p : all) ::kill(p, SIGKILL);
    const std::string msg = "lazy restore of version " + std::to_string(l.version) + ": " + what;
    std::fprintf(stderr, "ckpt-restore: %s; the program (pid %d) was killed, it never runs on with a wrong page\n",
                 msg.c_str(), int(l.program));
    if (l.status_fd >= 0) {
        StatusMessage m{};
        m.magic = kStatusMagic;
        m.type = StatusType::LazyFailed;
        m.pid = int32_t(l.program);
        m.version = l.version;
        std::snprintf(m.text, sizeof m.text, "%s", what.c_str());
        ::send(l.status_fd, &m, sizeof m, MSG_NOSIGNAL);
    }
    _exit(exit_code::kBadImage);
}

// ---- the userfaultfd -------------------------------------------------------------------

// UFFDIO_COPY of whole pages; pages already there (EEXIST) or no longer registered (ENOENT:
// unmapped or mapped over, an event said so) are skipped.
Copy copy_pages(int fd, uint64_t dst, const char *src, uint64_t len)
{
    bool page_by_page = false;  // a range over two mappings (the program split one) is refused whole
    while (len) {
        const uint64_t n = page_by_page ? kPage : len;
        uffdio_copy c{dst, reinterpret_cast<uint64_t>(src), n, 0, 0};
        if (::ioctl(fd, UFFDIO_COPY, &c) == 0) {
            dst += n, src += n, len -= n;
            continue;
        }
        const int err = errno;
        if (c.copy > 0) {  // part of it: go on after it
            dst += uint64_t(c.copy), src += c.copy, len -= uint64_t(c.copy);
            continue;
        }
        if (err == EAGAIN) return Copy::Again;  // the layout changes: read the event first
        if (err == ESRCH) return Copy::Gone;
        if (err == ENOENT && !page_by_page) {
            page_by_page = true;
            continue;
        }
        if (err == EEXIST || err == ENOENT) {
            dst += kPage, src += kPage, len -= kPage;
            continue;
        }
        return Copy::Gone;  // EFAULT, ENOMEM: the process cannot take it (it ends)
    }
    return Copy::Ok;
}

void zero_page(int fd, uint64_t addr)
{
    uffdio_zeropage z{{addr, kPage}, 0, 0};
    if (::ioctl(fd, UFFDIO_ZEROPAGE, &z) != 0) {
        uffdio_range r{addr, kPage};
        ::ioctl(fd, UFFDIO_WAKE, &r);
    }
}

// ---- loading ---------------------------------------------------------------------------

void load_unit(Loader &l, uint32_t u)
{
    if (l.buf_unit == u) return;
    const Unit &un = l.units[u];
    l.buf_unit = UINT32_MAX;
    std::string e;
    if (un.block) {
        static BlockReader reader;
        e = reader.read_raw(un.rec, un.fd, l.buf.data());
    } else if (pread_all(un.fd, l.buf.data(), un.len, un.offset) < 0) {
        e = kCannotRead;
    }
    if (!e.empty()) fail(l, "page data of region " + l.region_names[un.region] + " " + e);
    l.buf_unit = u;
}

// The unit's pages into one process, where they are now; Again: an event is to be read first.
Copy copy_unit(Loader &l, Target &t, uint32_t u)
{
    const Unit &un = l.units[u];
    uint64_t from = 0;
    for (uint32_t k = 0; k < un.n_pieces; ++k) {
        const Piece &p = l.pieces[un.first_piece + k];
        for (const Extent &e : t.ext) {
            if (!e.alive) continue;
            const uint64_t s = std::max(p.addr, e.start), en = std::min(p.addr + p.len, e.end);
            if (s >= en) continue;
            const Copy r = copy_pages(t.fd, s + uint64_t(e.delta), l.buf.data() + from + (s - p.addr), en - s);
            if (r != Copy::Ok) return r;
        }
        from += p.len;
    }
    return Copy::Ok;
}

void finish_target(Loader &l, size_t i)
{
    Target &t = l.targets[i];
    ::close(t.fd);  // the regions are ordinary memory from here on
    if (t.primary && l.done_w >= 0) {
        ::close(l.done_w);  // the runtime may checkpoint now
        l.done_w = -1;
    }
    l.targets.erase(l.targets.begin() + long(i));
}

const Lookup *find_unit(const Loader &l, uint64_t addr)
{
    auto it = std::upper_bound(l.lookup.begin(), l.lookup.end(), addr,
                               [](uint64_t a, const Lookup &k) { return a < k.addr; });
    if (it == l.lookup.begin()) return nullptr;
    --it;
    return addr < it->end ? &*it : nullptr;
}

void handle_messages(Loader &l);

// Copies unit u into target i (events read first whenever the layout is changing); false if
// the target is gone.
bool deliver(Loader &l, size_t &i, uint32_t u)
{
    for (;;) {
        // The events read below may have served a fault with another unit: the buffer is this
        // unit's again before every copy.
        load_unit(l, u);
        const Copy r = copy_unit(l, l.targets[i], u);
        if (r == Copy::Ok) {
            Target &t = l.targets[i];
            if (!t.done[u]) {
                t.done[u] = 1;
                --t.left;
            }
            return true;
        }
        if (r == Copy::Gone) {
            finish_target(l, i);
            return false;
        }
        const int fd = l.targets[i].fd;
        handle_messages(l);
        // The target list may have changed (a fork added one, an exit removed one).
        size_t k = 0;
        while (k < l.targets.size() && l.targets[k].fd != fd) ++k;
        if (k == l.targets.size()) return false;
        i = k;
    }
}

void on_fault(Loader &l, size_t i, uint64_t addr)
{
    addr &= ~(kPage - 1);
    const int fd = l.targets[i].fd;
    const Extent *at = find_now(l.targets[i].ext, addr);
    const Lookup *k = at ? find_unit(l, addr - uint64_t(at->delta)) : nullptr;
    if (!k) {
        zero_page(fd, addr);  // never saved, dropped by the program, or new memory
        return;
    }
    size_t idx = i;
    if (!deliver(l, idx, k->unit)) return;
    uffdio_range r{addr, kPage};  // already there (a copy raced with it): wake the thread
    ::ioctl(fd, UFFDIO_WAKE, &r);
}

void on_message(Loader &l, size_t i, const uffd_msg &m)
{
    Target &t = l.targets[i];
    switch (m.event) {
    case UFFD_EVENT_PAGEFAULT:
        on_fault(l, i, m.arg.pagefault.address);
        break;
    case UFFD_EVENT_FORK: {
        Target child = t;  // what was missing in the parent is missing in the child
        child.fd = int(m.arg.fork.ufd);
        child.primary = false;
        l.targets.push_back(std::move(child));
        break;
    }
    case UFFD_EVENT_REMAP:
        move_range(t.ext, m.arg.remap.from, m.arg.remap.to, m.arg.remap.len);
        break;
    case UFFD_EVENT_REMOVE:
    case UFFD_EVENT_UNMAP:
        kill_range(t.ext, m.arg.remove.start, m.arg.remove.end);
        break;
    default:
        break;
    }
}

void handle_messages(Loader &l)
{
    for (bool any = true; any;) {
        any = false;
        for (size_t i = 0; i < l.targets.size(); ++i) {
            uffd_msg m;
            const ssize_t n = ::read(l.targets[i].fd, &m, sizeof m);
            if (n != ssize_t(sizeof m)) continue;
            any = true;
            on_message(l, i, m);
        }
    }
}

[[noreturn]] void run(Loader &l, int go_r)
{
    char go = 0;
    ssize_t n;
    do n = ::read(go_r, &go, 1);
    while (n < 0 && errno == EINTR);
    ::close(go_r);
    if (n != 1) _exit(0);  // the restore ended before the program ran
    std::vector<pollfd> fds;
    while (!l.targets.empty()) {
        fds.clear();
        for (const Target &t : l.targets) fds.push_back({t.fd, POLLIN, 0});
        // Faults and events first; when no unit is left to stream, wait for them.
        const bool streaming = l.next < l.units.size();
        ::poll(fds.data(), fds.size(), streaming ? 0 : 100);
        handle_messages(l);
        if (!streaming) {
            // Every unit was offered to every target; one that still misses some (a copy it
            // could not take then) gets them again.
            bool again = false;
            for (const Target &t : l.targets) again |= t.left > 0;
            l.next = 0;
            if (!again) break;
        }
        if (l.next >= l.units.size()) continue;
        const uint32_t u = uint32_t(l.next++);
        bool wanted = false;
        for (const Target &t : l.targets) wanted |= !t.done[u];
        if (!wanted) continue;
        for (size_t i = 0; i < l.targets.size();) {
            size_t idx = i;
            if (l.targets[i].done[u]) { ++i; continue; }
            if (!deliver(l, idx, u)) continue;  // gone: the next one moved into place i
            if (l.targets[idx].left == 0) finish_target(l, idx);
            else i = idx + 1;
        }
    }
    while (!l.targets.empty()) finish_target(l, l.targets.size() - 1);
    _exit(0);
}

std::string hex_range(uint64_t a, uint64_t b)
{
    char s[64];
    std::snprintf(s, sizeof s, "%#lx-%#lx", (unsigned long)a, (unsigned long)b);
    return s;
}

}  // namespace

bool eligible(const Image &img, const image::RegionRecord &r)
{
    return img.header.format_version >= 6 && stage_by_move(r) && r.prot == (PROT_READ | PROT_WRITE) &&
           (r.n_blocks > 0 || r.inherited_pages > 0);
}

int open_userfaultfd(std::string &why)
{
    // Faults from the kernel too (a read() into memory not loaded yet): not UFFD_USER_MODE_ONLY.
    int fd = int(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
    if (fd < 0) {
        const int dev = ::open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
        if (dev >= 0) {
            fd = ::ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC | O_NONBLOCK);
            ::close(dev);
        }
    }
    if (fd < 0) {
        why = std::string("no userfaultfd that serves the kernel's faults too (") + std::strerror(errno) +
              "; vm.unprivileged_userfaultfd is 0 and /dev/userfaultfd is not open to this user)";
        return -1;
    }
    uffdio_api api{UFFD_API, kFeatures, 0};
    if (::ioctl(fd, UFFDIO_API, &api) != 0 || (api.features & kFeatures) != kFeatures) {
        why = std::string("the kernel refuses the userfaultfd events lazy restore follows (fork events need "
                          "CAP_SYS_PTRACE): ") + std::strerror(errno);
        ::close(fd);
        return -1;
    }
    return fd;
}

bool start(const Image &img, const ChainSources &sources, const std::vector<bool> &lazy, int uffd, int status_fd,
           int done_fd_at, Handles &out, std::string &why)
{
    Loader l;
    l.status_fd = status_fd;
    l.program = ::getpid();
    l.version = img.process.checkpoint_version;
    Target t;
    t.fd = uffd;
    t.primary = true;
    std::vector<BlockLoad> loads;
    std::vector<BlockPiece> bpieces;
    plan_loads(img, loads, bpieces);
    l.region_names.resize(img.regions.size());
    for (uint32_t ri = 0; ri < img.regions.size(); ++ri) {
        const image::RegionRecord &r = img.regions[ri];
        if (!lazy[ri]) continue;
        l.region_names[ri] = hex_range(r.start, r.end);
        t.ext.push_back({r.start, r.end, 0, true});
    }
    for (const BlockLoad &b : loads) {
        if (!lazy[b.region]) continue;
        const image::RegionRecord &r = img.regions[b.region];
        Unit u{};
        u.fd = sources.fds[0];
        u.block = true;
        u.rec = b.block;
        u.region = b.region;
        u.first_piece = uint32_t(l.pieces.size());
        for (uint32_t k = 0; k < b.n_pieces; ++k)
            l.pieces.push_back({r.start + bpieces[b.first_piece + k].dst, bpieces[b.first_piece + k].len});
        u.n_pieces = uint32_t(l.pieces.size()) - u.first_piece;
        l.units.push_back(u);
    }
    // Pages the ancestors stored, in units of 64 pages.
    for (uint32_t ri = 0; ri < img.regions.size(); ++ri) {
        if (!lazy[ri] || ri >= sources.runs.size()) continue;
        const image::RegionRecord &r = img.regions[ri];
        for (const plan_run &run : sources.runs[ri]) {
            if (run.src == 0) continue;  // this image's: its blocks above
            if (run.src >= sources.fds.size() || run.first_page + run.n_pages > pages_of(r)) {
                why = "an inherited run of region " + hex_range(r.start, r.end) + " lies outside it";
                return false;
            }
            for (uint64_t p = 0; p < run.n_pages; p += kAncestorUnitPages) {
                const uint64_t n = std::min(kAncestorUnitPages, run.n_pages - p);
                Unit u{};
                u.fd = sources.fds[run.src];
                u.offset = run.src_offset + p * kPage;
                u.len = n * kPage;
                u.region = ri;
                u.first_piece = uint32_t(l.pieces.size());
                u.n_pieces = 1;
                l.pieces.push_back({r.start + (run.first_page + p) * kPage, n * kPage});
                l.units.push_back(u);
            }
        }
    }
    uint64_t most = 0;
    for (uint32_t u = 0; u < l.units.size(); ++u) {
        const Unit &un = l.units[u];
        uint64_t covered = 0;
        for (uint32_t k = 0; k < un.n_pieces; ++k) {
            const Piece &p = l.pieces[un.first_piece + k];
            l.lookup.push_back({p.addr, p.addr + p.len, u});
            covered += p.len;
        }
        if (covered != un.raw_len() || un.raw_len() > (64u << 20)) {
            why = "a block of region " + l.region_names[un.region] + " does not cover its runs";
            return false;
        }
        most = std::max(most, un.raw_len());
    }
    std::sort(l.lookup.begin(), l.lookup.end(), [](const Lookup &a, const Lookup &b) { return a.addr < b.addr; });
    for (size_t k = 1; k < l.lookup.size(); ++k)
        if (l.lookup[k].addr < l.lookup[k - 1].end) {
            why = "two blocks of the image fill the same page";
            return false;
        }
    l.buf.resize(most);
    t.done.assign(l.units.size(), 0);
    t.left = l.units.size();
    l.targets.push_back(std::move(t));

    int go[2], done[2];
    if (::pipe2(go, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        return false;
    }
    if (::pipe2(done, O_CLOEXEC) != 0) {
        why = std::string("pipe: ") + std::strerror(errno);
        ::close(go[0]), ::close(go[1]);
        return false;
    }
    std::fflush(nullptr);
    const pid_t mid = ::fork();
    if (mid == 0) {
        // Orphaned at once: the loader is the launcher's child (it is the subreaper), not one
        // the program could wait for.
        if (::fork() != 0) _exit(0);
        ::close(go[1]);
        ::close(done[0]);
        l.done_w = done[1];
        ::prctl(PR_SET_NAME, "ckpt-loader", 0, 0, 0);
        // Nothing but SIGKILL ends it while the program depends on it: the terminal's signals
        // go to another session, and the launcher's to the program.
        ::setsid();
        for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE, SIGUSR1, SIGUSR2}) ::signal(s, SIG_IGN);
        if (std::FILE *f = std::fopen("/proc/self/oom_score_adj", "w")) {
            std::fputs("-1000", f);  // refused without privilege: the default stays
            std::fclose(f);
        }
        const int null = ::open("/dev/null", O_RDWR);
        if (null >= 0) ::dup2(null, 0), ::dup2(null, 1), ::close(null);
        run(l, go[0]);
    }
    ::close(go[0]);
    ::close(done[1]);
    int st = 0;
    if (mid < 0 || ::waitpid(mid, &st, 0) != mid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        why = std::string("cannot start the loader: ") + std::strerror(errno);
        ::close(go[1]), ::close(done[0]);
        return false;
    }
    if (::dup3(done[0], done_fd_at, O_CLOEXEC) < 0) {
        why = std::string("cannot place the loader's descriptor: ") + std::strerror(errno);
        ::close(go[1]), ::close(done[0]);
        return false;
    }
    ::close(done[0]);
    out.uffd = uffd;
    out.go_w = go[1];
    out.done_r = done_fd_at;
    return true;
}

}  // namespace ckpt::restorer::lazy
