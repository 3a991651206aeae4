#include "file_state.h"

#include "../arena.h"

namespace ckpt::persist {

namespace {

// The epoch's arena, never destroyed: wrappers may run after static destructors (exit
// handlers that write files) and the tracker must stay valid until the very end.
union ArenaHolder {
    Arena arena;
    ArenaHolder() : arena() {}
    ~ArenaHolder() {}
} g_mem;

void *alloc(size_t n) { return g_mem.arena.alloc_bytes(n); }

FileState **g_map = nullptr;
size_t g_map_cap = 0, g_map_n = 0;

size_t hash_key(uint64_t dev, uint64_t ino)
{
    uint64_t h = (ino * 0x9E3779B97F4A7C15ull) ^ (dev * 0xC2B2AE3D27D4EB4Full);
    return size_t(h ^ (h >> 29));
}

bool map_insert(FileState **map, size_t cap, FileState *f)
{
    for (size_t i = hash_key(f->dev, f->ino) & (cap - 1);; i = (i + 1) & (cap - 1))
        if (!map[i]) { map[i] = f; return true; }
}

}  // namespace

FileState *find_state(uint64_t dev, uint64_t ino)
{
    if (!g_map) return nullptr;
    for (size_t i = hash_key(dev, ino) & (g_map_cap - 1);; i = (i + 1) & (g_map_cap - 1)) {
        FileState *f = g_map[i];
        if (!f) return nullptr;
        if (f->dev == dev && f->ino == ino) return f;
    }
}

FileState *get_state(uint64_t dev, uint64_t ino)
{
    if (FileState *f = find_state(dev, ino)) return f;
    if (!g_map || (g_map_n + 1) * 2 > g_map_cap) {
        size_t cap = g_map_cap ? g_map_cap * 2 : 1024;
        auto **m = static_cast<FileState **>(alloc(cap * sizeof(FileState *)));
        if (!m) return nullptr;
        for (size_t i = 0; i < g_map_cap; ++i)
            if (g_map[i]) map_insert(m, cap, g_map[i]);
        __atomic_store_n(&g_map_cap, cap, __ATOMIC_RELEASE);
        __atomic_store_n(&g_map, m, __ATOMIC_RELEASE);
    }
    auto *f = static_cast<FileState *>(alloc(sizeof(FileState)));
    if (!f) return nullptr;
    *f = FileState{dev, ino, 0, 0, 0, 0, nullptr, 0, 0};
    map_insert(g_map, g_map_cap, f);
    ++g_map_n;
    return f;
}

long iv_find(const FileState *f, uint64_t x)
{
    long lo = 0, hi = long(f->n_iv) - 1, best = -1;
    while (lo <= hi) {
        long mid = (lo + hi) / 2;
        if (f->iv[mid].start <= x) best = mid, lo = mid + 1;
        else hi = mid - 1;
    }
    return best;
}

bool covered(const FileState *f, uint64_t a, uint64_t b)
{
    if (f->flags & kAllCovered) return true;
    if (b > f->orig_size) b = f->orig_size;
    if (a >= b) return true;
    long i = iv_find(f, a);
    return i >= 0 && f->iv[i].end >= b;
}

bool iv_insert(FileState *f, uint64_t a, uint64_t b)
{
    // Merge with every interval that overlaps or touches [a, b).
    long i = iv_find(f, a);
    long first = (i >= 0 && f->iv[i].end >= a) ? i : i + 1;
    long last = first - 1;
    for (long j = first; j < long(f->n_iv) && f->iv[j].start <= b; ++j) last = j;
    if (last >= first) {
        if (f->iv[first].start < a) a = f->iv[first].start;
        if (f->iv[last].end > b) b = f->iv[last].end;
    }
    const long removed = last - first + 1;
    const uint32_t n_new = uint32_t(long(f->n_iv) - removed + 1);
    if (n_new > f->cap_iv) {
        uint32_t cap = f->cap_iv ? f->cap_iv * 2 : 8;
        while (cap < n_new) cap *= 2;
        auto *niv = static_cast<Interval *>(alloc(cap * sizeof(Interval)));
        if (!niv) return false;
        for (long j = 0; j < first; ++j) niv[j] = f->iv[j];
        niv[first] = {a, b};
        for (long j = last + 1; j < long(f->n_iv); ++j) niv[j - removed + 1] = f->iv[j];
        f->cap_iv = cap;
        __atomic_store_n(&f->iv, niv, __ATOMIC_RELEASE);
    } else {
        Interval *iv = f->iv;
        if (removed == 0) {
            for (long j = long(f->n_iv); j > first; --j) iv[j] = iv[j - 1];
        } else if (removed > 1) {
            for (long j = last + 1; j < long(f->n_iv); ++j) iv[j - removed + 1] = iv[j];
        }
        iv[first] = {a, b};
    }
    f->n_iv = n_new;
    if (f->n_iv == 1 && f->iv[0].start == 0 && f->iv[0].end >= f->orig_size) f->flags |= kAllCovered;
    return true;
}

void reset_files()
{
    g_mem.arena.reset();
    g_map = nullptr;
    g_map_cap = g_map_n = 0;
}

}  // namespace ckpt::persist
