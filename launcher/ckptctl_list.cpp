// ckptctl list [NAME]: the jobs of the root, or the versions of one job.
#include <iostream>
#include <memory>

#include "chain_reader.h"
#include "ckptctl_commands.h"
#include "exit_codes.h"
#include "job_dir.h"

namespace ckptctl {

using namespace ckpt;

namespace {

// What the job is doing: the status file says what its launcher last wrote, the lock says
// whether that launcher is still there.
std::string job_state(const JobDir &job)
{
    const bool locked = job.locked_by_other();
    const auto status = job.read_status();
    const std::string state = status ? status->state : "";
    const bool live_state = state == "running" || state == "starting" || state == "restoring";
    if (locked) return live_state ? state : "starting";
    if (live_state) return "stopped";  // the launcher went away without recording an outcome
    return state.empty() ? "-" : state;
}

int list_jobs_of_root(const Globals &g)
{
    DirError error;
    const auto names = list_jobs(g.root, &error);
    if (error) return fail(error.exit_code(), error.message);
    if (names.empty()) {
        std::cout << "no jobs in " << g.root << "\n";
        return exit_code::kOk;
    }
    Table table({"NAME", "STATE", "VERSIONS", "LATEST", "LATEST TIME"});
    table.align_right(2);
    table.align_right(3);
    for (const auto &name : names) {
        JobDir job(g.root, name);
        const auto versions = job.versions();
        std::string latest = "-", when = "-";
        if (!versions.empty()) {
            latest = std::to_string(versions.back().version);
            when = format_local_time(versions.back().mtime_ns);
        }
        table.add({printable(name), printable(job_state(job)), std::to_string(versions.size()), latest, when});
    }
    std::cout << table.str();
    return exit_code::kOk;
}

int list_versions(const Globals &g, const std::string &name)
{
    if (!valid_job_name(name)) return fail(exit_code::kUsage, "'" + name + "' is not a valid job name");
    JobDir job(g.root, name);
    if (auto e = job.open(false)) return fail(e.exit_code(), e.message);
    const auto versions = job.versions();
    if (versions.empty()) {
        std::cout << "job " << printable(name) << " (" << printable(job_state(job)) << ") has no checkpoints\n";
        return exit_code::kOk;
    }
    // CHAIN: "full", or "+N of V" for an incremental image N links above its parent V
    // ("broken" when that chain cannot be restored).
    Table table({"VERSION", "TIME", "SIZE", "CHAIN", "PID", "PROGRAM"});
    table.align_right(0);
    table.align_right(2);
    table.align_right(4);
    for (const auto &v : versions) {
        Image img;
        if (ImageStatus s = read_image(v.path, img)) {
            table.add({std::to_string(v.version), format_local_time(v.mtime_ns), format_size(v.size), "-", "-",
                       "error: " + printable(s.message)});
            continue;
        }
        std::string chain = "full";
        if (img.header.image_flags & image::kImageIncremental) {
            std::vector<Image> ancestors;
            chain = "+" + std::to_string(img.header.chain_depth) + " of " + std::to_string(img.header.parent_version);
            if (read_chain(img, ancestors)) chain += " broken";
        }
        const int64_t created = int64_t(img.process.created_realtime_ns);
        table.add({std::to_string(v.version), format_local_time(created > 0 ? created : v.mtime_ns),
                   format_size(v.size), chain, std::to_string(img.process.pid),
                   printable(img.str(img.process.cmdline))});
    }
    std::cout << table.str();
    return exit_code::kOk;
}

}  // namespace

Runner add_list(CLI::App &app)
{
    auto name = std::make_shared<std::string>();
    CLI::App *sub = app.add_subcommand("list", "list the jobs, or the checkpoint versions of job NAME");
    sub->add_option("NAME", *name, "job name");
    return [name](const Globals &g) { return name->empty() ? list_jobs_of_root(g) : list_versions(g, *name); };
}

}  // namespace ckptctl
