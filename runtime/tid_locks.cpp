// Looking for locks that name an old thread id (see the header).
#include "tid_locks.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "maps_parser.h"
#include "sys/raw_syscall.h"

namespace ckpt::tid_locks {
namespace {

constexpr int kMutexKindMask = 3;        // PTHREAD_MUTEX_KIND_MASK_NP
constexpr int kMutexRobust = 16, kMutexPi = 32, kMutexPp = 64;
constexpr int kMutexPshared = 128, kMutexElision = 256, kMutexNoElision = 512;
constexpr uint32_t kFutexTidMask = 0x3fffffff;

// The old ids' range: most words of memory fall outside it and cost one comparison.
int32_t g_min, g_max;

bool is_old(const int32_t *old, int n, int32_t v)
{
    if (v < g_min || v > g_max) return false;
    for (int i = 0; i < n; ++i)
        if (old[i] == v) return true;
    return false;
}

// glibc's struct __pthread_mutex_s (40 bytes): __lock, __count, __owner, __nusers, __kind,
// __spins and __elision, then __list (prev, next; only a robust mutex is on a list).
struct Mutex {
    int32_t lock;
    uint32_t count;
    int32_t owner;
    uint32_t nusers;
    int32_t kind;
    int16_t spins, elision;
    uint64_t prev, next;
};

// struct __pthread_rwlock_arch_t (56 bytes).
struct Rwlock {
    uint32_t readers, writers, wrphase_futex, writers_futex, pad3, pad4;
    int32_t cur_writer, shared;
    int8_t rwelision;
    uint8_t pad1[7];
    uint64_t pad2;
    uint32_t flags;
};

// A held mutex of a kind that checks its owner, owned by `owner`, not robust.
bool mutex_shape(const Mutex &m)
{
    const int k = m.kind;
    if (k & ~(kMutexKindMask | kMutexRobust | kMutexPi | kMutexPp | kMutexPshared | kMutexElision | kMutexNoElision))
        return false;
    if (k & kMutexRobust) return false;  // on the robust list: found there
    const bool checks_owner = (k & kMutexKindMask) == 1 || (k & kMutexKindMask) == 2 || (k & (kMutexPi | kMutexPp));
    if (!checks_owner || m.lock == 0 || m.nusers == 0 || m.prev != 0 || m.next != 0) return false;
    if ((k & kMutexKindMask) == 1 && m.count == 0) return false;  // recursive: held at least once
    if (k & kMutexPi) return (uint32_t(m.lock) & kFutexTidMask) == uint32_t(m.owner);
    return true;
}

bool rwlock_shape(const Rwlock &r)
{
    return (r.readers & 2 /* WRLOCKED */) && (r.writers_futex == 1 || r.writers_futex == 2) &&
           (r.shared == 0 || r.shared == 1) && r.flags <= 2;
}

bool scan_range(uint64_t lo, uint64_t hi, const int32_t *old, int n, Found &out)
{
    for (uint64_t a = lo; a + sizeof(Rwlock) <= hi; a += 8) {
        const auto *m = reinterpret_cast<const Mutex *>(a);
        if (is_old(old, n, m->owner) && mutex_shape(*m)) {
            out = Found{a, m->owner, "an owner-checking mutex"};
            return true;
        }
        const auto *r = reinterpret_cast<const Rwlock *>(a);
        if (is_old(old, n, r->cur_writer) && rwlock_shape(*r)) {
            out = Found{a, r->cur_writer, "a write-locked rwlock"};
            return true;
        }
    }
    return false;
}

// The pages of [lo, hi) that hold data (present or swapped: /proc/self/pagemap), scanned; a
// page never touched is zeros and holds no lock. A lock may reach into the next page.
bool scan_region(int pagemap, uint64_t lo, uint64_t hi, const int32_t *old, int n, Found &out)
{
    constexpr uint64_t kPage = 4096;
    uint64_t flags[512];
    for (uint64_t p = lo; p < hi;) {
        const uint64_t count = (hi - p) / kPage < 512 ? (hi - p) / kPage : 512;
        const long r = pagemap >= 0 ? sys_pread(pagemap, flags, count * 8, int64_t(p / kPage * 8)) : -1;
        if (r != long(count * 8)) return scan_range(p, hi, old, n, out);  // cannot tell: all of it
        for (uint64_t i = 0; i < count; ++i) {
            const uint64_t page = p + i * kPage;
            if (!(flags[i] & (3ull << 62))) continue;
            const uint64_t end = page + kPage + sizeof(Rwlock) < hi ? page + kPage + sizeof(Rwlock) : hi;
            if (scan_range(page, end, old, n, out)) return true;
        }
        p += count * kPage;
    }
    return false;
}

// The robust list at `head` (program pointers: each checked to be mapped readable first).
bool walk_robust(uint64_t head, const int32_t *old, int n, const MapsEntry *maps, int nmaps, Found &out)
{
    auto readable = [&](uint64_t a, uint64_t len) {
        for (int i = 0; i < nmaps; ++i)
            if (a >= maps[i].start && a + len <= maps[i].end) return (maps[i].prot & PROT_READ) != 0;
        return false;
    };
    // struct robust_list_head: { next, futex_offset, list_op_pending }.
    if (!readable(head, 24)) return false;
    const int64_t futex_offset = *reinterpret_cast<const int64_t *>(head + 8);
    uint64_t e = *reinterpret_cast<const uint64_t *>(head);
    for (int k = 0; k < 4096 && e != head && e != 0; ++k) {
        const uint64_t word = e + uint64_t(futex_offset);
        if (!readable(word, 4) || !readable(e, 8)) return false;
        const int32_t tid = int32_t(*reinterpret_cast<const uint32_t *>(word) & kFutexTidMask);
        if (is_old(old, n, tid)) {
            out = Found{word, tid, "a robust mutex"};
            return true;
        }
        e = *reinterpret_cast<const uint64_t *>(e);
    }
    return false;
}

}  // namespace

bool find(const int32_t *old, int n, const uint64_t *robust_lists, int m, const Range *own, int k, Found &out)
{
    if (n <= 0) return false;
    g_min = old[0];
    g_max = old[0];
    for (int i = 1; i < n; ++i) {
        if (old[i] < g_min) g_min = old[i];
        if (old[i] > g_max) g_max = old[i];
    }
    if (g_min <= 0) g_min = 1;
    // /proc/self/maps, whole, into memory of our own (unmapped below).
    size_t cap = 1 << 20;
    char *buf = nullptr;
    long len = 0;
    for (;;) {
        buf = static_cast<char *>(sys_mmap(nullptr, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
        if (reinterpret_cast<long>(buf) < 0 && reinterpret_cast<long>(buf) > -4096) return false;
        const long fd = sys_openat(AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
        if (fd < 0) { sys_munmap(buf, cap); return false; }
        len = 0;
        for (;;) {
            const long r = sys_read(int(fd), buf + len, cap - size_t(len));
            if (r <= 0) break;
            len += r;
            if (size_t(len) == cap) break;
        }
        sys_close(int(fd));
        if (size_t(len) < cap) break;
        sys_munmap(buf, cap);
        cap *= 4;
    }
    // The entries after the text (one per line at most), in the same buffer.
    const size_t lines_at = (size_t(len) + 63) & ~size_t(63);
    auto *maps = reinterpret_cast<MapsEntry *>(buf + lines_at);
    const int max_maps = int((cap - lines_at) / sizeof(MapsEntry));
    int nmaps = 0;
    MapsLines lines(buf, size_t(len));
    const char *line;
    size_t ll;
    while (nmaps < max_maps && lines.next(line, ll))
        if (parse_maps_line(line, ll, maps[nmaps])) ++nmaps;
    bool found = false;
    const long pagemap = sys_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    for (int i = 0; i < nmaps && !found; ++i) {
        const MapsEntry &e = maps[i];
        if ((e.prot & (PROT_READ | PROT_WRITE)) != (PROT_READ | PROT_WRITE) || is_kernel_special(e)) continue;
        if (reinterpret_cast<uint64_t>(buf) >= e.start && reinterpret_cast<uint64_t>(buf) < e.end) continue;
        bool ours = false;
        for (int j = 0; j < k; ++j) ours = ours || (own[j].lo < e.end && own[j].hi > e.start);
        if (ours) continue;
        found = scan_region(int(pagemap), e.start, e.end, old, n, out);
    }
    if (pagemap >= 0) sys_close(int(pagemap));
    for (int i = 0; i < m && !found; ++i)
        if (robust_lists[i]) found = walk_robust(robust_lists[i], old, n, maps, nmaps, out);
    sys_munmap(buf, cap);
    return found;
}

}  // namespace ckpt::tid_locks
