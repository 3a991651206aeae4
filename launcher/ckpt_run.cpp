// ckpt-run [options] -- PROGRAM [ARGS...]
// Pre-execution: restore the job from its newest valid checkpoint, or start it fresh.
// Clean-up: after exit status 0 the job's checkpoints are deleted (unless --keep).
#include <CLI/CLI.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <sys/wait.h>
#include <unistd.h>

#include <elf.h>

#include <climits>

#include <cerrno>
#include <cstring>
#include <cstdlib>
#include <functional>

#include "checkpoint_schedule.h"
#include "command_identity.h"
#include "compress/block_codec.h"
#include "duration.h"
#include "exit_codes.h"
#include "chain_reader.h"
#include "image_reader.h"
#include "install_paths.h"
#include "internal_env.h"
#include "job_dir.h"
#include "lineage.h"
#include "logging.h"
#include "pathmatch.h"
#include "pct_reader.h"
#include "restart_policy.h"
#include "signal_choice.h"
#include "supervisor.h"
#include "undo.h"

using namespace ckpt;

namespace {

// PATH lookup as execvp does it, so that a missing program is reported before anything starts.
std::string resolve_program(const std::string &name, int &exit_code)
{
    auto check = [&](const std::string &p) -> bool {
        struct stat st;
        if (::stat(p.c_str(), &st) != 0 || S_ISDIR(st.st_mode)) return false;
        return true;
    };
    std::string found;
    if (name.find('/') != std::string::npos) {
        if (check(name)) found = name;
    } else {
        const char *path = std::getenv("PATH");
        std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
        size_t start = 0;
        while (start <= dirs.size()) {
            size_t end = dirs.find(':', start);
            if (end == std::string::npos) end = dirs.size();
            std::string dir = dirs.substr(start, end - start);
            std::string cand = (dir.empty() ? "." : dir) + "/" + name;
            if (check(cand) && ::access(cand.c_str(), X_OK) == 0) { found = cand; break; }
            start = end + 1;
        }
    }
    if (found.empty()) {
        exit_code = exit_code::kNotFound;
        spdlog::error("{}: command not found", name);
    } else if (::access(found.c_str(), X_OK) != 0) {
        exit_code = exit_code::kNotExecutable;
        spdlog::error("{}: not executable", found);
        found.clear();
    }
    return found;
}

// Colon-separated list from the environment (CLI11's envname would split on spaces).
std::vector<std::string> env_list(const char *name)
{
    std::vector<std::string> out;
    const char *v = std::getenv(name);
    if (!v) return out;
    std::string s = v;
    size_t start = 0;
    while (start <= s.size()) {
        size_t end = s.find(':', start);
        if (end == std::string::npos) end = s.size();
        if (end > start) out.push_back(s.substr(start, end - start));
        start = end + 1;
    }
    return out;
}

std::string lexical_absolute(const std::string &p, const std::string &cwd)
{
    std::string a = (!p.empty() && p[0] == '/') ? p : cwd + "/" + p;
    a.push_back('\0');
    pathmatch::normalize(a.data());
    return std::string(a.c_str());
}

// Absolute forms of a user-given path: as written (made absolute) and, if different, with
// symbolic links resolved, so that it matches however the program reaches the file.
std::vector<std::string> absolute_forms(const std::string &p, const std::string &cwd)
{
    std::vector<std::string> out{lexical_absolute(p, cwd)};
    char rp[PATH_MAX];
    if (::realpath(out[0].c_str(), rp) && out[0] != rp) out.push_back(rp);
    return out;
}

bool has_glob(const std::string &p) { return p.find_first_of("*?[") != std::string::npos; }

// An ELF executable without PT_INTERP is static: LD_PRELOAD cannot reach it.
bool is_static_elf(const std::string &path)
{
    FILE *f = std::fopen(path.c_str(), "rb");
    if (!f) return false;
    Elf64_Ehdr eh{};
    bool is_static = false;
    if (std::fread(&eh, sizeof eh, 1, f) == 1 && std::memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
        eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
        is_static = true;
        for (int i = 0; i < eh.e_phnum; ++i) {
            Elf64_Phdr ph{};
            if (std::fseek(f, long(eh.e_phoff + uint64_t(i) * sizeof ph), SEEK_SET) != 0 ||
                std::fread(&ph, sizeof ph, 1, f) != 1)
                break;
            if (ph.p_type == PT_INTERP) is_static = false;
        }
    }
    std::fclose(f);
    return is_static;
}

// A set-user-ID or set-group-ID executable, or one with file capabilities, runs in secure
// mode: the dynamic linker ignores LD_PRELOAD for it (and the kernel clears the parent-death
// signal), so libckpt.so never loads. Returns what makes it so, or "" if nothing does.
std::string secure_exec_reason(const std::string &path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0) return {};
    if ((st.st_mode & S_ISUID) && st.st_uid != ::geteuid()) return "set-user-ID";
    if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != ::getegid()) return "set-group-ID";
    if (::getxattr(path.c_str(), "security.capability", nullptr, 0) > 0) return "given file capabilities";
    return {};
}

// The identity of this command (command_identity.h): the executable as resolved, with
// symbolic links followed, and the arguments after argv[0].
std::string command_id_of(const std::string &program_path, const std::vector<std::string> &argv)
{
    char real[PATH_MAX];
    const std::string exe = ::realpath(program_path.c_str(), real) ? std::string(real) : program_path;
    std::string args;
    for (size_t i = 1; i < argv.size(); ++i) args += '\0' + argv[i];
    char id[kCommandIdLen + 1];
    command_identity(exe.data(), exe.size(), args.data(), args.size(), id);
    return id;
}

int status_to_exit(int wait_status)
{
    if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
    if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
    return exit_code::kSoftware;
}

// Offsets of stdin/stdout (regular files, not O_APPEND) when ckpt-run started. The program
// shares these open files with ckpt-run: after a failed run, a fresh start (watchdog, nothing
// checkpointed yet) must begin where the first one did, now that the recovery has rolled the
// file back to its size at that start.
off_t g_std_start_offset[2] = {-1, -1};

void remember_standard_streams()
{
    for (int fd = 0; fd < 2; ++fd) {
        struct stat st;
        const int fl = ::fcntl(fd, F_GETFL);
        if (::fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && fl >= 0 && !(fl & O_APPEND))
            g_std_start_offset[fd] = ::lseek(fd, 0, SEEK_CUR);
    }
}

void rewind_standard_streams()
{
    for (int fd = 0; fd < 2; ++fd)
        if (g_std_start_offset[fd] >= 0) ::lseek(fd, g_std_start_offset[fd], SEEK_SET);
}

// Pre-execution: restore the newest version that restores, else start fresh; then run the
// program until it ends. Returns -1 when the program ran (outcome filled), else an exit code
// of ckpt-run's own.
int start_job(Supervisor &supervisor, const RunConfig &cfg, JobDir &job, const std::string &name,
              RunOutcome &outcome, const std::function<int(uint64_t)> &recover)
{
    // A rollback that died while retiring the versions it abandoned is completed first: those
    // versions belong to a timeline the files no longer match, and must never be restored.
    const persist::Retirement ret = persist::resolve_lineage(job.path());
    if (!ret.ok) {
        spdlog::error("cannot restore job {}: {}; nothing was restored or rolled back", name, ret.error);
        return exit_code::kUndoFailed;
    }
    if (!ret.retired.empty())
        spdlog::info("completed an interrupted rollback to version {}: {} newer version(s) retired", ret.target,
                     ret.retired.size());
    auto versions = job.versions();
    bool started = false;
    size_t unreadable = 0, crashed = 0;
    for (auto it = versions.rbegin(); it != versions.rend() && !started; ++it) {
        Image img;
        if (ImageStatus s = read_image(it->path, img)) {
            if (s.code == ImageError::Untrusted) {  // planted or loosened: never run, never fall back past it
                spdlog::error("cannot restore job {}: {}; nothing was restored or rolled back", name, s.message);
                return exit_code::kUntrusted;
            }
            ++unreadable;
            spdlog::warn("checkpoint version {} is unusable ({}); trying the previous one", it->version, s.message);
            continue;
        }
        // An incremental image needs every ancestor, intact and the one it was taken against.
        std::vector<Image> ancestors;
        if (ImageStatus s = read_chain(img, ancestors)) {
            if (s.code == ImageError::Untrusted) {
                spdlog::error("cannot restore job {}: {}; nothing was restored or rolled back", name, s.message);
                return exit_code::kUntrusted;
            }
            ++unreadable;
            spdlog::warn("checkpoint version {} is unusable ({}); trying the previous one", it->version, s.message);
            continue;
        }
        // The images of another command are not this command's to resume (`--name job` reused
        // for a different program): refuse, and say how to start afresh.
        const std::string image_command = img.str(img.process.command_id);
        if (image_command.empty()) {
            spdlog::info("checkpoint version {} does not record its command (an older image); not checked", it->version);
        } else if (image_command != cfg.command_id) {
            std::string mine;
            for (const auto &a : cfg.argv) mine += (mine.empty() ? "" : " ") + a;
            spdlog::error("job {} holds the checkpoints of another command ({}: `{}`), not of `{}`; nothing was "
                          "restored or changed. Run with --fresh to discard its checkpoints and start anew, remove "
                          "them with `ckptctl rm {}`, or choose another --name",
                          name, img.str(img.process.exe_path), img.str(img.process.cmdline), mine, name);
            return exit_code::kWrongProgram;
        }
        spdlog::info("recovering job {} from checkpoint version {}", name, it->version);
        // Files are rolled back only towards a version that can be restored: a corrupt or stale
        // image found after the undo would leave the files rolled back for nothing. The page
        // data is checked by the restorer as it loads it, and the files go back only once it
        // has (Supervisor::run's roll_back_files, launcher/restorer/files_handshake.h). With
        // --lazy the loader checks each block after the program runs again: a damaged one
        // sends the recovery on to the previous version, whose undo goes further back.
        ImageStatus s = verify_files(img, /*open_files=*/false);
        if (s) {
            if (s.code == ImageError::FileChanged) {
                spdlog::error("cannot restore job {}: {}; the checkpoints and files are kept; remove them with "
                              "`ckptctl rm {}` to start afresh", name, s.message, name);
                return exit_code::kStaleImage;
            }
            if (s.code == ImageError::FileMissing) {
                spdlog::error("cannot restore job {}: {}; checkpoints and files kept", name, s.message);
                return exit_code::kNoInput;
            }
            ++unreadable;
            spdlog::warn("checkpoint version {} is unusable ({}); trying the previous one", it->version, s.message);
            continue;
        }
        // Another kernel, CPU or glibc, or attributes this user cannot give back: refused before
        // the files are rolled back (the restorer checks the same again). Older versions were
        // taken in the same world by the same program: no fall-back.
        if (ImageStatus r = verify_restorable(img)) {
            const bool world = r.code == ImageError::Incompatible;
            spdlog::error("cannot restore job {} from version {}: {}; nothing was restored or rolled back and the "
                          "checkpoints are kept", name, it->version, r.message);
            return world ? exit_code::kIncompatible : exit_code::kAttrsRefused;
        }
        outcome = supervisor.run(it->path, img.process.pid, [&] { return recover(it->version); });
        if (outcome.files_exit) return outcome.files_exit;
        if (outcome.kind != RunOutcome::Kind::RestoreFailed) { started = true; break; }
        // The lazy loader found a damaged block after the program ran again (and killed it).
        if (outcome.lazy_failed && !outcome.stop_requested) {
            ++unreadable;
            spdlog::warn("checkpoint version {} has damaged page data (found by the lazy restore); trying the "
                         "previous one", it->version);
            continue;
        }
        // A restorer that crashed (killed by a signal, or failed after tearing down its own
        // process: exit 80) says nothing against the older versions: try them, as for a corrupt
        // image. Not when ckpt-run itself was told to stop meanwhile.
        const bool restorer_crashed = WIFSIGNALED(outcome.wait_status) || outcome.restorer_exit == exit_code::kRestoreFailed;
        if (restorer_crashed && !outcome.stop_requested) {
            ++unreadable;
            ++crashed;
            spdlog::warn("the restorer of checkpoint version {} {}; trying the previous one", it->version,
                         WIFSIGNALED(outcome.wait_status) ? "was killed by " + signal_name(WTERMSIG(outcome.wait_status))
                                                          : std::string("failed after the point of no return (exit 80)"));
            continue;
        }
        switch (outcome.restorer_exit) {
        case exit_code::kBadImage:
            ++unreadable;
            spdlog::warn("checkpoint version {} failed verification; trying the previous one", it->version);
            continue;
        case exit_code::kStaleImage:
            spdlog::error("cannot restore job {}: version {} refers to files that changed (see above); "
                          "the checkpoints are kept; remove them with `ckptctl rm {}` to start afresh",
                          name, it->version, name);
            return exit_code::kStaleImage;
        case exit_code::kUntrusted:
            spdlog::error("cannot restore job {}: a file version {} needs is not yours (see above)", name, it->version);
            return exit_code::kUntrusted;
        case exit_code::kNoInput:
            spdlog::error("cannot restore job {}: a file version {} needs is missing (see above); checkpoints kept",
                          name, it->version);
            return exit_code::kNoInput;
        case exit_code::kAttrsRefused:
            spdlog::error("cannot restore job {}: the restored process cannot have an attribute of version {} back "
                          "(see above); checkpoints kept", name, it->version);
            return exit_code::kAttrsRefused;
        case exit_code::kIncompatible:
            spdlog::error("cannot restore job {}: version {} was taken on another kernel, CPU or glibc (see above); "
                          "checkpoints kept", name, it->version);
            return exit_code::kIncompatible;
        default:
            spdlog::error("restoring job {} from version {} failed (restorer exit {}); checkpoints kept",
                          name, it->version, outcome.restorer_exit);
            return exit_code::kRestoreFailed;
        }
    }
    if (!started && crashed > 0 && crashed == unreadable) {
        spdlog::error("restoring job {} failed for every one of its {} checkpoint versions (the restorer crashed, see "
                      "above); nothing was deleted. Remove them with `ckptctl rm {}` or run with --fresh to start anew",
                      name, crashed, name);
        return exit_code::kRestoreFailed;
    }
    if (!started && unreadable > 0) {
        spdlog::error("all {} checkpoint versions of job {} in {} are unusable; nothing was deleted. "
                      "Remove them with `ckptctl rm {}` to start afresh", unreadable, name, job.path(), name);
        return exit_code::kBadImage;
    }
    if (!started) {
        if (int rc = recover(0)) return rc;
        rewind_standard_streams();
        outcome = supervisor.run("");
    }
    if (outcome.kind == RunOutcome::Kind::SpawnFailed) {
        spdlog::error("cannot start the program: {}", outcome.message);
        return exit_code::kOsError;
    }

    return -1;
}

// Waits `d`, unless ckpt-run is told to stop meanwhile (returns true then).
bool wait_or_stop(std::chrono::nanoseconds d)
{
    sigset_t set;
    sigemptyset(&set);
    for (int sig : {SIGTERM, SIGINT, SIGHUP, SIGQUIT}) sigaddset(&set, sig);
    sigset_t old;
    sigprocmask(SIG_BLOCK, &set, &old);
    timespec ts{time_t(d.count() / 1000000000), long(d.count() % 1000000000)};
    int sig;
    do {
        sig = sigtimedwait(&set, nullptr, &ts);
    } while (sig < 0 && errno == EINTR);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    return sig > 0;
}

}  // namespace

int main(int argc, char **argv)
{
    // SIGUSR1 means "checkpoint now" (ckptctl). The supervisor reads it from a signalfd while
    // the program runs; outside that window (start-up, between restore attempts, after the
    // program ended) its default action would kill the launcher and lose the program's exit
    // status and the clean-up. A handler that does nothing makes it harmless there, and exec
    // resets it to the default in the program.
    struct sigaction usr1 {};
    usr1.sa_handler = [](int) {};
    usr1.sa_flags = SA_RESTART;
    sigaction(SIGUSR1, &usr1, nullptr);
    remember_standard_streams();

    CLI::App app{"Run PROGRAM with transparent checkpoints; resume it from its latest checkpoint if it has one.",
                 "ckpt-run"};
    std::string name, dir, interval_text = "30m", signal_text = "SIGRTMAX-1", overhead_text = "10";
    bool keep = false, quiet = false, fresh = false;
    int verbosity = 0;
    long long retain = 3;
    bool no_fork = false;
    // Compression of page data (runtime/compress/block_codec.h): a zstd level, 0 = off.
    int compress_level = codec::kDefaultLevel;
    std::string compress_text;
    bool no_compress = false;
    std::vector<std::string> command;
    CLI::Option *name_opt =
        app.add_option("--name", name, "job name (default: program name and a hash of command line and cwd)")->envname("CKPT_NAME");
    CLI::Option *dir_opt =
        app.add_option("--dir", dir, "checkpoint root directory (default $XDG_STATE_HOME/ckpt or ~/.local/state/ckpt)")->envname("CKPT_DIR");
    app.add_option("--interval", interval_text, "time between checkpoints: 500ms, 2s, 30m, 1h, or seconds")->envname("CKPT_INTERVAL");
    app.add_option("--max-overhead", overhead_text,
                   "at most this share (percent) of the time stopped in checkpoints: a checkpoint due sooner is "
                   "delayed (0 or 100 = no bound)")->envname("CKPT_MAX_OVERHEAD");
    app.add_option("--signal", signal_text, "signal used to trigger a checkpoint inside the program (SIGUSR2 or a "
                   "real-time signal)")->envname("CKPT_SIGNAL");
    app.add_flag("--fresh", fresh, "discard the job's checkpoints (as `ckptctl rm` does) and start the program anew");
    app.add_option("--retain", retain, "number of checkpoint versions kept (0 = all)")->envname("CKPT_RETAIN");
    app.add_flag("--no-fork", no_fork,
                 "write every checkpoint synchronously (the program waits for the write) instead of from a "
                 "forked copy-on-write writer")
        ->envname("CKPT_NO_FORK");
    bool lazy = false;
    app.add_flag("--lazy,!--no-lazy", lazy,
                 "when restoring, run the program before its memory is back: private anonymous pages are loaded "
                 "on first touch and streamed in meanwhile, each block checked before use (a damaged block found "
                 "then kills the program and the previous version is restored); --no-lazy: load every page "
                 "first (the default)")
        ->envname("CKPT_LAZY");
    bool incremental = true;
    long long full_every = 8;
    app.add_flag("--incremental,!--no-incremental", incremental,
                 "write incremental images (only the pages changed since the previous checkpoint, found with "
                 "userfaultfd write-protection) where they are possible (default); --no-incremental: every image full")
        ->envname("CKPT_INCREMENTAL");
    app.add_option("--full-every", full_every,
                   "with incremental images: a full image after at most N increments (restores read at most N+1 "
                   "images)")
        ->envname("CKPT_FULL_EVERY")->check(CLI::Range(1, 1000));
    // An option with an optional value, not a flag: a flag would read "0" as "false" and
    // make it -1 (a real level). `--compress PROGRAM`: the value is not a level, so it is
    // the command (put back below).
    CLI::Option *compress_opt =
        app.add_option("--compress", compress_text,
                       "compress page data with zstd at LEVEL (--compress=LEVEL; --compress alone: level 1; -7 to 19, "
                       "negative: less compression; 0 = off); incompressible blocks are stored raw")
            ->expected(0, 1)
            ->envname("CKPT_COMPRESS");
    // Not exclusive with --compress: CKPT_COMPRESS in the environment counts as --compress, and
    // --no-compress on the command line overrides it.
    app.add_flag("--no-compress", no_compress, "store page data uncompressed (the default; overrides --compress and "
                 "CKPT_COMPRESS)");
    std::string writer_timeout_text = "auto";
    app.add_option("--writer-timeout", writer_timeout_text,
                   "kill a forked checkpoint writer that has not committed its version after this long (the "
                   "version is given up, the next checkpoint goes on): a duration, 0 = never, or auto = "
                   "max(60s, 10 x the last forked write)")
        ->envname("CKPT_WRITER_TIMEOUT");
    app.add_flag("--keep", keep, "keep the checkpoints after the program exits with status 0")->envname("CKPT_KEEP");
    std::vector<std::string> excludes, no_undo, replaces;
    bool sync_undo = false;
    std::string on_undo_failure = "fail";
    app.add_option("--exclude", excludes,
                   "PATH or GLOB whose changes are never recorded nor undone (repeatable; env CKPT_EXCLUDE, "
                   "colon-separated); a directory covers what is below it")
        ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--no-undo", no_undo,
                   "when recovering, leave PATH as it is now instead of rolling it back (repeatable; env CKPT_NO_UNDO)")
        ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_option("--replace-file", replaces,
                   "OLD=NEW: descriptors that referred to OLD at the checkpoint refer to NEW after the restore "
                   "(repeatable; env CKPT_REPLACE, colon-separated)")
        ->expected(1)->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
    app.add_flag("--sync-undo", sync_undo, "make every undo record durable (fsync) before the change it protects")
        ->envname("CKPT_SYNC_UNDO");
    app.add_option("--on-undo-failure", on_undo_failure,
                   "when undo data cannot be recorded (e.g. disk full): fail the program's call with the error, "
                   "or proceed with a loud warning that the file is no longer protected")
        ->envname("CKPT_ON_UNDO_FAILURE")->check(CLI::IsMember({"fail", "proceed"}));
    bool watchdog = false;
    std::string restart_on = "signal", heartbeat_text, poll_text, window_text = "10m", backoff_text = "500ms",
                stop_timeout_text = "10s";
    int max_restarts = 5;
    app.add_flag("--watchdog", watchdog, "restart the program from its latest checkpoint when it fails or hangs")->envname("CKPT_WATCHDOG");
    app.add_option("--restart-on", restart_on, "failures that restart: signal, nonzero, exit statuses (comma-separated)")->envname("CKPT_RESTART_ON");
    app.add_option("--max-restarts", max_restarts, "give up after this many restarts within --restart-window")->envname("CKPT_MAX_RESTARTS");
    app.add_option("--restart-window", window_text, "window for --max-restarts")->envname("CKPT_RESTART_WINDOW");
    app.add_option("--backoff", backoff_text, "delay before the first restart, doubled for each further one (max 30s)")->envname("CKPT_BACKOFF");
    app.add_option("--heartbeat", heartbeat_text, "hung if the program calls ckpt_heartbeat() less often than this")->envname("CKPT_HEARTBEAT");
    app.add_option("--poll", poll_text, "poll the runtime in the program this often; hung if it does not answer within as long")->envname("CKPT_POLL");
    app.add_option("--stop-timeout", stop_timeout_text, "after passing on SIGTERM/SIGINT, SIGKILL the program if it has not ended after this")->envname("CKPT_STOP_TIMEOUT");
    app.add_flag("-v,--verbose", verbosity, "more log output (-vv for debug)");
    app.add_flag("-q,--quiet", quiet, "errors only");
    app.add_option("command", command, "PROGRAM [ARGS...]")->required();
    app.positionals_at_end();
    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp &e) {
        return app.exit(e);
    } catch (const CLI::ParseError &e) {
        app.exit(e);
        return exit_code::kUsage;
    }
    setup_logging("ckpt-run", verbosity, quiet);
    // An empty value given on purpose is a mistake, not a request for the default.
    for (auto [opt, value] : {std::pair{name_opt, &name}, std::pair{dir_opt, &dir}})
        if (opt->count() && value->empty()) {
            spdlog::error("{}: expected a non-empty value", opt->get_name());
            return exit_code::kUsage;
        }
    if (retain < 0) {
        spdlog::error("--retain {}: expected 0 (keep all) or a positive number of versions", retain);
        return exit_code::kUsage;
    }
    // Settings that only ckpt passes to its own processes are never taken from outside
    // (internal_env.h); the options read from the environment above are not among them.
    for (const auto &v : scrub_internal_environment())
        spdlog::warn("ignoring {} from the environment: it is internal to ckpt", v);

    RunConfig cfg;
    auto interval = parse_duration(interval_text);
    if (!interval || interval->count() < 1000000) {
        spdlog::error("--interval {}: expected a duration of at least 1ms such as 500ms, 2s, 30m, 1h", interval_text);
        return exit_code::kUsage;
    }
    cfg.interval = *interval;
    auto sig = parse_signal(signal_text);
    if (!sig || !acceptable_checkpoint_signal(*sig)) {
        spdlog::error("--signal {}: {}; a checkpoint signal must be one that no fault, terminal or kernel event "
                      "raises: {}", signal_text, sig ? "not accepted" : "not a signal", accepted_checkpoint_signals());
        return exit_code::kUsage;
    }
    cfg.signal = *sig;
    if (!parse_overhead(overhead_text.c_str(), cfg.max_overhead_pct)) {
        spdlog::error("--max-overhead {}: expected a percentage from 0 to 100 (0 or 100: no bound)", overhead_text);
        return exit_code::kUsage;
    }
    RestartPolicy policy;
    {
        auto window = parse_duration(window_text), backoff = parse_duration(backoff_text),
             stop_timeout = parse_duration(stop_timeout_text);
        std::optional<std::chrono::nanoseconds> heartbeat{std::chrono::nanoseconds(0)}, poll = heartbeat;
        if (!heartbeat_text.empty()) heartbeat = parse_duration(heartbeat_text);
        if (!poll_text.empty()) poll = parse_duration(poll_text);
        if (!window || !backoff || !heartbeat || !poll || !stop_timeout) {
            spdlog::error("--restart-window, --backoff, --heartbeat, --poll and --stop-timeout take durations such as 500ms, 2s, 30m");
            return exit_code::kUsage;
        }
        if (auto err = policy.configure(restart_on, max_restarts, *window, *backoff)) {
            spdlog::error("{}", *err);
            return exit_code::kUsage;
        }
        if ((heartbeat->count() || poll->count()) && !watchdog)
            spdlog::warn("--heartbeat and --poll detect hangs for --watchdog; without it a hung program is killed and not restarted");
        cfg.heartbeat = *heartbeat;
        cfg.poll = *poll;
        cfg.stop_timeout = *stop_timeout;
    }
    cfg.retain = size_t(retain);
    cfg.no_fork = no_fork;
    cfg.lazy = lazy;
    cfg.incremental = incremental;
    cfg.full_every = int(full_every);
    if (compress_opt->count()) {
        char *end = nullptr;
        const long v = compress_text.empty() ? 1 : std::strtol(compress_text.c_str(), &end, 10);
        if (!compress_text.empty() && (end == compress_text.c_str() || *end)) {
            // Not a level: the command, unless it was given as --compress=TEXT or CKPT_COMPRESS.
            bool given = false;
            for (int i = 1; i < argc && !given; ++i) given = std::string(argv[i]) == "--compress=" + compress_text;
            const char *env = std::getenv("CKPT_COMPRESS");
            bool separate = false;
            for (int i = 1; i < argc && !separate; ++i) separate = std::string(argv[i]) == "--compress";
            if (given || (env && compress_text == env && !separate)) {
                spdlog::error("--compress={}: expected a zstd level from {} to {}, or 0 (off)", compress_text,
                              codec::kMinLevel, codec::kMaxLevel);
                return exit_code::kUsage;
            }
            command.insert(command.begin(), compress_text);  // `--compress PROGRAM ...`
            compress_level = 1;
        } else {
            compress_level = int(v < -1000 ? -1000 : v > 1000 ? 1000 : v);
        }
    }
    if (no_compress) compress_level = 0;
    if (compress_level != 0 && (compress_level < codec::kMinLevel || compress_level > codec::kMaxLevel)) {
        spdlog::error("--compress={}: expected a zstd level from {} to {}, or 0 (off)", compress_level, codec::kMinLevel,
                      codec::kMaxLevel);
        return exit_code::kUsage;
    }
    cfg.compress_level = compress_level;
    if (writer_timeout_text != "auto") {
        auto t = parse_duration(writer_timeout_text);
        if (!t) {
            spdlog::error("--writer-timeout {}: expected a duration such as 90s or 10m, 0 (never) or auto",
                          writer_timeout_text);
            return exit_code::kUsage;
        }
        cfg.writer_timeout = *t;
    }
    char cwd_buf[4096];
    const std::string launch_cwd = getcwd(cwd_buf, sizeof cwd_buf) ? cwd_buf : "/";
    // Exclusions: environment first, then the command line; paths made absolute here, where
    // the user's working directory is known.
    {
        std::vector<std::string> all = env_list("CKPT_EXCLUDE");
        all.insert(all.end(), excludes.begin(), excludes.end());
        for (const auto &e : all) {
            if (e.find('/') == std::string::npos) cfg.exclude.push_back(e);  // component pattern
            else if (has_glob(e)) cfg.exclude.push_back(lexical_absolute(e, launch_cwd));
            else for (auto &f : absolute_forms(e, launch_cwd)) cfg.exclude.push_back(f);
        }
    }
    for (const auto &e : cfg.exclude)
        if (e.find(':') != std::string::npos) {
            spdlog::error("--exclude {}: a ':' cannot be passed to the program (CKPT_EXCLUDE is colon-separated)", e);
            return exit_code::kUsage;
        }
    std::vector<std::string> no_undo_abs;
    // ckpt-run's own log: when its stderr is a regular file (often the program's stderr too),
    // rolling it back would erase the launcher's account of what happened. It is excluded.
    {
        struct stat st;
        char link[PATH_MAX];
        ssize_t n = ::readlink("/proc/self/fd/2", link, sizeof link - 1);
        if (::fstat(2, &st) == 0 && S_ISREG(st.st_mode) && n > 0 && link[0] == '/') {
            const std::string log_path(link, size_t(n));
            cfg.exclude.push_back(log_path);
            no_undo_abs.push_back(log_path);
        }
    }
    {
        std::vector<std::string> all = env_list("CKPT_NO_UNDO");
        all.insert(all.end(), no_undo.begin(), no_undo.end());
        for (const auto &p : all)
            for (auto &f : absolute_forms(p, launch_cwd)) no_undo_abs.push_back(f);
    }
    {
        std::vector<std::string> all = env_list("CKPT_REPLACE");
        all.insert(all.end(), replaces.begin(), replaces.end());
        for (const auto &r : all) {
            const size_t eq = r.find('=');
            if (eq == std::string::npos || eq == 0 || eq + 1 == r.size()) {
                spdlog::error("--replace-file {}: expected OLD=NEW", r);
                return exit_code::kUsage;
            }
            cfg.replace.emplace_back(lexical_absolute(r.substr(0, eq), launch_cwd),
                                     absolute_forms(r.substr(eq + 1), launch_cwd).back());
        }
    }
    cfg.sync_undo = sync_undo;
    cfg.on_undo_failure = on_undo_failure;
    cfg.argv = command;
    int code = 0;
    cfg.program_path = resolve_program(command[0], code);
    if (cfg.program_path.empty()) return code;
    if (is_static_elf(cfg.program_path))
        spdlog::warn("{} is statically linked: libckpt.so cannot be preloaded into it, so it will run without checkpoints",
                     cfg.program_path);
    if (const std::string why = secure_exec_reason(cfg.program_path); !why.empty())
        spdlog::warn("{} is {}: it runs in secure mode, where the dynamic linker ignores LD_PRELOAD, so libckpt.so "
                     "cannot be loaded into it and it will run without checkpoints", cfg.program_path, why);
    cfg.command_id = command_id_of(cfg.program_path, command);
    cfg.lib_path = find_runtime_library();
    cfg.restorer_path = find_restorer();
    if (cfg.lib_path.empty() || cfg.restorer_path.empty()) {
        spdlog::error("installation incomplete: cannot find {} next to {}",
                      cfg.lib_path.empty() ? "libckpt.so" : "ckpt-restore", self_dir());
        return exit_code::kSoftware;
    }

    char cwd[4096];
    if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
    if (name.empty()) name = derive_job_name(command, cwd);
    if (name.find('/') != std::string::npos || name == "." || name == "..") {
        spdlog::error("--name {}: a job name may not contain '/'", name);
        return exit_code::kUsage;
    }
    // The program gets the job directory in its environment and may chdir(): anchor a
    // relative root (--dir, CKPT_DIR, XDG_STATE_HOME) at the launcher's working directory.
    std::string root = resolve_root(dir);
    if (root.empty()) {
        spdlog::error("{}", no_root_message());
        return exit_code::kCantCreate;
    }
    if (root[0] != '/' && cwd[0]) root = std::string(cwd) + "/" + root;
    // --fresh: what `ckptctl rm` would do, under the job's lock (a live job is not touched).
    // The directory is made anew below and locked again; a launcher that took it meanwhile wins.
    if (fresh) {
        JobDir old(root, name);
        if (old.exists()) {
            if (auto e = old.open(/*for_writing=*/true)) {
                spdlog::error("--fresh: {}", e.message);
                return e.exit_code();
            }
            if (!old.try_lock()) {
                spdlog::error("job {} is running: --fresh does not discard the checkpoints of a live job", name);
                return exit_code::kTempFail;
            }
            if (auto ec = old.remove_all()) {
                spdlog::error("--fresh: cannot remove the checkpoints of job {} in {}: {}", name, old.path(), ec.message());
                return exit_code::kCantCreate;
            }
            spdlog::info("--fresh: the checkpoints of job {} were removed; starting anew", name);
        }
    }
    JobDir job(root, name);
    if (auto e = job.create()) {
        if (e.kind == DirError::Kind::Os) spdlog::error("checkpoint directory {} is not usable: {}", job.path(), e.message);
        else spdlog::error("{}", e.message);  // names the path already
        return e.exit_code();
    }
    if (!job.try_lock()) {
        auto st = job.read_status();
        const bool launcher_alive = st && st->launcher_pid > 0 && ::kill(st->launcher_pid, 0) == 0;
        if (st && !launcher_alive && st->program_pid > 0)
            spdlog::error("job {} is still running: its launcher (pid {}) is gone, and its program (pid {}) is "
                          "taking a last checkpoint and ending; run the command again once it has", name,
                          st->launcher_pid, st->program_pid);
        else
            spdlog::error("job {} is already running (launcher pid {})", name, st ? st->launcher_pid : 0);
        return exit_code::kTempFail;
    }
    job.remove_stale_temps();
    // The launcher reaps what the program leaves behind (PID 1 here does not).
    prctl(PR_SET_CHILD_SUBREAPER, 1);

    JobStatus status;
    status.launcher_pid = getpid();
    status.signal = cfg.signal;
    for (auto &a : command) status.program += (status.program.empty() ? "" : " ") + a;
    if (auto prev = job.read_status()) {
        status.restarts = prev->restarts;
        status.restart_causes = prev->restart_causes;
    }
    Supervisor supervisor(cfg, job, status);

    // Recovery of the persistent state: every change since `version` is undone before the
    // program runs again (version 0: a fresh start, back to how the files were at its start).
    // 0, or ckpt-run's exit code.
    auto recover = [&](uint64_t version) -> int {
        persist::UndoOptions uo;
        uo.exclude = cfg.exclude;
        uo.no_undo = no_undo_abs;
        for (const auto &[from, to] : cfg.replace) uo.keep.push_back(to);
        uo.accept_loss = cfg.on_undo_failure == "proceed";  // the explicit way to accept lost undo data
        uo.log = [](int level, const std::string &m) {
            if (level == 0) spdlog::info("{}", m);
            else if (level == 1) spdlog::warn("{}", m);
            else spdlog::error("{}", m);
        };
        persist::UndoResult r = persist::undo_to(job.path(), version, uo);
        if (r.epochs || r.undone || r.skipped || r.failed)
            spdlog::info("files rolled back to {}: {} changes undone in {} epochs, {} left as they are{}",
                         version ? "checkpoint version " + std::to_string(version) : std::string("the program's start"),
                         r.undone, r.epochs, r.skipped,
                         r.failed ? ", " + std::to_string(r.failed) + " could not be undone (see above)" : std::string());
        if (!r.ok && !r.foreign.empty()) {
            std::string paths;
            for (const auto &f : r.foreign) paths += (paths.empty() ? "" : " ") + f.path;
            spdlog::error("cannot roll the files back to {}: another process appended to {} since: {}; undoing the "
                          "program's changes would cut those bytes off. Nothing was rolled back or restored and the "
                          "checkpoints are kept; run again with --on-undo-failure=proceed to keep the bytes (the "
                          "file{} keep{} {} current size) or with --no-undo {} to leave {} as {} {}",
                          version ? "checkpoint version " + std::to_string(version) : std::string("the program's start"),
                          r.foreign.size() == 1 ? "a file the program changed" : "files the program changed", r.error,
                          r.foreign.size() == 1 ? "" : "s", r.foreign.size() == 1 ? "s" : "",
                          r.foreign.size() == 1 ? "its" : "their", paths, r.foreign.size() == 1 ? "it" : "them",
                          r.foreign.size() == 1 ? "it" : "they", r.foreign.size() == 1 ? "is" : "are");
            return exit_code::kForeignAppends;
        }
        if (!r.ok)
            spdlog::error("cannot roll the files back: {}; nothing was restored, checkpoints kept (to go on "
                          "without what is lost, run again with --on-undo-failure=proceed)", r.error);
        if (!r.lost.empty())
            spdlog::error("{} change(s) could not be rolled back and were accepted as lost "
                          "(--on-undo-failure=proceed): files and memory may not match", r.lost.size());
        return r.ok ? 0 : exit_code::kUndoFailed;
    };

    RunOutcome outcome;
    int code_or_run = start_job(supervisor, cfg, job, name, outcome, recover);
    if (code_or_run >= 0) return code_or_run;
    while (watchdog && !outcome.stop_requested && policy.is_failure(outcome.wait_status, outcome.hung)) {
        const std::string cause = describe_ending(outcome.wait_status, outcome.message);
        if (!policy.admit(std::chrono::steady_clock::now())) {
            status.state = "gave-up";
            job.write_status(status);
            spdlog::error("giving up on job {}: {} restarts within {} were not enough; last failure: {}; "
                          "earlier causes (newest first): {}; checkpoints kept",
                          name, policy.max_restarts(), format_duration(policy.window()), cause,
                          status.restart_causes.empty() ? "none" : status.restart_causes);
            return status_to_exit(outcome.wait_status);
        }
        status.restarts++;
        status.restart_causes = cause + (status.restart_causes.empty() ? "" : "; " + status.restart_causes);
        if (status.restart_causes.size() > 2000) status.restart_causes.resize(2000);
        status.state = "restarting";
        job.write_status(status);
        const auto delay = policy.delay();
        spdlog::warn("program {}; restart {} of job {} in {} from its latest checkpoint", cause,
                     status.restarts, name, format_duration(delay));
        if (wait_or_stop(delay)) {
            spdlog::warn("stopped while waiting to restart job {}; checkpoints kept", name);
            return status_to_exit(outcome.wait_status);
        }
        code_or_run = start_job(supervisor, cfg, job, name, outcome, recover);
        if (code_or_run >= 0) return code_or_run;
    }

    const int exit_status = status_to_exit(outcome.wait_status);
    if (exit_status == 0) {
        status.state = "exited";
        if (!keep && !outcome.keep) {
            job.remove_all();
            spdlog::info("program exited with status 0; checkpoints of job {} removed", name);
        } else {
            job.write_status(status);
        }
    } else {
        status.state = "crashed";
        status.program_pid = 0;
        job.write_status(status);
        spdlog::warn("program {} with status {}; checkpoints of job {} kept: run the same command again to resume",
                     WIFSIGNALED(outcome.wait_status) ? "was killed" : "exited", exit_status, name);
    }
    return exit_status;
}
