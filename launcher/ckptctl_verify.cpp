// ckptctl verify NAME|IMAGE|NAME:VERSION: header, metadata, page data and referenced files of
// one image, or of every version of a job.
#include <algorithm>
#include <iostream>
#include <memory>

#include "chain_reader.h"
#include "ckptctl_commands.h"
#include "pct_reader.h"
#include "undo.h"
#include "exit_codes.h"
#include "job_dir.h"

namespace ckptctl {

using namespace ckpt;

namespace {

// How bad a result is, for the overall exit status: a corrupt image outweighs a stale one,
// which outweighs one whose files are missing.
int severity(int code)
{
    switch (code) {
    case exit_code::kOk: return 0;
    case exit_code::kNoInput: return 1;
    case exit_code::kStaleImage: return 2;
    case exit_code::kUndoFailed: return 3;
    default: return 4;
    }
}

}  // namespace

Runner add_verify(CLI::App &app)
{
    auto target = std::make_shared<std::string>();
    CLI::App *sub = app.add_subcommand("verify", "check every version of job NAME, or one image, for corruption");
    sub->add_option("TARGET", *target, "job NAME, NAME:VERSION or image file")->required();
    return [target](const Globals &g) {
        std::vector<std::pair<std::string, std::string>> images;  // label, path
        // A bare job name means every version; anything else names one image.
        const bool whole_job = valid_job_name(*target) && target->find(':') == std::string::npos &&
                               JobDir(g.root, *target).exists();
        if (whole_job) {
            JobDir job(g.root, *target);
            for (const auto &v : job.versions()) images.emplace_back("version " + std::to_string(v.version), v.path);
            if (images.empty()) return fail(exit_code::kNoInput, "job '" + *target + "' has no checkpoints");
        } else {
            int code = 0;
            auto ref = resolve_image(g.root, *target, code);
            if (!ref) return code;
            images.emplace_back(ref->version ? "version " + std::to_string(ref->version) : ref->path, ref->path);
        }
        int worst = exit_code::kOk;
        bool undo_bad = false;
        for (const auto &[label, path] : images) {
            Image img;
            ImageStatus s = verify_image(path, img);
            // An incremental image is only as good as its chain: every ancestor, checked whole.
            std::vector<Image> ancestors;
            if (!s) s = read_chain(img, ancestors);
            for (size_t i = 0; i < ancestors.size() && !s; ++i)
                if (ImageStatus a = verify_data(ancestors[i]))
                    s = {ImageError::ChainBroken, "ancestor " + ancestors[i].path + ": " + a.message};
            if (!s) {
                std::cout << label << ": ok";
                if (!ancestors.empty())
                    std::cout << " (incremental: its chain of " << ancestors.size() << " ancestor"
                              << (ancestors.size() == 1 ? "" : "s") << " down to version "
                              << ancestors.back().process.checkpoint_version << " is intact)";
                std::cout << "\n";
                continue;
            }
            std::cout << label << ": " << image_error_name(s.code) << ": " << s.message << "\n";
            const int code = exit_code_for(s.code);
            if (severity(code) > severity(worst)) worst = code;
        }
        // The undo data of every epoch (what a recovery would need to roll files back), and of
        // every version (an image vouches for the log of its epoch).
        if (whole_job) {
            const std::string dir = JobDir(g.root, *target).path();
            std::vector<uint64_t> epochs;
            for (const auto &e : persist::list_epochs(dir)) epochs.push_back(e.epoch);
            for (const auto &v : JobDir(g.root, *target).versions()) epochs.push_back(v.version);
            std::sort(epochs.begin(), epochs.end());
            epochs.erase(std::unique(epochs.begin(), epochs.end()), epochs.end());
            for (uint64_t e : epochs) {
                const std::vector<std::string> problems = persist::check_epoch(dir, e);
                if (problems.empty()) {
                    const persist::VerifyResult r = persist::verify_epoch(dir, e);
                    if (r.records == 0 && !r.ok) continue;  // no log, and none needed
                    std::cout << "undo data of epoch " << e << ": ok (" << r.records << " records, " << r.data_bytes
                              << " bytes of old data, " << r.kept_files << " kept files)\n";
                    continue;
                }
                for (const auto &p : problems) std::cout << "undo data of epoch " << e << ": " << printable(p) << "\n";
                undo_bad = true;
                if (severity(exit_code::kUndoFailed) > severity(worst)) worst = exit_code::kUndoFailed;
            }
        }
        std::cout.flush();
        if (worst != exit_code::kOk) {
            if (worst == exit_code::kUndoFailed)
                return fail(worst, "the undo data is damaged or missing: a recovery would stop "
                                   "(or, with --on-undo-failure=proceed, leave files not rolled back)");
            const char *what = worst == exit_code::kBadImage     ? "corrupt"
                               : worst == exit_code::kStaleImage ? "stale (a file it maps has changed)"
                               : worst == exit_code::kUntrusted  ? "untrusted (not yours with mode 0600)"
                                                                 : "unusable (a file it needs is missing)";
            return fail(worst, (images.size() == 1 ? std::string("the image is ") : std::string("at least one version is ")) +
                                   what + (undo_bad ? "; the undo data is damaged or missing too" : ""));
        }
        return exit_code::kOk;
    };
}

}  // namespace ckptctl
