// ckptctl [--dir ROOT] [-v|-q] VERB ...: look at and act on the jobs of a checkpoint root
// (docs/ckptctl.md). The verbs are in ckptctl_VERB.cpp.
#include <CLI/CLI.hpp>

#include "ckptctl_commands.h"
#include "exit_codes.h"
#include "job_dir.h"
#include "logging.h"

using namespace ckptctl;
namespace exit_code = ckpt::exit_code;

int main(int argc, char **argv)
{
    CLI::App app{"Inspect, verify, checkpoint and remove the jobs of ckpt-run.", "ckptctl"};
    Globals globals;
    // Global options are accepted before or after the verb.
    app.fallthrough();
    app.add_option("--dir", globals.dir,
                   "checkpoint root directory (default $XDG_STATE_HOME/ckpt or ~/.local/state/ckpt)")
        ->envname("CKPT_DIR");
    app.add_flag("-v,--verbose", globals.verbosity, "more log output (-vv for debug)");
    app.add_flag("-q,--quiet", globals.quiet, "errors only");
    app.require_subcommand(1);
    app.failure_message([](const CLI::App *, const CLI::Error &e) {
        return std::string("ckptctl: error: ") + e.what() + " (see ckptctl --help)\n";
    });

    std::vector<std::pair<CLI::App *, Runner>> verbs;
    auto add = [&](Runner (*factory)(CLI::App &)) {
        const size_t before = app.get_subcommands({}).size();
        Runner run = factory(app);
        verbs.emplace_back(app.get_subcommands({})[before], std::move(run));
    };
    add(add_list);
    add(add_inspect);
    add(add_verify);
    add(add_checkpoint);
    add(add_rm);
    add(add_status);
    add(add_regions);
    add(add_cps);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
        const int rc = app.exit(e);
        return rc == 0 ? exit_code::kOk : exit_code::kUsage;
    }
    ckpt::setup_logging("ckptctl", globals.verbosity, globals.quiet);
    if (app.get_option("--dir")->count() && globals.dir.empty())
        return fail(exit_code::kUsage, "--dir: expected a non-empty value");
    globals.root = ckpt::resolve_root(globals.dir);
    if (globals.root.empty()) return fail(exit_code::kCantCreate, ckpt::no_root_message());
    spdlog::debug("checkpoint root {}", globals.root);

    for (auto &[sub, run] : verbs)
        if (sub->parsed()) return run(globals);
    return fail(exit_code::kUsage, "no verb given (see ckptctl --help)");
}
