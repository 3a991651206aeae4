// The checkpoint signal handler: save the context, capture every kind of state, write the
// image. When the restorer jumps back into the saved context, execution continues in the
// same handler a second time, in the new process, and finish_restore() reconnects it to the
// world. Everything here is async-signal-safe: raw system calls and the capture arena only.
#include <errno.h>

#include "cpu_context.h"
#include "events.h"
#include "../launcher/exit_codes.h"
#include "fd/fd_table.h"
#include "forked_writer.h"
#include "image_chain.h"
#include "image_writer.h"
#include "memory_capture.h"
#include "process_attrs.h"
#include "process_info.h"
#include "runtime_state.h"
#include "signal_state.h"
#include "sys/raw_syscall.h"
#include "threads.h"
#include "sys/proc_file.h"
#include "write_tracker.h"

#include <fcntl.h>
#include <sys/prctl.h>
#include <sys/rseq.h>
#include <time.h>
#include <ucontext.h>

namespace ckpt {

// Threads that compress in a forked writer (the writing one included): this machine's 2 cores
// (docs/performance.md, "Compression"). The program runs on meanwhile and shares them.
constexpr int kForkedWriterThreads = 2;
namespace {

// version: the forked writer's, so that the launcher can tell its report apart (0: the
// synchronous writer's).
void report_error(const CaptureError &e, bool refused, uint64_t version = 0)
{
    g_rt.last_error = e.err ? e.err : EIO;
    char msg[88];
    text::Builder b(msg, sizeof msg);
    b.add(e.what);
    // A full disk: the launcher words it with the directory and the free space from e.bytes.
    if (e.detail[0] && !(e.bytes && g_rt.status_fd >= 0)) b.add(": ").add(e.detail);
    report(refused ? StatusType::CheckpointRefused : StatusType::CheckpointFailed, e.err, version, e.bytes, 0, 0, msg);
}

// Without a launcher nobody else prunes: keep the newest kStandaloneRetain versions.
constexpr uint64_t kStandaloneRetain = 3;

void prune_old_versions(int dirfd, uint64_t newest)
{
    // Never an image a kept one needs: below the root of the oldest kept version's chain.
    uint64_t oldest_kept = newest > kStandaloneRetain ? newest - kStandaloneRetain + 1 : 1;
    for (uint64_t v = oldest_kept; v <= newest; ++v) {
        const uint64_t root = chain::root_version(dirfd, v);
        if (root < oldest_kept) oldest_kept = root;
    }
    for (uint64_t v = oldest_kept > 1 ? oldest_kept - 1 : 0; v > 0; --v) {
        char name[64];
        image_file_name(v, name, sizeof name);
        if (sys_unlinkat(dirfd, name, 0) == -ENOENT) break;
    }
}

// The kernel writes the rseq area (in the TCB) whenever the thread changes CPU: between the
// checksum and the write of that page, it could change. Unregistered for the duration of the
// capture, it holds still; the restorer registers it again in the restored process.
class RseqPause {
public:
    explicit RseqPause(const image::ProcessRecord &pr) : pr_(pr)
    {
        paused_ = pr.rseq_addr && sys_rseq(reinterpret_cast<void *>(pr.rseq_addr), pr.rseq_len,
                                           1 /* RSEQ_FLAG_UNREGISTER */, pr.rseq_sig) == 0;
    }
    ~RseqPause()
    {
        if (paused_) sys_rseq(reinterpret_cast<void *>(pr_.rseq_addr), pr_.rseq_len, 0, pr_.rseq_sig);
    }

private:
    const image::ProcessRecord &pr_;
    bool paused_ = false;
};

// What the descriptor capture mapped (a memfd's contents) stays mapped until the image is
// written, and goes on every way out of run_checkpoint.
struct FdCaptureScope {
    ~FdCaptureScope() { fd::end_fd_capture(); }
};

// Why the last checkpoint that could have been forked was written synchronously: said once
// (a Warning record) each time it changes, not at every checkpoint. Empty: it was forked.
char g_sync_reason[88];

void note_sync_reason(const char *why, int err)
{
    if (text::equal(why, g_sync_reason)) return;
    text::Builder(g_sync_reason, sizeof g_sync_reason).add(why);
    if (why[0]) report(StatusType::Warning, err, 0, 0, 0, 0, why);
}

// Not the version a forked writer may still be writing, nor one whose writer failed: that
// epoch's log is the program's current one (events::after_checkpoint ran at the fork).
uint64_t next_version(int64_t latest)
{
    const uint64_t committed = latest > 0 ? uint64_t(latest) : 0;
    return (committed > g_rt.forked_version ? committed : g_rt.forked_version) + 1;
}

// The memory of the image: its parent chosen first (runs the tracker saw unchanged are
// inherited from it), a full image after all if the chain would grow too large.
CaptureError capture_image_memory(CaptureSet &set, int dirfd)
{
    chain::choose_parent(set, dirfd, g_rt.full_every);
    CaptureError err = capture_memory(set, set.arena.begin(), set.arena.end());
    if (!err) chain::settle(set, dirfd);
    return err;
}

// Why the last checkpoint had nothing from the write tracker: said once each time it changes.
char g_track_reason[88];

// Runs the write tracker at the snapshot instant (every thread stopped, before the forked
// writer is cloned: the writer reads the result in its copy of the capture arena).
void track_writes(CaptureSet &set, uint64_t version)
{
    const char *maps = set.program_maps;
    size_t len = set.program_maps_len;
    if (!maps) {  // the synchronous writer: memory_capture reads its own copy later
        constexpr size_t cap = size_t(4) << 20;
        char *buf = set.arena.alloc<char>(cap);
        const long n = buf ? read_proc_file("/proc/self/maps", buf, cap) : -ENOMEM;
        if (n < 0) {
            set.changes.base_version = 0;
            return;
        }
        maps = buf;
        len = size_t(n);
    }
    constexpr size_t scratch = 256 << 10;
    char *buf = set.arena.alloc<char>(scratch);
    if (!buf) {
        set.changes.base_version = 0;
        return;
    }
    const char *why = nullptr;
    write_tracker::at_checkpoint(maps, len, set.arena.begin(), set.arena.end(), version, buf, scratch, set.changes, why);
    if (!why) why = "";
    if (!text::equal(why, g_track_reason)) {
        text::Builder(g_track_reason, sizeof g_track_reason).add(why);
        if (why[0] && write_tracker::enabled()) report(StatusType::Warning, 0, 0, 0, 0, 0, why);
    }
}

// The forked writer: from the clone on, a copy of this thread alone, in a copy of the
// program's memory as it was at the fork. Scans, writes, commits, reports and exits.
[[noreturn]] void write_in_writer(CaptureSet &set, uint64_t version, int32_t program_pid)
{
    g_rt.report_pid = program_pid;  // the launcher knows the program, not this process
    if (!forked::become_writer(g_rt.status_fd, g_rt.lock_fd, g_rt.launcher_pid)) sys_exit_group(1);
    const uint64_t t_run = sys_monotonic_ns();
    char detail[80];
    if (const char *blind = forked::blind_spot(set, detail, sizeof detail)) {
        char msg[88];
        text::Builder(msg, sizeof msg).add(blind).add(" at ").add(detail);
        report(StatusType::ForkUnsafe, 0, version, 0, 0, 0, msg);
        sys_exit_group(3);
    }
    CaptureError err;
    if (g_rt.test_writer_stall == version)  // every signal is blocked: only SIGKILL ends this
        for (;;) RAW0(SYS_pause);
    long dirfd = sys_openat(AT_FDCWD, g_rt.job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (dirfd < 0) {
        err.err = int(-dirfd);
        err.what = "cannot open the checkpoint directory";
        report_error(err, false, version);
        sys_exit_group(1);
    }
    err = capture_image_memory(set, int(dirfd));
    if (err) {
        report_error(err, err.err == EOPNOTSUPP, version);
        sys_exit_group(1);
    }
    set.process.stats.scan_ns = sys_monotonic_ns() - t_run;
    WriteResult written;
    err = write_image(set, int(dirfd), version, written);
    if (err) {
        // The epoch's log stays: the program records into it. The next checkpoint takes a
        // higher version, and a recovery to an older one undoes this epoch too.
        report_error(err, false, version);
        sys_exit_group(1);
    }
    if (written.dir_sync_err)
        report(StatusType::Warning, written.dir_sync_err, version, 0, 0, 0,
               "checkpoint committed, but syncing the checkpoint directory failed: after a crash "
               "the previous version may be the newest");
    report(StatusType::CheckpointDone, 0, version, written.bytes, set.process.stats.pause_ns,
           set.process.stats.pages_written, nullptr);
    sys_exit_group(0);
}

// may_fork: the launcher asked for this checkpoint and may have it written by a forked
// writer; otherwise (or when a fork cannot be afforded) it is written here, synchronously.
void run_checkpoint(uint64_t t_start, bool may_fork)
{
    FdCaptureScope fd_scope;
    CaptureSet set;
    if (!set.init()) {
        g_rt.last_error = ENOMEM;
        report(StatusType::CheckpointFailed, ENOMEM, 0, 0, 0, 0, "cannot reserve the capture arena");
        return;
    }
    set.t_start_ns = t_start;
    image::ProcessRecord &pr = set.process;
    pr.signal = g_rt.signal;
    pr.context = g_rt.ctx;
    pr.tid_offset = g_rt.tid_offset;
    pr.restore_info_addr = reinterpret_cast<uint64_t>(&g_rt.restore_info);
    sys_arch_prctl(0x1003 /* ARCH_GET_FS */, reinterpret_cast<unsigned long>(&pr.fs_base));
    if (__rseq_size > 0) {
        pr.rseq_addr = pr.fs_base + uint64_t(__rseq_offset);
        pr.rseq_len = g_rt.rseq_len;  // from the kernel's AT_RSEQ_FEATURE_SIZE (world.h)
        pr.rseq_sig = RSEQ_SIG;
    }
    RseqPause rseq_pause(pr);
    struct timespec now{};
    sys_clock_gettime(CLOCK_REALTIME, &now);
    pr.created_realtime_ns = uint64_t(now.tv_sec) * 1000000000ull + uint64_t(now.tv_nsec);

    sigstate::before_capture();
    set.world = g_rt.world;
    // First: a seccomp filter or a SIGEV_THREAD timer is named before anything else refuses.
    CaptureError err = attrs::capture(set, g_rt.signal, g_rt.status_fd >= 0);
    if (err) return report_error(err, err.err == EOPNOTSUPP);
    err = capture_process(set);
    if (err) return report_error(err, err.err == EOPNOTSUPP);
    err = capture_signals(set);
    if (err) return report_error(err, false);
    err = threads::capture(set);
    if (err) return report_error(err, false);
    // The launcher's status socket and the job's lock are the runtime's, not the program's.
    const int internal[] = {g_rt.status_fd, g_rt.status_fd >= 0 ? g_rt.lock_fd : -1, write_tracker::fd()};
    err = capture_fds(set, internal, 3);
    if (err) return report_error(err, err.err == EOPNOTSUPP);
    err = attrs::capture_locks(set);
    if (err) return report_error(err, err.err == EOPNOTSUPP);
    // A restore puts the new launcher's status socket and lock at these numbers again: a
    // descriptor the program put there (ckpt's own were moved away, internal_fds.h) could not
    // come back at its number.
    for (size_t i = 0; i < set.fds.size(); ++i) {
        if (set.fds[i].fd == kStatusFd || set.fds[i].fd == kLockFd) {
            err.err = EOPNOTSUPP;
            err.what = "a descriptor of the program has the number of ckpt's status socket or lock";
            text::Builder(err.detail, sizeof err.detail).add("fd ").add(uint64_t(set.fds[i].fd));
            return report_error(err, true);
        }
    }
    g_rt.sync_wanted = false;  // this is the checkpoint it asked for
    bool fork = may_fork;
    if (fork) {
        char why[88];
        forked::check_affordable(set, why, sizeof why);
        if (why[0]) {
            note_sync_reason(why, 0);
            fork = false;
        }
    }
    if (fork && !forked::keep_program_view(set)) {
        note_sync_reason("cannot read /proc/self/maps for the forked writer: written synchronously", 0);
        fork = false;
    }
    long dirfd = sys_openat(AT_FDCWD, g_rt.job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
    if (dirfd < 0) {
        err.err = int(-dirfd);
        err.what = "cannot open the checkpoint directory";
        return report_error(err, false);
    }
    const uint64_t version = next_version(latest_version(int(dirfd), set.scratch, set.scratch_size));
    // The snapshot instant for the write tracker too: what was written since the last one.
    track_writes(set, version);
    if (!fork) {
        err = capture_image_memory(set, int(dirfd));
        if (err) {
            sys_close(int(dirfd));
            return report_error(err, err.err == EOPNOTSUPP);
        }
        pr.stats.scan_ns = sys_monotonic_ns() - t_start;
    }
    WriteResult written;
    pr.flags = events::before_commit(version, pr.created_realtime_ns) ? uint32_t(image::kProcEpochLog) : 0u;
    // Compression: in the checkpointing thread alone when the program waits for the write;
    // a forked writer has the machine's cores (docs/performance.md, "Compression").
    set.compress_level = g_rt.compress_level;
    set.writer_threads = 1;
    if (fork) {
        sys_close(int(dirfd));
        // The snapshot instant: the writer's memory is the program's as it is now, and the
        // new epoch begins now (its log was started by before_commit).
        const uint64_t t_fork = sys_monotonic_ns();
        const uint64_t forked_before = g_rt.forked_version;
        g_rt.forked_version = version;  // before the clone: the image records it too
        const int32_t program_pid = int32_t(sys_getpid());
        set.t_resumed_ns = t_fork;  // the writer's copy; the clone's own time is added below
        const long pid = forked::spawn();
        if (pid == 0) {
            set.t_resumed_ns = sys_monotonic_ns();
            set.fork_ns = set.t_resumed_ns - t_fork;
            set.writer_threads = kForkedWriterThreads;
            write_in_writer(set, version, program_pid);
        }
        if (pid > 0) {
            // Said by the program before it goes on, so that the launcher knows the writer
            // (and waits for it) before the program can exit.
            report(StatusType::CheckpointWriting, 0, version, 0, sys_monotonic_ns() - t_start, uint64_t(pid), nullptr);
            note_sync_reason("", 0);
            events::after_checkpoint(version);
            g_rt.last_error = 0;
            return;
        }
        // No writer (ENOMEM: overcommit mode 2 without commit headroom, EAGAIN: a process
        // limit): written here after all, as the same version.
        g_rt.forked_version = forked_before;
        char why[88];
        text::Builder(why, sizeof why)
            .add("cannot fork the checkpoint writer (errno ")
            .add(uint64_t(-pid))
            .add("): written synchronously");
        note_sync_reason(why, int(-pid));
        set.t_resumed_ns = 0;
        dirfd = sys_openat(AT_FDCWD, g_rt.job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW, 0);
        if (dirfd < 0) {
            events::before_commit_failed(version);
            err.err = int(-dirfd);
            err.what = "cannot open the checkpoint directory";
            return report_error(err, false);
        }
        err = capture_image_memory(set, int(dirfd));
        if (err) {
            events::before_commit_failed(version);
            sys_close(int(dirfd));
            return report_error(err, err.err == EOPNOTSUPP);
        }
        pr.stats.scan_ns = sys_monotonic_ns() - t_start;
    }
    err = write_image(set, int(dirfd), version, written);
    if (err) {
        events::before_commit_failed(version);
        sys_close(int(dirfd));
        return report_error(err, false);
    }
    g_rt.last_error = 0;
    if (written.dir_sync_err)
        report(StatusType::Warning, written.dir_sync_err, version, 0, 0, 0,
               "checkpoint committed, but syncing the checkpoint directory failed: after a crash "
               "the previous version may be the newest");
    if (g_rt.standalone) prune_old_versions(int(dirfd), version);
    events::after_checkpoint(version);
    sys_close(int(dirfd));
    report(StatusType::CheckpointDone, 0, version, written.bytes, sys_monotonic_ns() - t_start,
           pr.stats.pages_written, nullptr);
}

void warn_restore(const char *msg)
{
    report(StatusType::RestoreWarning, 0, 0, 0, 0, 0, msg);
}

// What the restorer's checks would have refused, found only now (a file replaced between
// them and the reopen): the restore does not go on with the wrong file. Exit 79 before
// "restored": the launcher reports it as a stale image and keeps the checkpoints.
[[noreturn]] void refuse_restore(const char *msg)
{
    report(StatusType::RestoreWarning, 0, 0, 0, 0, 0, msg);
    sys_exit_group(exit_code::kStaleImage);
}

// An attribute the restorer's checks accepted but the kernel refused now (a lock another
// process took meanwhile): the restore does not go on without it.
[[noreturn]] void refuse_attrs(const char *msg)
{
    report(StatusType::RestoreWarning, 0, 0, 0, 0, 0, msg);
    sys_exit_group(exit_code::kAttrsRefused);
}

// First moments of the restored process, still inside the signal handler.
void finish_restore()
{
    // A forked writer set this in its copy before capturing memory, so the image holds the
    // pid of the process it was taken from; the restored process reports as itself.
    g_rt.report_pid = 0;
    // No registration came back with the memory: the next checkpoint is a full one.
    write_tracker::forget();
    // The other threads first: the leader's copy of the restore info and the restorer's
    // area are ready once every one of them is back in the runtime.
    threads::await_restored();
    ckpt_restore_info &info = g_rt.restore_info;
    ++g_rt.restores;
    sigstate::after_restore();
    g_rt.rollback_value = info.rollback_value;
    g_rt.mode = info.rollback_value > 0 ? Mode::RolledBack : Mode::Recovered;
    g_rt.status_fd = info.status_fd;
    g_rt.lock_fd = info.status_fd >= 0 && sys_fcntl(kLockFd, F_GETFD, 0) >= 0 ? kLockFd : -1;
    g_rt.launcher_pid = info.launcher_pid;
    if (info.status_fd >= 0) {
        g_rt.standalone = false;  // a launcher recovered it: it is supervised from now on
        g_rt.active = true;
        reinstall_handler(info.signal);
        g_rt.compress_level = info.compress_level;  // the new launcher's, not the image's
    }
    text::Builder(g_rt.job_dir, sizeof g_rt.job_dir).add(info.job_dir);

    // glibc caches the thread id in the thread descriptor (raise(), abort() and mutexes use it).
    if (g_rt.tid_offset) {
        uint64_t fs = 0;
        sys_arch_prctl(0x1003, reinterpret_cast<unsigned long>(&fs));
        *reinterpret_cast<int32_t *>(fs + g_rt.tid_offset) = int32_t(sys_gettid());
    }
    g_rt.lazy_fd = info.lazy_fd;
    restore_fds(reinterpret_cast<const void *>(info.fds), info.n_fds, reinterpret_cast<const char *>(info.strings),
                info.status_fd, info.lazy_fd, warn_restore, refuse_restore);
    if (info.cwd && sys_chdir(reinterpret_cast<const char *>(info.cwd)) != 0)
        warn_restore("cannot return to the working directory of the checkpoint");
    sys_umask(int(info.umask));
    if (info.mm_map_result != 0)
        warn_restore("the kernel refused the saved memory layout (brk, /proc): PR_SET_MM_MAP failed");
    if (info.rseq_result != 0) warn_restore("could not register rseq again");
    // Unprivileged (clone3 set_tid refused): a lock that records an old tid would fail its
    // owner; it cannot be told from other memory for sure, so it is not rewritten: refused.
    if (threads::changed_tids() > 0) {
        tid_locks::Found f;
        if (threads::find_tid_lock(info.blob_addr, info.blob_len, f)) {
            // The status message holds 88 bytes: the address and the way out are in the docs.
            char msg[128];
            text::Builder(msg, sizeof msg)
                .add("no CAP_CHECKPOINT_RESTORE: thread ")
                .add(uint64_t(f.tid))
                .add(" holds ")
                .add(f.kind)
                .add(" with its id");
            refuse_attrs(msg);
        }
        warn_restore("threads came back under new thread ids (clone3 set_tid not allowed); no lock records an "
                     "old one");
    }
    // Process attributes, once the descriptors (their locks) are back; the credentials are
    // kept for the very end (the section lives in the blob area, unmapped below).
    attrs::View view;
    image::ProcessAttrsRecord creds{};
    const bool has_attrs = info.attrs && attrs::parse(reinterpret_cast<const void *>(info.attrs), info.attrs_size, view);
    if (has_attrs) {
        attrs::restore(view, g_rt.signal, warn_restore, refuse_attrs);
        creds = *view.proc;
    }
    const uint64_t t_start = info.restorer_start_ns;
    const uint64_t version = info.version;
    sys_munmap(reinterpret_cast<void *>(info.blob_addr), info.blob_len);
    events::after_restore(version);
    // Last: everything above may have needed privilege the program had given up.
    if (has_attrs) attrs::restore_credentials(creds, refuse_attrs);
    // "lazy": the loader still brings memory in (the launcher's log says so).
    report(StatusType::Restored, 0, version, 0, t_start, sys_monotonic_ns(), g_rt.lazy_fd >= 0 ? "lazy" : nullptr);
    // A new process: the parent-death signal is armed anew (after the credentials, whose
    // change clears it). A launcher that died during the restore leaves the image as it was:
    // end, and let the next ckpt-run restore it again. Without a launcher the kernel's is the
    // program's own.
    if (info.status_fd >= 0 && !watch_launcher(info.signal)) die_without_launcher();
    if (info.status_fd < 0 && has_attrs) sys_prctl(PR_SET_PDEATHSIG, unsigned(creds.pdeathsig), 0, 0, 0);
}

}  // namespace

namespace {

// Stack the checkpoint needs below the handler's frame (the capture set's records and the
// writer's buffers are in the arena, not on the stack; this leaves a wide margin).
constexpr uint64_t kHandlerStackNeed = 64 * 1024;

// Sent by the launcher (kill, sigqueue, or its death as the parent-death signal), by
// chkpnt() (no siginfo) or handed on by another thread (threads.h): a checkpoint. Anything
// else with this number (the program's own raise(), another process, a timer) is the
// program's signal.
void wait_for_lazy_load()
{
    if (g_rt.lazy_fd < 0) return;
    char c;
    long n;
    do n = sys_read(g_rt.lazy_fd, &c, 1);
    while (n == -EINTR);
    sys_close(g_rt.lazy_fd);
    g_rt.lazy_fd = -1;
}

bool from_ckpt(const siginfo_t *si)
{
    if (!si || threads::handoffs(si) > 0) return true;
    if (si->si_code != SI_USER && si->si_code != SI_QUEUE) return false;
    return g_rt.launcher_pid > 0 && si->si_pid == g_rt.launcher_pid;
}

}  // namespace

void on_checkpoint_signal(int sig, siginfo_t *si, void *uc)
{
    const int saved_errno = errno;
    // Counted even when forwarded: a wait it interrupted resumes unless a handler of the
    // program ran (the forwarded handler counts as the program's).
    sigstate::note_checkpoint_tick();
    // Another thread takes a checkpoint: stop here. Unless that checkpoint was deferred
    // because this thread blocked the signal: then it is taken now (deferred_here).
    const bool stop_request = threads::is_stop_request(si);
    const bool deferred_here = stop_request && threads::on_stop_request(si, uc);
    if (stop_request && !deferred_here) {
        errno = saved_errno;
        return;
    }
    if (!deferred_here && !from_ckpt(si) && sigstate::forward_foreign(sig, si, uc)) {
        errno = saved_errno;
        return;
    }
    // The launcher died (this signal is also the parent-death signal): what follows is the
    // last checkpoint, after which the process ends.
    const bool orphaned = launcher_died();
    // The watchdog's active poll: being here proves the runtime can still run in this process.
    if (!orphaned && si && si->si_code == SI_QUEUE && (uint32_t(si->si_value.sival_int) >> 16) == kPollTag) {
        report(StatusType::PollAnswer, 0, uint32_t(si->si_value.sival_int) & 0xffffu, 0, 0, 0, nullptr);
        errno = saved_errno;
        return;
    }
    // A handler of the program running on its alternate stack was interrupted, and ckpt's
    // handler (no SA_ONSTACK) runs on that stack too: with less room than a checkpoint needs
    // there, this one is refused; the next tick finds the program back on its own stack.
    stack_t ss{};
    const uint64_t sp = reinterpret_cast<uint64_t>(&ss);
    if (sys_sigaltstack(nullptr, &ss) == 0 && (ss.ss_flags & SS_ONSTACK) &&
        sp - reinterpret_cast<uint64_t>(ss.ss_sp) < kHandlerStackNeed) {
        report(StatusType::CheckpointRefused, ENOMEM, 0, 0, 0, 0,
               "the program is in a signal handler on a small alternate stack: not now");
        errno = saved_errno;
        return;
    }
    // Lazy restore: memory still arriving is registered with the loader's userfaultfd, which
    // neither the write tracker nor a forked writer could see through. The first checkpoint
    // after the restore waits until every page is in (the other threads run on meanwhile).
    wait_for_lazy_load();
    // The launcher's request, and whether it asked for a synchronous write (kept until a
    // checkpoint is taken: it may be deferred).
    const bool from_launcher = !deferred_here ? (si && from_ckpt(si) && g_rt.status_fd >= 0 && !g_rt.standalone)
                                              : g_rt.status_fd >= 0 && !g_rt.standalone;
    if (from_launcher && si && si->si_code == SI_QUEUE && (uint32_t(si->si_value.sival_int) >> 16) == kSyncTag)
        g_rt.sync_wanted = true;
    const uint64_t t_start = sys_monotonic_ns();
    // One checkpoint at a time, of every thread: this thread coordinates it, or another one
    // already does and stops this one too.
    if (si ? !threads::begin_or_request(uc, threads::handoffs(si)) : !threads::begin(uc)) {
        if (!si) threads::wait_for_other_coordinator();  // chkpnt(): its checkpoint is that one
        errno = saved_errno;
        return;
    }
    if (CaptureError err = threads::stop_others()) {
        if (err.err == EINPROGRESS) {
            // Another thread takes it (handed on).
        } else if (err.err == EAGAIN) {
            if (g_rt.status_fd >= 0) report(StatusType::CheckpointDeferred, 0, 0, 0, 0, 0, err.what);
        } else {
            // A thread that never takes the signal may be glibc's helper of a SIGEV_THREAD
            // timer, which the attributes refuse anyway: say that, it is what the user made.
            CaptureSet set;
            CaptureError timers;
            if (set.init()) timers = attrs::check_timers(set);
            report_error(timers ? timers : err, true);
        }
        errno = saved_errno;
        return;
    }
    if (!events::before_checkpoint()) {
        threads::release();
        // Taken when the call returns; the launcher says so if that takes long (a blocked write).
        if (g_rt.status_fd >= 0)
            report(StatusType::CheckpointDeferred, 0, 0, 0, 0, 0,
                   "the program is inside a file-changing call that has not returned");
        errno = saved_errno;
        return;
    }
    if (ckpt_context_save(&g_rt.ctx) == 0) {
        // Forked only when the launcher asked (chkpnt() returns once its version is
        // committed; a last checkpoint of an orphan has nobody to reap a writer), and it did
        // not ask for a synchronous one.
        const bool may_fork = from_launcher && !orphaned && !launcher_died() && !g_rt.sync_wanted;
        run_checkpoint(t_start, may_fork);
        // Orphaned now or during this checkpoint (its report found the socket closed): this
        // was the last one, committed or not. The restored copy goes on in the other branch.
        if (orphaned || launcher_died()) die_without_launcher();
        threads::release();
    } else {
        finish_restore();
        threads::release();  // every thread resumes together, now that the restore is complete
        // The interrupted mask comes back with rt_sigreturn: under a launcher whose signal
        // differs from the checkpoint's, the new one must not stay blocked there.
        if (uc && g_rt.signal > 0)
            reinterpret_cast<ucontext_t *>(uc)->uc_sigmask.__val[0] &= ~sigstate::bit(g_rt.signal);
    }
    errno = saved_errno;
}

}  // namespace ckpt
