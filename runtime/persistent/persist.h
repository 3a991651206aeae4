// The persistent-state layer inside the program: the lazy undo log of file changes
// (persistent checkpoint table, PCT). The interposed wrappers (interpose/) ask it, before a
// change, "is this the first change to this file (range) in this epoch?" and it writes what
// undoes the change to the epoch's log before the wrapper lets the change proceed.
//
// Epoch K = the changes made after checkpoint version K was committed (epoch 0 starts with the
// program). The in-memory tracker is part of every image; each new epoch (after a checkpoint,
// after a restore) starts it empty.
//
// Cost model: the first change to a file in an epoch costs a few system calls and one record;
// later writes to ranges already saved, appends, and writes to files created in the epoch cost
// no system call (a look-up in a per-descriptor cache and a per-file interval set).
#pragma once

#include <stdint.h>
#include <sys/types.h>

namespace ckpt::persist {

extern int g_enabled;  // the runtime is active in this process and recording is on

inline bool enabled() { return __atomic_load_n(&g_enabled, __ATOMIC_RELAXED) != 0; }

// A wrapper's check-record-change section: a checkpoint signal arriving inside it is deferred
// (before_checkpoint() says no) and taken when the outermost section ends, so the record and
// the change it protects always fall in the same epoch. Sections are per thread: a thread
// asked to stop for another thread's checkpoint inside one does not stop there; it stops when
// its outermost section ends (threads.h: on_stop_request), and the checkpoint waits for it.
//
// A section can end without its destructor: the program's signal handler siglongjmp()s out of
// a blocked write(). Each section therefore records where it lives (the address of the Section
// object, in the wrapper's stack frame) in g_section_sp[depth]. Sections nest only through
// signal handlers, which run deeper on the same stack (or on the alternate signal stack), so
// a recorded section whose address is at or below a new section's (or below the checkpoint
// handler's frame) has lost its frame: it is stale and dropped (drop_stale_sections), and so
// is every section recorded after it. Nothing is judged while running on the alternate
// signal stack, where addresses say nothing about the interrupted stack. A stale section
// therefore defers checkpoints only until the next wrapper call (or a checkpoint signal taken
// deeper than it), never for good. The addresses compare frames of one stack, this thread's:
// the record is thread-local.
constexpr int kMaxSectionDepth = 16;
struct Sections {
    int busy;                        // depth of this thread's sections
    int pending;                     // a checkpoint (or another thread's stop) waits for the end
    uintptr_t sp[kMaxSectionDepth];  // where each lives; 0: not known (yet)
};
// Initial-exec TLS: memory of the image, read in the signal handler without a call.
extern __thread Sections t_sections __attribute__((tls_model("initial-exec")));

// Called when the outermost section ends with `pending` set: takes the deferred checkpoint,
// or the stop another thread's checkpoint asked for.
void reraise_checkpoint();

// In the checkpoint handler: whether this thread is inside a section (stale ones dropped);
// if so, marks the checkpoint pending until it leaves it.
bool defer_to_section_end();

// Drops the stale sections (see above) given the address `here` of a live frame; `inclusive`:
// a section at exactly `here` is stale too (a new section in the same frame slot).
void drop_stale_sections(uintptr_t here, bool inclusive);

class Section {
public:
    // Only this thread and its signal handlers touch t_sections: the atomics order the
    // accesses against a handler, not against other threads.
    Section()
    {
        Sections &t = t_sections;
        const uintptr_t me = reinterpret_cast<uintptr_t>(this);
        if (__atomic_load_n(&t.busy, __ATOMIC_SEQ_CST) > 0) drop_stale_sections(me, true);
        const int depth = __atomic_add_fetch(&t.busy, 1, __ATOMIC_SEQ_CST);
        if (depth <= kMaxSectionDepth) __atomic_store_n(&t.sp[depth - 1], me, __ATOMIC_SEQ_CST);
    }
    ~Section()
    {
        Sections &t = t_sections;
        const int depth = __atomic_load_n(&t.busy, __ATOMIC_SEQ_CST);
        if (depth <= 0) return;  // dropped as stale by a section that was in fact ours (alternate stacks)
        if (depth <= kMaxSectionDepth) __atomic_store_n(&t.sp[depth - 1], uintptr_t(0), __ATOMIC_SEQ_CST);
        if (__atomic_sub_fetch(&t.busy, 1, __ATOMIC_SEQ_CST) == 0 && __atomic_load_n(&t.pending, __ATOMIC_SEQ_CST))
            reraise_checkpoint();
    }
    Section(const Section &) = delete;
    Section &operator=(const Section &) = delete;
};

// All return 0 to let the call proceed, or an errno the call must fail with (undo data could
// not be recorded and --on-undo-failure=fail). Offsets: -1 = the descriptor's current offset.
// `count`: the write counts towards the file's growth (growth.h; false for callers that count
// the growth themselves).
int before_write(int fd, int64_t offset, uint64_t len, bool force_append = false, bool count = true);
int before_ftruncate(int fd, int64_t length);
int before_truncate(const char *path, int64_t length);
int before_fallocate(int fd, int mode, int64_t offset, int64_t len);

// open/openat/creat/fopen: call before with the open flags, after with the result.
struct OpenNote {
    bool created = false;   // the path did not exist and was recorded as created
    bool truncated = false; // existing contents were saved (O_TRUNC)
};
int before_open(int dirfd, const char *path, int flags, OpenNote &note);
void after_open(int fd, int flags, const OpenNote &note);

int before_unlink(int dirfd, const char *path, int at_flags);  // AT_REMOVEDIR for rmdir
int before_remove(const char *path);                           // file or empty directory
int before_rename(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned flags);
int before_mkdir(int dirfd, const char *path);
int before_new_name(int dirfd, const char *path);  // link, symlink: a name that must not exist
int before_attr_path(int dirfd, const char *path, int at_flags);  // chmod, chown, utime*
int before_attr_fd(int fd);                                        // fchmod, fchown, futimens

// Descriptors whose writes are invisible to the wrappers (stdio streams, whose writes glibc
// makes internally, and writable shared mappings): protected conservatively now and again at
// the start of every epoch.
enum class StreamKind : uint8_t { Append = 1, Sequential = 2, Whole = 3 };
void stream_opened(int fd, StreamKind kind);
void stream_repositioned(int fd);  // fseek & co, lseek on such a descriptor
// While recording is off (a program started without ckpt-run, before its first chkpnt()):
// streams opened are only remembered, so that they are protected once recording starts
// (standalone mode starts it at the first chkpnt(), when they may be open already).
void stream_noted(int fd, StreamKind kind);
void streams_closed_while_off(unsigned first, unsigned last);
int before_shared_mmap(int fd);    // writable MAP_SHARED of a file: the whole file, now
void after_shared_mmap(int fd, void *addr, size_t len);
// `recording`: false while recording is off (the mappings noted by shared_mmap_noted).
void after_munmap(void *addr, size_t len, bool recording = true);
void shared_mmap_noted(int fd, void *addr, size_t len);  // recording off: protected once it starts

// fsync, fdatasync, msync, sync_file_range, syncfs, sync (fd -1: not one file): before the
// program's change can become durable, what undoes it is made durable (the epoch's log and
// undo-K/). 0, or an errno the call must fail with (--on-undo-failure=fail).
int before_sync(int fd);

// Descriptor table changes the per-descriptor cache must see.
void fd_closed(int fd);
void fd_repositioned(int fd);      // lseek: its offset may lie beyond the end now
void fd_replaced(int fd);           // dup2/dup3/fcntl F_DUPFD target, fcntl F_SETFL
void fds_closed(unsigned first, unsigned last);

// The layer's own descriptors in the program (the epoch's log, the undo directory), which the
// program's close family must not reach (runtime/internal_fds.h): up to `max` into `out`.
int own_fds(int *out, int max);

// Life cycle (runtime/events.cpp). before_checkpoint and after_* run in the signal handler.
void program_start();
bool before_checkpoint();
// Before the image of `version` is written (in the handler): seals the epoch that ends and
// starts pct-<version>.log; `generation` = the image's created_realtime_ns. True: the image may
// say so (image::kProcEpochLog). epoch_not_committed: the image was not written after all.
bool seal_epoch(uint64_t version, uint64_t generation);
void epoch_not_committed(uint64_t version);
void after_checkpoint(uint64_t version);
void after_restore(uint64_t version);

// Exclusions at run time (exported as ckpt_exclude / ckpt_include). 0 or -errno.
int add_rule(const char *path, bool include);

}  // namespace ckpt::persist
