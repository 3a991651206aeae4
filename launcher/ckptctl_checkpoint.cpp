// ckptctl checkpoint NAME [--timeout DUR]: ask the launcher running job NAME for a checkpoint
// now and wait for its outcome.
//
// The protocol is the status file and one signal: the launcher bumps `seq` in the status file
// at every checkpoint outcome (last_version on success, last_error on failure), and turns a
// SIGUSR1 into the program's checkpoint signal once the runtime in the program is ready
// (state "running"). A checkpoint the launcher takes on its interval at the same moment may
// be the one reported.
#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <memory>
#include <thread>

#include "ckptctl_commands.h"
#include "duration.h"
#include "exit_codes.h"
#include "job_dir.h"
#include "logging.h"

namespace ckptctl {

using namespace ckpt;
using Clock = std::chrono::steady_clock;

namespace {

constexpr auto kPollInterval = std::chrono::milliseconds(10);

// Whether process `pid` has the job's lock file open: the status file may still name the
// previous launcher (killed without a chance to update it) while a new one holds the lock,
// and SIGUSR1 must never go to an unrelated process (its default action is to terminate).
// Undecidable (no permission to look) counts as yes: the lock is held by someone.
bool holds_lock_file(int pid, const std::string &lock_path)
{
    char resolved[PATH_MAX];
    if (!::realpath(lock_path.c_str(), resolved)) return false;
    const std::string fd_dir = "/proc/" + std::to_string(pid) + "/fd";
    DIR *d = ::opendir(fd_dir.c_str());
    if (!d) return errno == EACCES || errno == EPERM;
    bool found = false;
    while (dirent *e = ::readdir(d)) {
        if (e->d_name[0] == '.') continue;
        char link[PATH_MAX];
        const ssize_t n = ::readlinkat(dirfd(d), e->d_name, link, sizeof link - 1);
        if (n <= 0) continue;
        link[n] = 0;
        if (std::strcmp(link, resolved) == 0) { found = true; break; }
    }
    ::closedir(d);
    return found;
}

std::string duration_text(Clock::duration d)
{
    return format_duration(std::chrono::duration_cast<std::chrono::nanoseconds>(d));
}

int run_checkpoint(const Globals &g, const std::string &name, Clock::duration timeout)
{
    if (!valid_job_name(name)) return fail(exit_code::kUsage, "'" + name + "' is not a valid job name");
    JobDir job(g.root, name);
    if (auto e = job.open(false)) return fail(e.exit_code(), e.message);
    const auto deadline = Clock::now() + timeout;
    const std::string lock_path = job.path() + "/lock";

    // The launcher must be there and the program ready for checkpoints.
    JobStatus status;
    for (;;) {
        if (!job.locked_by_other())
            return fail(exit_code::kUnavailable, "job '" + name + "' is not running (no launcher holds it)");
        auto st = job.read_status();
        if (st && st->state == "running" && st->launcher_pid > 0 && holds_lock_file(st->launcher_pid, lock_path)) {
            status = *st;
            break;
        }
        if (Clock::now() >= deadline)
            return fail(exit_code::kTimeout, "job '" + name + "' did not become ready for a checkpoint within " +
                                                 duration_text(timeout) + " (state: " +
                                                 (st && !st->state.empty() ? st->state : "unknown") + ")");
        std::this_thread::sleep_for(kPollInterval);
    }

    const uint64_t seq = status.seq;
    spdlog::info("asking launcher {} of job {} for a checkpoint (seq {})", status.launcher_pid, name, seq);
    if (::kill(status.launcher_pid, SIGUSR1) != 0) {
        if (errno == ESRCH)
            return fail(exit_code::kUnavailable, "job '" + name + "' is not running (its launcher has exited)");
        return fail(exit_code::kOsError, "cannot signal the launcher (pid " + std::to_string(status.launcher_pid) +
                                             ") of job '" + name + "': " + std::strerror(errno));
    }

    for (;;) {
        auto st = job.read_status();
        if (st && st->seq != seq) {
            if (!st->last_error.empty())
                return fail(exit_code::kCheckpointFailed, "checkpoint of job '" + name + "' failed: " + st->last_error);
            std::cout << st->last_version << "\n";
            return exit_code::kOk;
        }
        // The status file goes with the job when the program exits with status 0.
        if (!st || st->state == "exited" || st->state == "crashed" || !job.locked_by_other())
            return fail(exit_code::kCheckpointFailed,
                        "job '" + name + "' ended before the checkpoint was taken");
        if (Clock::now() >= deadline)
            return fail(exit_code::kTimeout, "no checkpoint of job '" + name + "' within " + duration_text(timeout));
        std::this_thread::sleep_for(kPollInterval);
    }
}

}  // namespace

Runner add_checkpoint(CLI::App &app)
{
    struct Options {
        std::string name;
        std::string timeout = "60s";
    };
    auto opt = std::make_shared<Options>();
    CLI::App *sub = app.add_subcommand("checkpoint", "take a checkpoint of running job NAME now and print its version");
    sub->add_option("NAME", opt->name, "job name")->required();
    sub->add_option("--timeout", opt->timeout, "how long to wait: 500ms, 2s, 30m, 1h, or seconds (default 60s)");
    return [opt](const Globals &g) {
        auto timeout = parse_duration(opt->timeout);
        if (!timeout)
            return fail(exit_code::kUsage,
                        "--timeout " + opt->timeout + ": expected a duration such as 500ms, 2s, 30m, 1h");
        return run_checkpoint(g, opt->name, std::chrono::duration_cast<Clock::duration>(*timeout));
    };
}

}  // namespace ckptctl
