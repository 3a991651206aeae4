// A job's checkpoint directory, shared by ckpt-run and ckptctl: where it is, what versions
// it holds, the lock a running launcher holds, and the status file it keeps up to date.
//
//   ROOT/            0700, from --dir, else $CKPT_DIR, else $XDG_STATE_HOME/ckpt,
//                    else ~/.local/state/ckpt
//     NAME/          0700, one per job
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

// The checkpoint root: explicit option, else $CKPT_DIR, else the documented default.
std::string resolve_root(const std::string &option);

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
    bool exists() const;

    // Creates ROOT and ROOT/NAME with mode 0700 and checks that a file can be created there.
    std::error_code create() const;

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
    // Deletes all but the newest `retain` versions (0 keeps all).
    void prune(size_t retain) const;
    // Deletes the images, the status file, the lock and the directory.
    std::error_code remove_all() const;

    void write_status(const JobStatus &s) const;
    std::optional<JobStatus> read_status() const;

private:
    std::string root_, name_, path_;
    int lock_fd_ = -1;
};

// Lists job names under a root.
std::vector<std::string> list_jobs(const std::string &root);

}  // namespace ckpt
