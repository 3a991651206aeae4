// ckptctl status NAME: is the job running, its pids, last checkpoint, restores, watchdog
// restarts and their causes, and whether checkpoints are stalled and why (from the launcher's
// status file and the job directory).
#include <iostream>
#include <memory>

#include "ckptctl_commands.h"
#include "exit_codes.h"
#include "job_dir.h"

namespace ckptctl {

using namespace ckpt;

Runner add_status(CLI::App &app)
{
    auto name = std::make_shared<std::string>();
    CLI::App *sub = app.add_subcommand("status", "state of job NAME: running or not, last checkpoint, restarts and why");
    sub->add_option("NAME", *name, "job name")->required();
    return [name](const Globals &g) {
        if (!valid_job_name(*name)) return fail(exit_code::kUsage, "'" + *name + "' is not a valid job name");
        JobDir job(g.root, *name);
        if (auto e = job.open(false)) return fail(e.exit_code(), e.message);
        const auto st = job.read_status();
        const bool running = job.locked_by_other();
        const auto versions = job.versions();
        std::string state = running ? (st ? st->state : "running") : "not running";
        if (!running && st && !st->state.empty() && st->state != "running" && st->state != "starting" &&
            st->state != "restoring" && st->state != "restarting")
            state += " (" + st->state + ")";
        std::cout << "job:              " << *name << "\n"
                  << "state:            " << printable(state) << "\n";
        if (running && st)
            std::cout << "launcher pid:     " << st->launcher_pid << "\n"
                      << "program pid:      " << st->program_pid << "\n";
        if (st) std::cout << "program:          " << printable(st->program) << "\n";
        std::cout << "checkpoints:      " << versions.size() << " kept";
        if (!versions.empty()) std::cout << ", newest version " << versions.back().version;
        std::cout << "\n";
        if (st) {
            std::cout << "last checkpoint:  ";
            if (st->last_version)
                std::cout << "version " << st->last_version << " at " << format_local_time(st->last_checkpoint_ns)
                          << ", " << format_size(st->last_image_bytes) << ", pause " << format_ns(st->last_pause_ns) << "\n";
            else
                std::cout << "none by this launcher\n";
            // A write in progress: the program runs on while a forked writer writes its snapshot.
            if (running && st->writing_version)
                std::cout << "writing:          version " << st->writing_version << " (writer pid " << st->writer_pid
                          << ", since " << format_local_time(st->writing_since_ns) << ")\n";
            if (!st->last_error.empty()) std::cout << "last failure:     " << printable(st->last_error) << "\n";
            // Only a running launcher's word is current: a stall it recorded before it ended is not.
            if (running && st->stalled_since_ns)
                std::cout << "STALLED:          no checkpoint since " << format_local_time(st->stalled_since_ns) << ": "
                          << printable(st->stall_reason) << "\n";
            std::cout << "restores:         " << st->restores;
            if (st->restores) std::cout << " (latest from version " << st->restored_version << ", " << format_ns(st->last_restore_ns) << ")";
            std::cout << "\n"
                      << "restarts:         " << st->restarts << "\n";
            if (!st->restart_causes.empty()) std::cout << "restart causes:   " << printable(st->restart_causes) << " (newest first)\n";
        }
        return exit_code::kOk;
    };
}

}  // namespace ckptctl
