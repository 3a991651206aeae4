#include "memory_capture.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "maps_parser.h"
#include "process_info.h"
#include "sys/raw_syscall.h"

namespace ckpt {
namespace {

constexpr uint64_t kPresent = 1ull << 63;
constexpr uint64_t kSwapped = 1ull << 62;
constexpr uint64_t kFilePage = 1ull << 61;  // page-cache page (or shared anonymous)

enum class SavePolicy {
    None,         // data lives elsewhere (shared file mapping, kernel special)
    Populated,    // private anonymous: pages present or swapped
    Private,      // private file mapping: only pages that diverged from the file
    All,          // deleted or replaced file, shared anonymous: every page
};

struct RegionScan {
    CaptureSet &set;
    int pagemap_fd;
    uint64_t *buf;
    size_t buf_entries;
    uint64_t pages_skipped = 0;
};

bool wants(SavePolicy policy, uint64_t entry)
{
    switch (policy) {
    case SavePolicy::None: return false;
    case SavePolicy::All: return true;
    case SavePolicy::Populated: return (entry & (kPresent | kSwapped)) != 0;
    case SavePolicy::Private:
        return (entry & kSwapped) || ((entry & kPresent) && !(entry & kFilePage));
    }
    return false;
}

// Appends the runs of pages to save for one region. Returns false if the run table is full.
bool scan_pages(RegionScan &scan, image::RegionRecord &r, SavePolicy policy, CaptureError &err)
{
    r.first_run = uint32_t(scan.set.runs.size());
    r.n_runs = 0;
    r.data_pages = 0;
    const uint64_t npages = (r.end - r.start) / image::kPageSize;
    if (policy == SavePolicy::None) return true;
    image::PageRun *open_run = nullptr;
    auto add = [&](uint64_t page) {
        if (open_run && open_run->first_page + open_run->n_pages == page) {
            ++open_run->n_pages;
        } else {
            open_run = scan.set.runs.push();
            if (!open_run) return false;
            open_run->first_page = page;
            open_run->n_pages = 1;
            ++r.n_runs;
        }
        ++r.data_pages;
        return true;
    };
    if (policy == SavePolicy::All) {
        open_run = scan.set.runs.push();
        if (!open_run) { err.err = 12; err.what = "too many page runs"; return false; }
        *open_run = {0, npages};
        r.n_runs = 1;
        r.data_pages = npages;
        return true;
    }
    for (uint64_t done = 0; done < npages;) {
        size_t want = npages - done < scan.buf_entries ? size_t(npages - done) : scan.buf_entries;
        int64_t off = int64_t((r.start / image::kPageSize + done) * 8);
        long n = sys_pread(scan.pagemap_fd, scan.buf, want * 8, off);
        if (n <= 0) { err.err = n < 0 ? int(-n) : 5; err.what = "cannot read /proc/self/pagemap"; return false; }
        size_t got = size_t(n) / 8;
        for (size_t i = 0; i < got; ++i) {
            if (wants(policy, scan.buf[i])) {
                if (!add(done + i)) { err.err = 12; err.what = "too many page runs"; return false; }
            } else {
                ++scan.pages_skipped;
            }
        }
        done += got;
    }
    return true;
}

// Same file as the one mapped? (A library replaced on disk shows up as "(deleted)" or with a
// different inode: its pages must then be saved, not referenced.)
bool describe_file(const MapsEntry &e, image::RegionRecord &r, char *path)
{
    struct stat st;
    if (sys_newfstatat(AT_FDCWD, path, &st, 0) != 0) return false;
    if (uint64_t(st.st_ino) != e.inode) return false;
    r.file_dev = st.st_dev;
    r.file_ino = st.st_ino;
    r.file_size = uint64_t(st.st_size);
    r.file_mtime_ns = int64_t(st.st_mtim.tv_sec) * 1000000000 + st.st_mtim.tv_nsec;
    return true;
}

}  // namespace

CaptureError capture_memory(CaptureSet &set, uintptr_t skip_begin, uintptr_t skip_end)
{
    CaptureError err;
    long len = read_proc_file("/proc/self/maps", set.scratch, set.scratch_size / 2);
    if (len < 0) { err.err = int(-len); err.what = "cannot read /proc/self/maps"; return err; }
    long pm = sys_openat(AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
    if (pm < 0) { err.err = int(-pm); err.what = "cannot open /proc/self/pagemap"; return err; }
    RegionScan scan{set, int(pm), reinterpret_cast<uint64_t *>(set.scratch + set.scratch_size / 2),
                    set.scratch_size / 2 / 8 / 2};
    char *path = set.scratch + set.scratch_size / 2 + set.scratch_size / 4;  // last quarter

    // Shared mappings of objects without a name (memfd, a deleted file) are saved as shared
    // anonymous memory, one per region: two regions mapping the same pages of one object
    // would come back as two copies. Such a checkpoint is refused (docs/architecture.md).
    struct SharedObject { uint64_t dev, ino, from, to; };
    constexpr size_t kMaxShared = 4096;
    SharedObject *shared = set.arena.alloc<SharedObject>(kMaxShared);
    size_t n_shared = 0;
    auto refuse = [&](const char *what, const MapsEntry &e) {
        err.err = 95;  // EOPNOTSUPP
        err.what = what;
        text::Builder(err.detail, sizeof err.detail).add(e.name, e.name_len);
        sys_close(int(pm));
        return err;
    };

    MapsLines lines(set.scratch, size_t(len));
    const char *line;
    size_t line_len;
    while (lines.next(line, line_len)) {
        MapsEntry e;
        if (!parse_maps_line(line, line_len, e)) continue;
        if (name_is(e, "[vsyscall]")) continue;  // fixed by the kernel, identical everywhere
        // A SysV shared memory attachment: its segment is shared with other processes by key
        // (and outlives this one); a copy would be silently private.
        if (e.shared && e.name_len >= 5 && text::starts_with(e.name, e.name_len, "/SYSV"))
            return refuse("a SysV shared memory attachment (not supported)", e);
        if (e.shared && e.deleted && e.inode != 0) {
            const uint64_t dev = (uint64_t(e.dev_major) << 32) | e.dev_minor;
            const uint64_t from = e.offset, to = e.offset + (e.end - e.start);
            for (size_t i = 0; i < n_shared; ++i)
                if (shared[i].dev == dev && shared[i].ino == e.inode && from < shared[i].to && shared[i].from < to)
                    return refuse("one memfd/deleted file mapped shared twice (not supported)", e);
            if (!shared || n_shared == kMaxShared)
                return refuse("too many shared mappings of unnamed objects to check", e);
            shared[n_shared++] = {dev, e.inode, from, to};
        }
        // Leave the capture arena out, even if the kernel merged it with a neighbour.
        uint64_t pieces[2][2] = {{e.start, e.end}, {0, 0}};
        if (e.start < skip_end && skip_begin < e.end) {
            pieces[0][1] = e.start < skip_begin ? skip_begin : e.start;
            pieces[1][0] = skip_end;
            pieces[1][1] = e.end > skip_end ? e.end : skip_end;
        }
        for (auto &piece : pieces) {
            if (piece[1] <= piece[0]) continue;
            image::RegionRecord *r = set.regions.push();
            if (!r) { err.err = 12; err.what = "too many memory regions"; sys_close(int(pm)); return err; }
            *r = image::RegionRecord{};
            r->start = piece[0];
            r->end = piece[1];
            r->prot = e.prot;
            r->flags = e.shared ? uint32_t(image::kRegionShared) : 0u;
            r->file_offset = e.offset + (piece[0] - e.start);
            r->name = e.name_len ? set.strings.add(e.name, e.name_len) : uint32_t(image::kNoString);
            SavePolicy policy = SavePolicy::Populated;
            if (is_kernel_special(e)) {
                r->kind = image::RegionKind::Special;
                policy = SavePolicy::None;
            } else if (e.name_len && e.name[0] == '/' && e.inode != 0) {
                size_t n = e.name_len < 4095 ? e.name_len : 4095;
                for (size_t i = 0; i < n; ++i) path[i] = e.name[i];
                path[n] = 0;
                if (!e.deleted && describe_file(e, *r, path)) {
                    r->kind = image::RegionKind::File;
                    policy = e.shared ? SavePolicy::None : SavePolicy::Private;
                } else {
                    r->kind = image::RegionKind::Anonymous;  // its file is gone: keep its bytes
                    policy = SavePolicy::All;
                }
            } else {
                r->kind = image::RegionKind::Anonymous;
                if (name_is(e, "[stack]")) r->flags |= image::kRegionStack;
                if (name_is(e, "[heap]")) r->flags |= image::kRegionHeap;
                if (e.shared) policy = SavePolicy::All;
            }
            if (!scan_pages(scan, *r, policy, err)) { sys_close(int(pm)); return err; }
        }
    }
    sys_close(int(pm));
    set.process.stats.pages_skipped = scan.pages_skipped;
    return err;
}

}  // namespace ckpt
