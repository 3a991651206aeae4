// Where the lazy loader's pages are now in one process (lazy_loader.h): the image's layout,
// moved by the program's mremap and cut by its MADV_DONTNEED/munmap while the loader runs.
// Each extent is a range of the image's addresses, [start, end), now at start + delta; a dead
// one was dropped by the program (its pages are zeros and are never loaded).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

namespace ckpt::restorer::lazy {

struct Extent {
    uint64_t start, end;
    int64_t delta;
    bool alive;
    uint64_t now_start() const { return start + uint64_t(delta); }
    uint64_t now_end() const { return end + uint64_t(delta); }
};

// Marks what is now at [cs, ce) dead.
inline void kill_range(std::vector<Extent> &ext, uint64_t cs, uint64_t ce)
{
    std::vector<Extent> out;
    for (const Extent &e : ext) {
        const uint64_t s = e.now_start(), en = e.now_end();
        if (!e.alive || en <= cs || ce <= s) {
            out.push_back(e);
            continue;
        }
        if (s < cs) out.push_back({e.start, cs - uint64_t(e.delta), e.delta, true});
        out.push_back({std::max(s, cs) - uint64_t(e.delta), std::min(en, ce) - uint64_t(e.delta), e.delta, false});
        if (ce < en) out.push_back({ce - uint64_t(e.delta), e.end, e.delta, true});
    }
    ext.swap(out);
}

// mremap: what was at [from, from + len) is at `to` now; what was at the destination is gone.
inline void move_range(std::vector<Extent> &ext, uint64_t from, uint64_t to, uint64_t len)
{
    kill_range(ext, to, to + len);
    std::vector<Extent> out;
    const int64_t shift = int64_t(to - from);
    for (const Extent &e : ext) {
        const uint64_t s = e.now_start(), en = e.now_end();
        if (!e.alive || en <= from || from + len <= s) {
            out.push_back(e);
            continue;
        }
        if (s < from) out.push_back({e.start, from - uint64_t(e.delta), e.delta, true});
        out.push_back({std::max(s, from) - uint64_t(e.delta), std::min(en, from + len) - uint64_t(e.delta),
                       e.delta + shift, true});
        if (from + len < en) out.push_back({from + len - uint64_t(e.delta), e.end, e.delta, true});
    }
    ext.swap(out);
}

// The live extent holding what is now at `addr`, or nullptr (dropped, or never the image's).
inline const Extent *find_now(const std::vector<Extent> &ext, uint64_t addr)
{
    for (const Extent &e : ext)
        if (e.alive && addr >= e.now_start() && addr < e.now_end()) return &e;
    return nullptr;
}

}  // namespace ckpt::restorer::lazy
