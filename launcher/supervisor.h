// One run of the program under ckpt-run: starts it (fresh, with libckpt.so preloaded, or
// through the restorer from an image), acts as its clock daemon, relays checkpoint requests
// from ckptctl, forwards termination signals, reaps it, and keeps the job's status file.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "job_dir.h"

namespace ckpt {

struct RunConfig {
    std::vector<std::string> argv;  // argv[0] as the user gave it
    std::string program_path;       // resolved executable
    std::string lib_path;           // libckpt.so
    std::string restorer_path;      // ckpt-restore
    std::chrono::nanoseconds interval{};
    double max_overhead_pct = 10;  // bound on the share of time stopped in checkpoints; 0 = none
    std::string command_id;        // identity of the command (command_identity.h)
    int signal = 0;
    size_t retain = 3;
    bool no_fork = false;  // --no-fork: every checkpoint written synchronously (kSyncTag)
    bool lazy = false;     // --lazy: restores serve private anonymous memory on demand (CKPT_LAZY)
    bool incremental = true;  // --no-incremental: every image full (CKPT_INCREMENTAL for the runtime)
    int full_every = 8;       // --full-every: at most this many increments after a full image
    int compress_level = 0;  // --compress=LEVEL: zstd level of page data (CKPT_COMPRESS), 0 = off
    // --writer-timeout: a forked writer that has not committed after this is killed and its
    // version given up. kWriterTimeoutAuto: max(60 s, 10 x the last forked write); 0: never.
    static constexpr std::chrono::nanoseconds kWriterTimeoutAuto{-1};
    std::chrono::nanoseconds writer_timeout = kWriterTimeoutAuto;
    // Hang detection (watchdog): 0 = off.
    std::chrono::nanoseconds heartbeat{};  // passive: ckpt_heartbeat() at least this often
    std::chrono::nanoseconds poll{};       // active: poll the runtime this often, answer within as long
    std::chrono::nanoseconds stop_timeout{std::chrono::seconds(10)};  // SIGTERM .. SIGKILL
    // Persistent state (docs/persistent-state.md).
    std::vector<std::string> exclude;               // absolute paths/globs or component globs
    bool sync_undo = false;                         // every undo record durable before its change
    std::string on_undo_failure = "fail";           // "fail" or "proceed"
    std::vector<std::pair<std::string, std::string>> replace;  // --replace-file OLD=NEW
};

struct RunOutcome {
    enum class Kind {
        Exited,        // the program ran and ended: wait_status is its status
        RestoreFailed, // the restorer gave up before the program ran: restorer_exit says why
        SpawnFailed,   // fork/exec failed: message says why
    } kind = Kind::Exited;
    int wait_status = 0;
    int restorer_exit = 0;
    bool restored = false;  // the program ran from a checkpoint
    bool keep = false;      // the program asked (ckpt_keep) to keep its checkpoints
    bool hung = false;      // killed by the watchdog's hang detection
    bool stop_requested = false;  // ckpt-run itself was told to stop (SIGTERM, SIGINT, ...)
    bool lazy_failed = false;     // the lazy restore's loader found damaged page data and killed it
    int files_exit = 0;           // roll_back_files() failed with this exit code: nothing was restored
    std::string message;    // SpawnFailed: why; Exited: the cause in words
};

class Supervisor {
public:
    Supervisor(const RunConfig &cfg, JobDir &job, JobStatus &status);
    // Runs the program fresh (image empty) or restored from `image`, until it ends. When
    // restoring, `pid` (the checkpointed process id) is asked for the restored process, and
    // `roll_back_files` is called once the restorer has loaded and checked the image's pages,
    // before it tears anything down (StatusType::Staged); its nonzero result (an exit code)
    // stops the restore and is returned as RunOutcome::files_exit.
    RunOutcome run(const std::string &image, int pid = 0, const std::function<int()> &roll_back_files = {});

private:
    const RunConfig &cfg_;
    JobDir &job_;
    JobStatus &status_;
    bool sd_ready_sent_ = false;  // systemd has been told READY=1
};

}  // namespace ckpt
