#include "write_tracker.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>

#include "maps_parser.h"
#include "sys/raw_syscall.h"
#include "text.h"

// The installed kernel headers predate these (Linux 6.7 and later; this machine runs 6.18).
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1 << 13)
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC (1 << 15)
#endif

namespace ckpt::write_tracker {
namespace {

// linux/fs.h of Linux 6.7 (PAGEMAP_SCAN).
struct PageRegion {
    uint64_t start, end, categories;
};
struct PmScanArg {
    uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
        category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr uint64_t kPageIsWritten = 1u << 1;
constexpr uint64_t kPageIsPresent = 1u << 3;
constexpr uint64_t kPageIsSwapped = 1u << 4;
constexpr uint64_t kScanWpMatching = 1u << 0;
constexpr uint64_t kScanCheckWpAsync = 1u << 1;

// The regions registered at the last scan, by address. Two tables: the next one is built while
// the last one is read.
constexpr size_t kMaxRecords = 8192;
Range g_tables[2][kMaxRecords];

// MADV_FREE ranges since the last scan (note_freed); appended by program threads, read and
// emptied by the checkpoint, which never runs while a note_freed is under way.
constexpr uint32_t kMaxFreed = 256;  // Changes::freed_unwritten looks through them all
Range g_freed[kMaxFreed];
uint32_t g_n_freed = 0;
bool g_freed_overflow = false;

struct State {
    int uffd = -1;
    int32_t pid = 0;            // the process the registrations belong to
    uint64_t base_version = 0;  // the version of the last scan; 0: none usable
    int table = 0;
    size_t n = 0;
    bool disabled = false;
} g;

bool candidate(const MapsEntry &e)
{
    if (e.shared || e.inode != 0 || is_kernel_special(e)) return false;
    return e.name_len == 0 || e.name[0] == '[';  // [heap], [stack], [anon:...]
}

// A userfaultfd that is not the tracker's: the program (or a library) uses the mechanism
// itself. Its registrations and ours would collide (EBUSY), and its own write-protection would
// make ours meaningless.
bool foreign_userfaultfd(char *buf, size_t size)
{
    long dir = sys_openat(AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0) return false;
    const size_t half = size / 2;
    char *link = buf + half;
    bool found = false;
    for (;;) {
        const long n = sys_getdents64(int(dir), buf, half);
        if (n <= 0) break;
        for (long off = 0; off < n && !found;) {
            auto *d = reinterpret_cast<linux_dirent64 *>(buf + off);
            off += d->d_reclen;
            const char *p = d->d_name;
            if (*p < '0' || *p > '9') continue;
            uint64_t num = 0;
            text::parse_u64(p, p + text::length(p), num);
            if (int(num) == int(dir) || int(num) == g.uffd) continue;
            const long ll = sys_readlinkat(int(dir), d->d_name, link, 63);
            if (ll <= 0) continue;
            link[ll] = 0;
            found = text::equal(link, "anon_inode:[userfaultfd]");
        }
        if (found) break;
    }
    sys_close(int(dir));
    return found;
}

void unregister_all()
{
    if (g.uffd < 0) return;
    for (size_t i = 0; i < g.n; ++i) {
        const Range &r = g_tables[g.table][i];
        uffdio_range range{r.start, r.end - r.start};
        sys_ioctl(g.uffd, UFFDIO_UNREGISTER, &range);
    }
    g.n = 0;
}

void close_tracker()
{
    unregister_all();
    if (g.uffd >= 0) sys_close(g.uffd);
    g.uffd = -1;
    g.base_version = 0;
}

// Opens the userfaultfd: user-mode faults only (what unprivileged processes may have), never
// blocking, write-protection that only records (WP_ASYNC). WP_UNPOPULATED is not asked for:
// it would make the kernel build page tables for every unpopulated page it protects (131 MB
// of them for a 64 GiB sparse reservation, measured), and it is not needed: a page faulted in
// after a scan is unprotected, that is written.
const char *open_tracker()
{
    const long fd = RAW1(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | UFFD_USER_MODE_ONLY);
    if (fd < 0) return "userfaultfd refused by the kernel: full checkpoints";
    uffdio_api api{UFFD_API, UFFD_FEATURE_WP_ASYNC, 0};
    if (sys_ioctl(int(fd), UFFDIO_API, &api) != 0 || !(api.features & UFFD_FEATURE_WP_ASYNC)) {
        sys_close(int(fd));
        return "no asynchronous userfaultfd write-protection (Linux 6.7): full checkpoints";
    }
    g.uffd = int(fd);
    g.pid = int32_t(sys_getpid());
    g.n = 0;
    g.base_version = 0;
    return nullptr;
}

// One PAGEMAP_SCAN pass over [start, end): the present or swapped pages that are not
// protected, protected again as they are found. Only present pages are matched: a hole
// reported as "written" and protected would get page tables built for it. `on_written` sees
// each written range; returns 0, or -errno (-EPERM: part of the range is not registered).
template <class F>
long scan(int pagemap, uint64_t start, uint64_t end, PageRegion *vec, size_t vec_len, uint64_t flags, F on_written)
{
    while (start < end) {
        PmScanArg arg{};
        arg.size = sizeof arg;
        arg.flags = kScanWpMatching | flags;
        arg.start = start;
        arg.end = end;
        arg.vec = reinterpret_cast<uint64_t>(vec);
        arg.vec_len = vec_len;
        arg.category_mask = kPageIsWritten;
        arg.category_anyof_mask = kPageIsPresent | kPageIsSwapped;
        arg.return_mask = kPageIsWritten;
        const long n = sys_ioctl(pagemap, kPagemapScan, &arg);
        if (n < 0) return n;
        for (long i = 0; i < n; ++i) on_written(vec[i].start, vec[i].end);
        if (arg.walk_end <= start) return -EIO;  // no progress: never loop forever
        start = arg.walk_end;
    }
    return 0;
}

// The record among the last scan's that overlaps [s, e), or nullptr. A region that grew in
// place (the stack, mremap in place) still overlaps the range it had.
const Range *find_record(uint64_t s, uint64_t e)
{
    const Range *t = g_tables[g.table];
    size_t lo = 0, hi = g.n;
    while (lo < hi) {  // first record ending after s
        const size_t mid = lo + (hi - lo) / 2;
        if (t[mid].end <= s) lo = mid + 1;
        else hi = mid;
    }
    return lo < g.n && t[lo].start < e ? &t[lo] : nullptr;
}

}  // namespace

const Range *Changes::tracked_region(uint64_t page) const
{
    size_t lo = 0, hi = tracked.size();
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (tracked[mid].end <= page) lo = mid + 1;
        else hi = mid;
    }
    return lo < tracked.size() && tracked[lo].start <= page ? &tracked[lo] : nullptr;
}

namespace {
// The first written range ending after `page`: its index, or written.size().
size_t first_written_after(const ArenaVector<Range> &w, uint64_t page)
{
    size_t lo = 0, hi = w.size();
    while (lo < hi) {
        const size_t mid = lo + (hi - lo) / 2;
        if (w[mid].end <= page) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}
}  // namespace

bool Changes::freed_unwritten(uint64_t page) const
{
    if (freed.size() == 0 || !tracked_region(page)) return false;
    bool in = false;
    for (size_t i = 0; i < freed.size() && !in; ++i) in = freed[i].start <= page && page < freed[i].end;
    if (!in) return false;
    const size_t i = first_written_after(written, page);
    return !(i < written.size() && written[i].start <= page);
}

bool Changes::unchanged(uint64_t page) const
{
    if (base_version == 0 || !tracked_region(page)) return false;
    const size_t i = first_written_after(written, page);
    return !(i < written.size() && written[i].start <= page);
}

uint64_t Changes::same_until(uint64_t page, uint64_t limit) const
{
    const Range *r = base_version ? tracked_region(page) : nullptr;
    if (!r) {
        // Untracked up to the next tracked region.
        size_t lo = 0, hi = tracked.size();
        while (lo < hi) {
            const size_t mid = lo + (hi - lo) / 2;
            if (tracked[mid].end <= page) lo = mid + 1;
            else hi = mid;
        }
        const uint64_t next = base_version && lo < tracked.size() ? tracked[lo].start : ~0ull;
        return next < limit ? next : limit;
    }
    const uint64_t region_end = r->end < limit ? r->end : limit;
    const size_t i = first_written_after(written, page);
    if (i < written.size() && written[i].start <= page)  // written: until that range ends
        return written[i].end < region_end ? written[i].end : region_end;
    const uint64_t next = i < written.size() ? written[i].start : ~0ull;
    return next < region_end ? next : region_end;
}

Status at_checkpoint(const char *maps, size_t maps_len, uint64_t skip_begin, uint64_t skip_end, uint64_t version,
                     char *scratch, size_t scratch_size, Changes &out, const char *&why)
{
    const uint64_t t0 = sys_monotonic_ns();
    out.base_version = 0;
    out.tracked.truncate(0);
    out.written.truncate(0);
    out.freed.truncate(0);
    why = nullptr;
    if (g.disabled) {
        why = "incremental checkpoints off";
        return Status::Off;
    }
    if (g.uffd >= 0 && g.pid != int32_t(sys_getpid())) {
        // A child the program forked: the registrations were its parent's, the descriptor is
        // a copy of the parent's userfaultfd (registering through it would act on the parent).
        sys_close(g.uffd);
        forget();
    }
    // Checked at every checkpoint: tracking resumes (with a full checkpoint) once it is gone.
    if (foreign_userfaultfd(scratch, scratch_size)) {
        close_tracker();
        why = "the program uses userfaultfd itself: full checkpoints";
        return Status::Foreign;
    }
    if (g.uffd < 0) {
        if ((why = open_tracker())) return Status::Unavailable;
    }
    const long pagemap = sys_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (pagemap < 0) {
        why = "cannot open /proc/self/pagemap for the write tracker: a full checkpoint";
        return Status::Failed;
    }
    auto *vec = reinterpret_cast<PageRegion *>(scratch);
    const size_t vec_len = scratch_size / sizeof(PageRegion);
    const uint64_t base = g.base_version;
    const int next = 1 - g.table;
    size_t n_next = 0;
    Status status = Status::Tracking;

    MapsLines lines(maps, maps_len);
    const char *line;
    size_t line_len;
    while (lines.next(line, line_len)) {
        MapsEntry e;
        if (!parse_maps_line(line, line_len, e) || !candidate(e)) continue;
        if (e.start < skip_end && skip_begin < e.end) continue;  // the capture arena
        if (n_next == kMaxRecords) break;                        // the rest stays untracked
        bool tracked = false;
        if (base && find_record(e.start, e.end)) {
            // Registered still (the scan refuses with EPERM otherwise): the same region.
            const size_t mark = out.written.size();
            bool overflow = false;
            const long r = scan(int(pagemap), e.start, e.end, vec, vec_len, kScanCheckWpAsync,
                                [&](uint64_t s, uint64_t t) {
                                    Range *w = out.written.push();
                                    if (w) *w = {s, t};
                                    else overflow = true;
                                });
            if (r == 0 && !overflow) {
                tracked = true;
            } else {
                out.written.truncate(mark);
                if (r != -EPERM && r != 0) status = Status::Failed;
            }
            // EPERM: not registered (new at this address); other failures and overflow: the
            // region is saved whole this time and protected again below.
            if (r == 0 && !tracked) {
                g_tables[next][n_next++] = {e.start, e.end};
                continue;
            }
        }
        if (tracked) {
            Range *t = out.tracked.push();
            if (!t) {
                // Cannot say it is tracked: saved whole (its written ranges go unused).
                status = Status::Failed;
            } else {
                *t = {e.start, e.end};
            }
            g_tables[next][n_next++] = {e.start, e.end};
            continue;
        }
        // New (or no longer registered): register and protect what is present now.
        uffdio_register reg{};
        reg.range = {e.start, e.end - e.start};
        reg.mode = UFFDIO_REGISTER_MODE_WP;
        if (sys_ioctl(g.uffd, UFFDIO_REGISTER, &reg) != 0) continue;  // a kind it refuses: untracked
        if (scan(int(pagemap), e.start, e.end, vec, vec_len, 0, [](uint64_t, uint64_t) {}) != 0) {
            uffdio_range range{e.start, e.end - e.start};
            sys_ioctl(g.uffd, UFFDIO_UNREGISTER, &range);
            continue;
        }
        g_tables[next][n_next++] = {e.start, e.end};
    }
    sys_close(int(pagemap));
    g.table = next;
    g.n = n_next;
    // The ranges freed since the last scan; only with a usable result (the regions tracked).
    const uint32_t n_freed = __atomic_load_n(&g_n_freed, __ATOMIC_ACQUIRE);
    for (uint32_t i = 0; i < n_freed && i < kMaxFreed && status == Status::Tracking && !g_freed_overflow; ++i) {
        Range *f = out.freed.push();
        if (!f) break;
        *f = g_freed[i];
    }
    __atomic_store_n(&g_n_freed, 0u, __ATOMIC_RELEASE);
    g_freed_overflow = false;
    // A failed scan (not a region that is new) leaves nothing to inherit this time; the
    // protection is re-armed, so the next checkpoint is relative to this one.
    out.base_version = status == Status::Tracking ? base : 0;
    if (status != Status::Tracking) {
        out.tracked.truncate(0);
        out.written.truncate(0);
        out.freed.truncate(0);
        why = "the write tracker's scan failed: a full checkpoint";
    }
    g.base_version = version;
    out.scan_ns = sys_monotonic_ns() - t0;
    return status;
}

void note_freed(uint64_t start, uint64_t len)
{
    if (g.disabled || g.uffd < 0 || g.pid != int32_t(sys_getpid()) || len == 0) return;
    const uint64_t end = (start + len + 4095) & ~uint64_t(4095);
    start &= ~uint64_t(4095);
    const uint32_t slot = __atomic_fetch_add(&g_n_freed, 1u, __ATOMIC_ACQ_REL);
    if (slot >= kMaxFreed) {
        // Not remembered: not protected either, so its pages are saved as any others.
        g_freed_overflow = true;
        return;
    }
    g_freed[slot] = {0, 0};
    const long pagemap = sys_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (pagemap < 0) return;
    PageRegion vec[64];
    // Registered regions only (CHECK_WPASYNC): elsewhere nothing is protected, nothing noted.
    if (scan(int(pagemap), start, end, vec, 64, kScanCheckWpAsync, [](uint64_t, uint64_t) {}) == 0)
        g_freed[slot] = {start, end};
    sys_close(int(pagemap));
}

void forget()
{
    // The restored process has no registrations, and not this descriptor (internal: never
    // captured); its number may be the program's now.
    g.uffd = -1;
    g.n = 0;
    g.base_version = 0;
}

void set_enabled(bool on)
{
    if (!on) close_tracker();
    g.disabled = !on;
}

bool enabled() { return !g.disabled; }

int fd() { return g.uffd; }

void set_fd(int fd) { g.uffd = fd; }

}  // namespace ckpt::write_tracker
