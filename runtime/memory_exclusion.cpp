#include "memory_exclusion.h"

#include <atomic>

#include "sys/raw_syscall.h"

namespace ckpt::exclusion {
namespace {

constexpr uint64_t kPage = image::kPageSize;
constexpr size_t kMaxRanges = 512;

struct Range {
    uint64_t begin, end;  // page-aligned addresses, begin < end
};

struct Table {
    uint32_t n;
    Range ranges[kMaxRanges];  // sorted, disjoint, not adjacent (merged)
};

// Two copies: a change builds the one not in use and publishes it by flipping `g_active`.
// Writers take `g_lock` (a spin lock: a change is a copy of at most 8 KiB); the checkpoint
// handler never takes it. A thread stopped for a checkpoint while it changes the table has
// only touched the unpublished copy.
Table g_tables[2];
std::atomic<uint32_t> g_active{0};
std::atomic_flag g_lock = ATOMIC_FLAG_INIT;

class Lock {
public:
    Lock()
    {
        while (g_lock.test_and_set(std::memory_order_acquire)) RAW0(SYS_sched_yield);
    }
    ~Lock() { g_lock.clear(std::memory_order_release); }
};

// Copies `cur` into `out` with [b, e) added (add) or removed (!add). False if it would not fit.
bool edit(const Table &cur, Table &out, uint64_t b, uint64_t e, bool add)
{
    uint32_t n = 0;
    auto put = [&](uint64_t rb, uint64_t re) {
        if (rb >= re) return true;
        if (n && out.ranges[n - 1].end >= rb) {  // touches or overlaps the previous one: merge
            if (re > out.ranges[n - 1].end) out.ranges[n - 1].end = re;
            return true;
        }
        if (n == kMaxRanges) return false;
        out.ranges[n++] = {rb, re};
        return true;
    };
    bool placed = !add;
    for (uint32_t i = 0; i < cur.n; ++i) {
        const Range r = cur.ranges[i];
        if (add) {
            if (!placed && b <= r.begin) {
                if (!put(b, e)) return false;
                placed = true;
            }
            if (!put(r.begin, r.end)) return false;
        } else {
            // What is left of r outside [b, e): up to two pieces.
            if (!put(r.begin, r.end < b ? r.end : b)) return false;
            if (!put(r.begin > e ? r.begin : e, r.end)) return false;
        }
    }
    if (!placed && !put(b, e)) return false;
    out.n = n;
    return true;
}

int change(uint64_t b, uint64_t e, bool add)
{
    if (b >= e) return 0;  // nothing whole to exclude / include
    Lock lock;
    const uint32_t active = g_active.load(std::memory_order_relaxed);
    if (!edit(g_tables[active], g_tables[active ^ 1], b, e, add)) return ENOSPC;
    g_active.store(active ^ 1, std::memory_order_release);
    return 0;
}

}  // namespace

int exclude(uintptr_t addr, size_t len)
{
    if (len == 0 || uint64_t(addr) + len < uint64_t(addr)) return EINVAL;
    const uint64_t b = (uint64_t(addr) + kPage - 1) & ~(kPage - 1);
    const uint64_t e = (uint64_t(addr) + len) & ~(kPage - 1);
    return change(b, e, true);
}

int include(uintptr_t addr, size_t len)
{
    if (len == 0) return 0;
    if (uint64_t(addr) + len < uint64_t(addr)) return EINVAL;
    const uint64_t b = uint64_t(addr) & ~(kPage - 1);
    const uint64_t e = (uint64_t(addr) + len + kPage - 1) & ~(kPage - 1);
    return change(b, e, false);
}

bool apply(CaptureSet &set, image::RegionRecord &r, CaptureError &err)
{
    if (r.kind != image::RegionKind::Anonymous || (r.flags & image::kRegionShared) || r.n_runs == 0) return true;
    const Table &t = g_tables[g_active.load(std::memory_order_acquire)];
    // The excluded ranges that meet the region (sorted: one pass).
    uint32_t first = 0;
    while (first < t.n && t.ranges[first].end <= r.start) ++first;
    if (first == t.n || t.ranges[first].begin >= r.end) return true;

    // The region's runs are the last of the table: the pieces that remain are appended after
    // them, then moved down into their place.
    const size_t from = r.first_run, to = from + r.n_runs;
    uint64_t kept_pages = 0, kept_inherited = 0;  // stored / inherited (incremental) pages kept
    uint32_t kept_runs = 0;
    for (size_t i = from; i < to; ++i) {
        const image::PageRun run = set.runs[i];
        uint64_t p = r.start + run.first_page * kPage;
        const uint64_t run_end = p + uint64_t(run.n_pages) * kPage;
        for (uint32_t k = first; k < t.n && t.ranges[k].begin < run_end && p < run_end; ++k) {
            if (t.ranges[k].end <= p) continue;
            const uint64_t cut = t.ranges[k].begin > p ? t.ranges[k].begin : p;
            if (cut > p) {
                image::PageRun *piece = set.runs.push();
                if (!piece) { err.err = 12; err.what = "too many page runs"; return false; }
                *piece = {(p - r.start) / kPage, uint32_t((cut - p) / kPage), run.flags};
                ((run.flags & image::kRunInherited) ? kept_inherited : kept_pages) += piece->n_pages;
                ++kept_runs;
            }
            p = t.ranges[k].end < run_end ? t.ranges[k].end : run_end;
        }
        if (p < run_end) {
            image::PageRun *piece = set.runs.push();
            if (!piece) { err.err = 12; err.what = "too many page runs"; return false; }
            *piece = {(p - r.start) / kPage, uint32_t((run_end - p) / kPage), run.flags};
            ((run.flags & image::kRunInherited) ? kept_inherited : kept_pages) += piece->n_pages;
            ++kept_runs;
        }
        // The runs are in address order: ranges that end before this run's end are done.
        while (first < t.n && t.ranges[first].end <= run_end) ++first;
    }
    for (uint32_t i = 0; i < kept_runs; ++i) set.runs[from + i] = set.runs[to + i];
    set.runs.truncate(from + kept_runs);
    set.pages_excluded += r.data_pages + r.inherited_pages - kept_pages - kept_inherited;
    r.n_runs = kept_runs;
    r.data_pages = kept_pages;
    r.inherited_pages = kept_inherited;
    return true;
}

}  // namespace ckpt::exclusion
