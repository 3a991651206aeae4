#include "memory_capture.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "fd/fd_table.h"
#include "maps_parser.h"
#include "memory_exclusion.h"
#include "process_info.h"
#include "text.h"
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
// `backed`: with SavePolicy::All, how many pages from the start may be read (see backed_pages).
bool scan_pages(RegionScan &scan, image::RegionRecord &r, SavePolicy policy, CaptureError &err,
                uint64_t backed = ~0ull)
{
    r.first_run = uint32_t(scan.set.runs.size());
    r.n_runs = 0;
    r.data_pages = 0;
    r.inherited_pages = 0;
    const uint64_t npages = (r.end - r.start) / image::kPageSize;
    if (policy == SavePolicy::None) return true;
    image::PageRun *open_run = nullptr;
    auto add = [&](uint64_t page, uint32_t flags) {
        if (open_run && open_run->first_page + open_run->n_pages == page && open_run->flags == flags &&
            open_run->n_pages < 0xffffffffu) {
            ++open_run->n_pages;
        } else {
            open_run = scan.set.runs.push();
            if (!open_run) return false;
            open_run->first_page = page;
            open_run->n_pages = 1;
            open_run->flags = flags;
            ++r.n_runs;
        }
        if (flags & image::kRunInherited) ++r.inherited_pages;
        else ++r.data_pages;
        return true;
    };
    // Incremental: a present page the write tracker saw unwritten since the parent's snapshot
    // is inherited (write_tracker.h has the rule). Asked in steps of ranges of one answer.
    const write_tracker::Changes &changes = scan.set.changes;
    const bool may_inherit = policy == SavePolicy::Populated && !(r.flags & image::kRegionShared) &&
                             changes.base_version != 0 && changes.tracked_region(r.start) != nullptr;
    // MADV_FREE'd and not written since: not saved (write_tracker.h); pages_skipped counts them.
    uint64_t answer_until = 0;  // page index up to which `inherit` holds
    bool inherit = false;
    auto inherited = [&](uint64_t page) {
        if (!may_inherit) return false;
        if (page >= answer_until) {
            const uint64_t addr = r.start + page * image::kPageSize;
            inherit = changes.unchanged(addr);
            answer_until = (changes.same_until(addr, r.end) - r.start) / image::kPageSize;
            if (answer_until <= page) answer_until = page + 1;
        }
        return inherit;
    };
    if (policy == SavePolicy::All) {
        const uint64_t n = backed < npages ? backed : npages;
        if (n == 0) return true;
        open_run = scan.set.runs.push();
        if (!open_run) { err.err = 12; err.what = "too many page runs"; return false; }
        *open_run = {0, uint32_t(n), 0};
        r.n_runs = 1;
        r.data_pages = n;
        scan.pages_skipped += npages - n;
        return true;
    }
    for (uint64_t done = 0; done < npages;) {
        size_t want = npages - done < scan.buf_entries ? size_t(npages - done) : scan.buf_entries;
        int64_t off = int64_t((r.start / image::kPageSize + done) * 8);
        long n = sys_pread(scan.pagemap_fd, scan.buf, want * 8, off);
        if (n <= 0) { err.err = n < 0 ? int(-n) : 5; err.what = "cannot read /proc/self/pagemap"; return false; }
        size_t got = size_t(n) / 8;
        for (size_t i = 0; i < got; ++i) {
            if (wants(policy, scan.buf[i]) &&
                !(may_inherit && changes.freed_unwritten(r.start + (done + i) * image::kPageSize))) {
                const uint32_t flags = inherited(done + i) ? uint32_t(image::kRunInherited) : 0u;
                if (!add(done + i, flags)) { err.err = 12; err.what = "too many page runs"; return false; }
            } else {
                ++scan.pages_skipped;
            }
        }
        done += got;
    }
    return true;
}

// Reads one byte of `page` through the kernel (process_vm_readv on ourselves): a page past the
// end of its file gives EFAULT here, where touching it would raise SIGBUS.
long probe(uint64_t page)
{
    char c;
    struct { void *base; size_t len; } local{&c, 1}, remote{reinterpret_cast<void *>(page), 1};
    return RAW6(SYS_process_vm_readv, sys_getpid(), &local, 1, &remote, 1, 0);
}

// A file mapping reaching past the end of its file (the file truncated after mmap, or mapped
// larger than it is) has pages that raise SIGBUS when touched: even in the checkpoint
// handler, where every signal is blocked and the kernel then kills the process. The pages
// that can be read are a prefix of the region; returns how many, found without touching
// one, or ~0 if that cannot be told.
uint64_t backed_pages(const image::RegionRecord &r, const char *map_files_path)
{
    const uint64_t npages = (r.end - r.start) / image::kPageSize;
    if (npages == 0) return 0;
    const bool unreadable = !(r.prot & PROT_READ);
    if (unreadable) sys_mprotect(reinterpret_cast<void *>(r.start), r.end - r.start, int(r.prot | PROT_READ));
    auto page = [&](uint64_t i) { return r.start + i * image::kPageSize; };
    uint64_t result = ~0ull;
    long last = probe(page(npages - 1));
    if (last == 1) {
        result = npages;
    } else if (last == -EFAULT) {
        uint64_t lo = 0, hi = npages - 1;  // hi cannot be read
        while (lo < hi) {
            const uint64_t mid = lo + (hi - lo) / 2;
            if (probe(page(mid)) == 1) lo = mid + 1;
            else hi = mid;
        }
        result = lo;
    } else {
        // process_vm_readv refused (seccomp): the file's size through /proc/self/map_files.
        struct stat st;
        if (sys_newfstatat(AT_FDCWD, map_files_path, &st, 0) == 0) {
            const uint64_t size = uint64_t(st.st_size);
            const uint64_t bytes = size > r.file_offset ? size - r.file_offset : 0;
            result = (bytes + image::kPageSize - 1) / image::kPageSize;
        }
    }
    if (unreadable) sys_mprotect(reinterpret_cast<void *>(r.start), r.end - r.start, int(r.prot));
    return result;
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
    set.pages_excluded = 0;
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
        // A memfd the descriptor table holds: ckpt's copy of its contents, or a mapping of it that
        // the restore maps again from the new memfd (fd/kind_memfd.cpp), so they may overlap.
        fd::SharedMapping role = fd::SharedMapping::Other;
        if (e.shared && e.deleted && e.inode != 0) {
            const char *why = nullptr;
            role = fd::note_shared_mapping(e.dev_major, e.dev_minor, e.inode, e.start, e.end, e.offset, e.prot, why);
            if (role == fd::SharedMapping::Refused) return refuse(why, e);
        }
        if (role == fd::SharedMapping::Other && e.shared && e.deleted && e.inode != 0) {
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
            uint64_t backed = ~0ull;
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
                    // Only the pages its file still backs: the rest raise SIGBUS in the
                    // program too; they come back as zero-filled memory.
                    char mf[64];
                    text::Builder(mf, sizeof mf).add("/proc/self/map_files/").add_hex(r->start).add("-").add_hex(r->end);
                    backed = backed_pages(*r, mf);
                    if (backed == ~0ull) {
                        err.err = 14;  // EFAULT
                        err.what = "cannot tell which pages of a deleted mapped file are backed";
                        text::Builder(err.detail, sizeof err.detail).add(path);
                        sys_close(int(pm));
                        return err;
                    }
                }
            } else {
                r->kind = image::RegionKind::Anonymous;
                if (name_is(e, "[stack]")) r->flags |= image::kRegionStack;
                if (name_is(e, "[heap]")) r->flags |= image::kRegionHeap;
                if (e.shared) policy = SavePolicy::All;
            }
            if (role == fd::SharedMapping::MemfdMapping) policy = SavePolicy::None;  // the memfd has them
            if (!scan_pages(scan, *r, policy, err, backed) || !exclusion::apply(set, *r, err)) {
                sys_close(int(pm));
                return err;
            }
        }
    }
    sys_close(int(pm));
    set.process.stats.pages_skipped = scan.pages_skipped;
    return err;
}

}  // namespace ckpt
