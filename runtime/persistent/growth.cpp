#include "growth.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../runtime_state.h"
#include "../sys/raw_syscall.h"
#include "../sys/safe_path.h"
#include "growth_format.h"
#include "pct_log.h"

namespace ckpt::persist {

namespace {

struct GrowthMap {
    pct::GrowthHeader *header = nullptr;  // mapped while non-null
    pct::GrowthSlot *slots = nullptr;
    bool failed = false;  // cannot be had in this epoch: files get no slot
} g_map;

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

constexpr uint64_t kMapPage = 4096;
uint64_t g_backed_pages = 0;  // the map's first pages known to have their storage

// Whether the map's pages up to the one holding byte `at` have their storage: a store into a
// page of a shared file mapping that the file system has no room for is a SIGBUS to the
// program (seen on a full tmpfs). Pages get their storage before their first use, all those
// below the one asked for with it (so that the mark covers only backed pages), and a system
// call only when a slot opens a page beyond the mark. Where there is no room the file goes
// without a slot (not compared), as when the map cannot be had at all. Page by page, so that a
// job directory holds the pages in use, not 128 KiB an epoch.
bool backed(void *map, uint64_t at)
{
    const uint64_t want = at / kMapPage + 1;
    uint64_t have = __atomic_load_n(&g_backed_pages, __ATOMIC_ACQUIRE);
    if (want <= have) return true;
    char *from = static_cast<char *>(map) + have * kMapPage;
    if (sys_madvise(from, (want - have) * kMapPage, MADV_POPULATE_WRITE) != 0) return false;
    while (have < want && !__atomic_compare_exchange_n(&g_backed_pages, &have, want, true, __ATOMIC_RELEASE,
                                                        __ATOMIC_ACQUIRE)) {}
    return true;
}

// Maps JOB/grow-K.map of the current epoch, made fresh unless it belongs to the current log
// (a program that exec()s, or a checkpoint that failed after growth_unmap, goes on counting).
bool ensure_map()
{
    if (g_map.header) return true;
    if (g_map.failed || !g_rt.job_dir[0] || ensure_log() != 0) return false;
    char name[64];
    pct::epoch_name(name, sizeof name, "grow-", g_log.epoch, ".map");
    long dfd = open_job_dir();
    if (dfd < 0) { g_map.failed = true; return false; }
    long fd = open_beneath(int(dfd), name, O_RDWR | O_CREAT, 0600);
    sys_close(int(dfd));
    struct stat st;
    if (fd < 0 || sys_fstat(int(fd), &st) != 0 || !S_ISREG(st.st_mode) || long(st.st_uid) != sys_geteuid()) {
        if (fd >= 0) sys_close(int(fd));
        g_map.failed = true;
        return false;
    }
    sys_fchmod(int(fd), 0600);  // exactly 0600 whatever the umask: recovery refuses anything else
    pct::GrowthHeader h{};
    bool mine = uint64_t(st.st_size) == pct::kGrowthMapSize && sys_pread(int(fd), &h, sizeof h, 0) == long(sizeof h) &&
                h.version == pct::kGrowthVersion && h.slot_count == pct::kGrowthSlots && h.epoch == g_log.epoch &&
                h.log_nonce == g_log.nonce;
    for (int i = 0; mine && i < 8; ++i) mine = h.magic[i] == pct::kGrowthMagic[i];
    // Another log instance's counts (or none): start again from zeros, the header written last
    // so that a map is never taken for this log's with another's slots.
    if (!mine && (sys_ftruncate(int(fd), 0) != 0 || sys_ftruncate(int(fd), int64_t(pct::kGrowthMapSize)) != 0)) {
        sys_close(int(fd));
        g_map.failed = true;
        return false;
    }
    void *p = sys_mmap(nullptr, pct::kGrowthMapSize, PROT_READ | PROT_WRITE, MAP_SHARED, int(fd), 0);
    sys_close(int(fd));
    if (sys_is_err(long(p))) { g_map.failed = true; return false; }
    __atomic_store_n(&g_backed_pages, 0, __ATOMIC_RELEASE);  // a new mapping (a new epoch's file)
    if (!backed(p, 0)) {
        sys_munmap(p, pct::kGrowthMapSize);
        g_map.failed = true;
        return false;
    }
    auto *hp = static_cast<pct::GrowthHeader *>(p);
    if (!mine) {
        hp->version = pct::kGrowthVersion;
        hp->slot_count = pct::kGrowthSlots;
        hp->epoch = g_log.epoch;
        hp->log_nonce = g_log.nonce;
        __atomic_thread_fence(__ATOMIC_RELEASE);
        for (int i = 0; i < 8; ++i) hp->magic[i] = pct::kGrowthMagic[i];
    }
    g_map.slots = reinterpret_cast<pct::GrowthSlot *>(static_cast<char *>(p) + sizeof(pct::GrowthHeader));
    __atomic_store_n(&g_map.header, hp, __ATOMIC_RELEASE);
    return true;
}

pct::GrowthSlot *slot_of(const FileState *f)
{
    pct::GrowthHeader *h = __atomic_load_n(&g_map.header, __ATOMIC_ACQUIRE);
    return h && f->grow_slot ? &g_map.slots[f->grow_slot - 1] : nullptr;
}

void add(pct::GrowthSlot *s, uint64_t n)
{
    if (__atomic_load_n(&s->grown, __ATOMIC_RELAXED) == pct::kUnknownGrowth) return;
    uint64_t old = __atomic_fetch_add(&s->grown, n, __ATOMIC_RELAXED);
    if (old + n < old || old + n == pct::kUnknownGrowth) __atomic_store_n(&s->grown, pct::kUnknownGrowth - 1, __ATOMIC_RELAXED);
}

// Growth to `end`: what lies beyond the known size.
void add_to(pct::GrowthSlot *s, uint64_t end)
{
    uint64_t k = __atomic_load_n(&s->known_size, __ATOMIC_RELAXED);
    while (end > k && !__atomic_compare_exchange_n(&s->known_size, &k, end, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED)) {}
    if (end > k) add(s, end - k);
}

// Whether the file is counted at all (created in the epoch: deleted by the undo anyway).
bool counted(const FileState *f) { return f->grow_slot && !(f->flags & kCreated); }

}  // namespace

void growth_track(FileState *f, uint64_t dev, uint64_t ino, uint64_t size)
{
    if (!f || f->grow_slot || !ensure_map()) return;
    const uint64_t i = __atomic_fetch_add(&g_map.header->used, 1, __ATOMIC_RELAXED);
    if (i >= pct::kGrowthSlots) return;  // full: this file is not compared
    if (!backed(g_map.header, sizeof(pct::GrowthHeader) + i * sizeof(pct::GrowthSlot))) return;  // no room: not compared
    pct::GrowthSlot &s = g_map.slots[i];
    s.grown = 0;
    s.known_size = size;
    s.dev = dev;
    s.ino = ino;
    f->grow_slot = uint32_t(i + 1);
}

void growth_unknown(FileState *f)
{
    if (!f || !counted(f) || !ensure_map()) return;
    __atomic_store_n(&slot_of(f)->grown, pct::kUnknownGrowth, __ATOMIC_RELAXED);
}

bool grow_fast(FileState *f, bool append, bool moved, int64_t offset, uint64_t len)
{
    if (!counted(f)) return true;
    pct::GrowthSlot *s = slot_of(f);
    if (!s) return false;  // unmapped by a checkpoint that did not happen: remap
    if (append) {
        add(s, len);
        __atomic_fetch_add(&s->known_size, len, __ATOMIC_RELAXED);
    } else if (offset >= 0) {
        add_to(s, uint64_t(offset) + len);
    } else {
        // At the descriptor's offset: within the file (it grows by at most len) unless the
        // offset may have been moved beyond the end.
        if (moved || (__atomic_load_n(&f->flags, __ATOMIC_RELAXED) & kShrunk)) return false;
        add(s, len);
    }
    return true;
}

void grow_slow(int fd, FileState *f, bool append, int64_t offset, uint64_t len)
{
    if (!counted(f) || !ensure_map()) return;
    if (!append && offset < 0) {
        long off = sys_lseek(fd, 0, SEEK_CUR);
        if (off >= 0) offset = off;
    }
    grow_fast(f, append, false, offset, len);
}

void grow_resize(FileState *f, uint64_t size)
{
    if (!counted(f) || !ensure_map()) return;
    pct::GrowthSlot *s = slot_of(f);
    if (size >= s->known_size) {
        add_to(s, size);
        return;
    }
    __atomic_store_n(&s->known_size, size, __ATOMIC_RELAXED);
    // A descriptor's offset may now lie beyond the end: writes at it go through the slow path.
    __atomic_or_fetch(&f->flags, uint32_t(kShrunk), __ATOMIC_RELEASE);
}

void grow_to(FileState *f, uint64_t end)
{
    if (!counted(f) || !ensure_map()) return;
    add_to(slot_of(f), end);
}

void grow_insert(FileState *f, uint64_t by)
{
    if (!counted(f) || !ensure_map()) return;
    pct::GrowthSlot *s = slot_of(f);
    add(s, by);
    __atomic_fetch_add(&s->known_size, by, __ATOMIC_RELAXED);
}

void grow_collapse(FileState *f, uint64_t by)
{
    if (!counted(f) || !ensure_map()) return;
    pct::GrowthSlot *s = slot_of(f);
    const uint64_t k = s->known_size;
    grow_resize(f, k > by ? k - by : 0);
}

void growth_unmap()
{
    pct::GrowthHeader *h = __atomic_exchange_n(&g_map.header, nullptr, __ATOMIC_ACQ_REL);
    if (h) sys_munmap(h, pct::kGrowthMapSize);
    g_map.slots = nullptr;
}

void growth_reset()
{
    growth_unmap();
    g_map.failed = false;
}

}  // namespace ckpt::persist
