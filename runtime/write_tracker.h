// The write tracker: which pages of private anonymous memory were written since the last
// checkpoint, for incremental images. No soft-dirty on this kernel: userfaultfd
// write-protection in asynchronous mode (UFFD_FEATURE_WP_ASYNC: a write to a protected page
// only clears its protection, the program never waits) and one PAGEMAP_SCAN ioctl per region,
// which returns the written pages and protects them again in the same walk.
//
// The rule an incremental image relies on (docs/architecture.md, Incremental checkpoints):
// after every scan each present page of a tracked region is protected, so a page that is
// present now and reported unwritten was present at the last scan with the same bytes. A page
// not present now is not inherited (MADV_DONTNEED, MADV_FREE reclaimed); a page faulted in
// since (a new page, brk or stack growth, a reread of a freed page) carries no protection and
// counts as written. A region counts as tracked only while the kernel still says it is
// registered (PM_SCAN_CHECK_WPASYNC): a new mapping, a moved one (mremap drops registration),
// or one mapped again at the same address is new, saved whole this time and registered now.
//
// Tracked: private anonymous memory (heap, stacks, anonymous mappings). Not tracked, saved as
// before at every checkpoint: private file mappings (only their diverged pages are saved
// anyway), shared memory (another process writes it without faulting here), kernel mappings.
//
// Runs in the checkpoint handler while every thread is stopped, at the snapshot instant
// (before the forked writer is cloned: the writer reads the result in its copy of memory).
// Raw system calls and caller-provided buffers only.
#pragma once

#include <stddef.h>
#include <stdint.h>

#include "arena.h"

namespace ckpt::write_tracker {

struct Range {
    uint64_t start, end;
};

// What one checkpoint learned from the tracker, kept in the capture arena.
struct Changes {
    // The version whose snapshot instant the tracking is relative to (the previous scan);
    // 0: nothing can be inherited (the first checkpoint, after a restore, tracking off).
    uint64_t base_version = 0;
    ArenaVector<Range> tracked;  // regions tracked since base_version, by address
    ArenaVector<Range> written;  // pages of those written (or faulted in) since, by address
    // Ranges the program gave up with MADV_FREE since the last scan, in tracked regions,
    // protected again at the call: a page there not written since is neither stored nor
    // inherited (it comes back as a zero page, which MADV_FREE allows).
    ArenaVector<Range> freed;
    uint64_t scan_ns = 0;        // time spent in the tracker at this checkpoint

    bool init(Arena &a, size_t max_tracked = 1 << 16, size_t max_written = 1 << 20)
    {
        return tracked.init(a, max_tracked) && written.init(a, max_written) && freed.init(a, 256);
    }
    // Whether `page` was freed (MADV_FREE) and not written since: not to be saved at all.
    bool freed_unwritten(uint64_t page) const;
    // The tracked region holding `page`, or nullptr.
    const Range *tracked_region(uint64_t page) const;
    // Whether `page` may be inherited if it is present now: tracked and not written since.
    bool unchanged(uint64_t page) const;
    // Pages from `page` on (within its tracked region, at most `limit`) that share
    // unchanged(page)'s answer: lets a caller classify a run of pages in steps of ranges.
    uint64_t same_until(uint64_t page, uint64_t limit) const;
};

enum class Status {
    Tracking,    // the result is usable (some regions may still be new)
    Off,         // disabled (--no-incremental)
    Unavailable, // the kernel refused userfaultfd or asynchronous write-protection
    Foreign,     // the program has a userfaultfd of its own: full checkpoints
    Failed,      // a scan failed: nothing is inherited this time, tracking starts again
};

// At the snapshot instant: collects what was written since the last scan in each tracked
// region, protects it again, and registers the regions that are new. `maps`: the text of
// /proc/self/maps read now; `skip_*`: a range to leave alone (the capture arena);
// `version`: the checkpoint being taken (the next one's base). `scratch`: at least 64 KiB.
// `why`: a sentence when the status is not Tracking.
Status at_checkpoint(const char *maps, size_t maps_len, uint64_t skip_begin, uint64_t skip_end, uint64_t version,
                     char *scratch, size_t scratch_size, Changes &out, const char *&why);

// In a restored process: forgets every registration (the new process has none) and the
// descriptor (not restored). The next checkpoint is a full one.
void forget();

// Turns tracking off for good (unregistering what is registered), or back on.
void set_enabled(bool on);
bool enabled();

// After madvise(MADV_FREE) succeeded (interpose/madvise_wrapper.cpp, inside a section: no
// checkpoint runs meanwhile): protects the range again, so that a write after the free shows,
// and remembers it until the next scan. Does nothing where the range is not tracked.
void note_freed(uint64_t start, uint64_t len);

// The tracker's userfaultfd, or -1: one of ckpt's internal descriptors (internal_fds.h).
int fd();
void set_fd(int fd);  // moved to another number (internal_fds::move_away)

}  // namespace ckpt::write_tracker
