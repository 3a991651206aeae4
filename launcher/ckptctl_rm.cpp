// ckptctl rm NAME: delete a job's checkpoints, status and directory, unless it is running.
#include <iostream>
#include <memory>

#include "ckptctl_commands.h"
#include "exit_codes.h"
#include "job_dir.h"

namespace ckptctl {

using namespace ckpt;

Runner add_rm(CLI::App &app)
{
    auto name = std::make_shared<std::string>();
    CLI::App *sub = app.add_subcommand("rm", "delete job NAME and all its checkpoints (refused while it runs)");
    sub->add_option("NAME", *name, "job name")->required();
    return [name](const Globals &g) {
        if (!valid_job_name(*name)) return fail(exit_code::kUsage, "'" + *name + "' is not a valid job name");
        JobDir job(g.root, *name);
        // Only a directory ckpt made, the caller's and not writable by others, is touched.
        if (auto e = job.open(true)) return fail(e.exit_code(), e.message);
        // Holding the lock ourselves while deleting keeps a launcher from starting the job
        // half-way through (it would find the lock taken and refuse to run).
        if (!job.try_lock()) {
            auto st = job.read_status();
            return fail(exit_code::kTempFail,
                        "job '" + *name + "' is running" +
                            (st && st->launcher_pid ? " (launcher pid " + std::to_string(st->launcher_pid) + ")" : "") +
                            "; stop it first");
        }
        const size_t n = job.versions().size();
        if (auto ec = job.remove_all()) {
            if (ec == std::errc::directory_not_empty)
                return fail(exit_code::kNotJobDir, "removed what ckpt wrote in " + job.path() +
                                                       ", but not the directory: it holds files ckpt did not write (see above)");
            return fail(exit_code::kOsError, "cannot remove " + job.path() + ": " + ec.message());
        }
        std::cout << "removed job " << *name << " (" << n << (n == 1 ? " checkpoint)" : " checkpoints)") << "\n";
        return exit_code::kOk;
    };
}

}  // namespace ckptctl
