// A job's checkpoint directory, shared by ckpt-run and ckptctl: where it is, what versions
// it holds, the lock a running launcher holds, and the status file it keeps up to date.
//
//   ROOT/            0700, from --dir, else $CKPT_DIR, else $XDG_STATE_HOME/ckpt,
//                    else ~/.local/state/ckpt, else (HOME unset) $XDG_RUNTIME_DIR/ckpt
//     NAME/          0700, one per job, carrying ckpt's marker (runtime/job_layout.h)
//       .ckpt-job             the marker: only a directory with it is ever written or removed
//       ckpt-000001.img ...   committed versions (0600, immutable)
//       .ckpt-000002.img.tmp  a checkpoint being written
//       pct-000002.log        persistent checkpoint table of epoch 2 (changes after version 2)
//       undo-000002/          files kept for it (docs/persistent-state.md)
//       lock                  flock()ed by the running launcher
//       status                the launcher's view of the job (key=value lines; newlines,
//                             carriage returns and backslashes in values as \n, \r, \\)
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <system_error>
#include <vector>

namespace ckpt {

// The checkpoint root: explicit option, else $CKPT_DIR, else the documented default; empty
// when there is none (no HOME, no XDG_RUNTIME_DIR: never a shared /tmp path).
std::string resolve_root(const std::string &option);
// What to tell the user when resolve_root() found no root.
std::string no_root_message();

// Default job name: program base name and a hash of the command line and working directory,
// so the same command in the same place is the same job.
std::string derive_job_name(const std::vector<std::string> &argv, const std::string &cwd);

struct VersionInfo {
    uint64_t version = 0;
    std::string path;
    uint64_t size = 0;
    int64_t mtime_ns = 0;
};

struct JobStatus {
    std::string state;         // "running", "exited", "crashed", "restoring"
    int launcher_pid = 0;
    int program_pid = 0;
    int signal = 0;            // checkpoint signal
    std::string program;
    uint64_t seq = 0;          // bumped at every checkpoint outcome
    uint64_t checkpoints = 0;  // committed by this launcher
    uint64_t failures = 0;
    uint64_t last_version = 0;
    int64_t last_checkpoint_ns = 0;  // CLOCK_REALTIME
    uint64_t last_pause_ns = 0;
    uint64_t last_image_bytes = 0;
    std::string last_error;
    uint64_t restores = 0;
    uint64_t restored_version = 0;
    uint64_t last_restore_ns = 0;    // restorer start until the program ran again
    uint64_t restarts = 0;           // watchdog restarts
    std::string restart_causes;      // most recent first, ';'-separated
    // Checkpoints stalled: none for longer than twice the interval. Since when (CLOCK_REALTIME
    // of the last checkpoint, or of the program's start; 0 = not stalled) and why.
    int64_t stalled_since_ns = 0;
    std::string stall_reason;
    // A forked writer is writing this version (0: none), as process writer_pid, since
    // writing_since_ns (CLOCK_REALTIME).
    uint64_t writing_version = 0;
    int writer_pid = 0;
    int64_t writing_since_ns = 0;
};

// Why a root or job directory is not used. The message names the path (and the owner).
struct DirError {
    enum class Kind {
        None,
        Missing,           // no such job (ckptctl)
        Os,                // cannot be created or opened (errno in the message)
        PermissionDenied,  // EACCES/EPERM on the root or the job directory
        NotJobDir,         // exists, but ckpt did not make it (no marker)
        Unsafe,            // foreign owner, writable by others, a symbolic link
    };
    Kind kind = Kind::None;
    std::string message;
    explicit operator bool() const { return kind != Kind::None; }
    // ckpt-run's and ckptctl's exit status for it (launcher/exit_codes.h).
    int exit_code() const;
};

class JobDir {
public:
    JobDir(std::string root, std::string name);
    ~JobDir();
    JobDir(const JobDir &) = delete;
    JobDir &operator=(const JobDir &) = delete;

    const std::string &root() const { return root_; }
    const std::string &name() const { return name_; }
    const std::string &path() const { return path_; }
    // Whether ROOT/NAME exists (as anything: open() says whether it is usable).
    bool exists() const;

    // Creates ROOT (and its missing parents, never through a link someone else owns) and
    // ROOT/NAME with mode 0700 and ckpt's marker; checks that both are the caller's and not
    // writable by others, that an existing ROOT/NAME carries the marker, and that a file can
    // be created there.
    DirError create();
    // Opens an existing job directory. `for_writing`: also requires the marker and the
    // ownership and mode checks of create() (ckptctl rm and other verbs that change it).
    DirError open(bool for_writing);

    // Committed versions, oldest first.
    std::vector<VersionInfo> versions() const;
    std::string image_path(uint64_t version) const;

    // Exclusive lock held for as long as this object lives. False if another launcher has it.
    bool try_lock();
    // The locked descriptor (-1 before try_lock()). The program inherits it (kLockFd), so the
    // lock stays held for as long as any process of the job runs.
    int lock_fd() const { return lock_fd_; }
    // Whether some launcher holds the lock now.
    bool locked_by_other() const;

    void remove_stale_temps() const;
    // The temporary image of one version (a forked writer that died while writing it).
    void remove_image_temp(uint64_t version) const;
    // Deletes all but the newest `retain` versions (0 keeps all).
    void prune(size_t retain) const;
    // Deletes what ckpt wrote (names of runtime/job_layout.h, never through a link) and then
    // the directory; anything else is left in place, with a warning naming it, and then the
    // directory stays. The error names what was left.
    std::error_code remove_all() const;

    void write_status(const JobStatus &s) const;
    std::optional<JobStatus> read_status() const;

private:
    // Descriptors of ROOT and ROOT/NAME, opened on first use (without creating anything).
    int root_fd() const;
    int dir_fd() const;
    DirError check_dir(int fd, const std::string &path) const;
    std::string root_, name_, path_;
    mutable int root_fd_ = -1, dir_fd_ = -1;
    int lock_fd_ = -1;
};

// For a full disk: "no space left in DIR: the image needs 8.0 MiB, 1.2 MiB are free" (without
// `needed` when it is not known).
std::string disk_full_message(const std::string &dir, uint64_t needed);

// Lists job names under a root (directories, not links). Sets `error` (naming the root and
// the reason) when the root exists but cannot be read.
std::vector<std::string> list_jobs(const std::string &root, DirError *error = nullptr);

}  // namespace ckpt
