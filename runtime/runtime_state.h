// The runtime's state inside the program. One instance, in libckpt.so's data, and therefore
// itself part of every image: after a restore it holds checkpoint-time values until
// finish_restore() refreshes what belongs to the new process.
#pragma once

#include <signal.h>

#include "image_format.h"
#include "restore_info.h"
#include "status_protocol.h"

namespace ckpt {

enum class Mode : int { None = 0, Normal = 1, Recovered = 2, RolledBack = 3 };

struct ProtectedRange {
    uint64_t addr, len;
};

struct RuntimeState {
    bool active = false;
    bool standalone = false;  // linked with -lckpt and started without ckpt-run
    bool passive = false;     // a descendant of the launched program: never checkpoints
    Mode mode = Mode::None;
    int last_error = 0;       // errno of the last checkpoint attempt, 0 if it was committed
    int rollback_value = 0;   // what chkpnt() returns after the last restore
    int signal = 0;
    int status_fd = -1;
    int lock_fd = -1;  // the job's lock (kLockFd unless the program made ckpt move it)
    int lazy_fd = -1;  // lazy restore: end of file once the loader has every page in (lazy_loader.h)
    int launcher_pid = 0;
    uint32_t tid_offset = 0;
    uint64_t restores = 0;  // how many times this process image was restored
    // The newest version a forked writer was started for: the next checkpoint takes a higher
    // number even if that one never committed, because its epoch's log is in use
    // (checkpoint.cpp). 0: none.
    uint64_t forked_version = 0;
    // The launcher asked for a synchronous checkpoint (--no-fork, or a forked writer could not
    // see all memory) and it has not been taken yet (it may have been deferred).
    bool sync_wanted = false;
    // Incremental checkpoints (write_tracker.h, image_chain.h): a full image at least every
    // this many increments (CKPT_FULL_EVERY; 0: never incremental).
    uint32_t full_every = 8;
    // zstd level for page data (--compress, CKPT_COMPRESS), 0: stored raw.
    int compress_level = 0;
    // Tests only (CKPT_TEST_WRITER_STALL=V, read at start): the forked writer of version V
    // stops before it writes, until it is killed, as a writer on a hung disk would. 0: never.
    uint64_t test_writer_stall = 0;
    // Status records name this pid instead of getpid() (the forked writer reports for the
    // program). 0: getpid().
    int32_t report_pid = 0;
    char job_dir[CKPT_PATH_MAX] = {};
    char restorer[CKPT_PATH_MAX] = {};
    // Identity of the command the job was started with (16 hex digits, from the launcher or,
    // standalone, computed the same way); recorded in every image. Empty if unknown.
    char command_id[17] = {};
    ProtectedRange protected_ranges[64] = {};
    int n_protected = 0;
    // Identity (st_dev, st_ino) of descriptors 0-2 as the launcher handed them to the program
    // at its start; 0 = not a regular file. A standard descriptor that refers to another
    // regular file at a checkpoint was set by the program itself (e.g. sort -o: dup2 onto 1)
    // and is restored like any other descriptor, by path.
    uint64_t std_dev[3] = {}, std_ino[3] = {};
    // Descriptors above 2 that a standalone program found open at its start and that ckpt
    // cannot reopen (pipes, sockets, other kernel objects): fd_table.cpp saves them as
    // inherited (image::kFdInherited) instead of refusing the checkpoint.
    struct InheritedFd {
        int32_t fd;
        bool logged;  // the one log line about it was written
        uint64_t dev, ino;
    };
    InheritedFd inherited[32] = {};
    int n_inherited = 0;
    // The world this process runs in (world.h), taken at library start, copied into every image.
    image::WorldRecord world{};
    uint32_t rseq_len = 32;  // world::rseq_length()
    image::CpuContext ctx{};
    ckpt_restore_info restore_info{};
};

extern RuntimeState g_rt;

// Sends one status record to the launcher (or, without one, a line to stderr).
void report(StatusType type, int err, uint64_t version, uint64_t bytes, uint64_t ns_a,
            uint64_t ns_b, const char *text);


// The checkpoint signal handler and its two halves. chkpnt() calls it directly.
void on_checkpoint_signal(int sig, siginfo_t *info, void *uctx);

// Standalone mode (no launcher): the job directory ckpt-run would use for this command.
bool init_standalone();

// After a restore under a (new) launcher: the checkpoint signal it uses gets our handler.
void reinstall_handler(int sig);

// Under a launcher, the checkpoint signal is also the parent-death signal: the program learns
// at once that its launcher died (the handler then takes a last checkpoint and ends the
// process). The kernel clears it at a set-user-ID exec and it belongs to the process, so it
// is armed again after every start and every restore. False if the launcher is already gone.
bool watch_launcher(int sig);

// Whether this process was started by a launcher that has died since (async-signal-safe).
bool launcher_died();

// The end of a program whose launcher died: SIGKILL, as if the whole job had been killed, so
// that no atexit handler runs and the next ckpt-run resumes from the newest checkpoint.
[[noreturn]] void die_without_launcher();

}  // namespace ckpt
