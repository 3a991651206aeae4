// Start-up of libckpt.so inside the program: read the launcher's settings from the
// environment, install the checkpoint signal handler, tell the launcher it may send it.
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checksum.h"
#include "command_identity.h"
#include "image_writer.h"
#include "job_layout.h"
#include "events.h"
#include "process_info.h"
#include "fd/fd_table.h"
#include "glibc_stack_lock.h"
#include "runtime_state.h"
#include "signal_state.h"
#include "sys/raw_syscall.h"
#include "sys/safe_path.h"
#include "text.h"
#include "process_attrs.h"
#include "world.h"
#include "write_tracker.h"

namespace ckpt {

RuntimeState g_rt;

namespace {

// The status descriptor is the launcher's socket (a socketpair it made: the peer's
// credentials name it), not a descriptor of the program's at the same number.
bool status_channel_is_launchers(int fd, int launcher)
{
    struct ucred cred{};
    socklen_t len = sizeof cred;
    if (fd < 0 || getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) return false;
    return cred.pid == launcher;
}

int env_int(const char *name, int fallback)
{
    const char *v = getenv(name);
    if (!v || !*v) return fallback;
    char *end = nullptr;
    long n = strtol(v, &end, 10);
    return (end && *end == 0) ? int(n) : fallback;
}

// Identity of descriptors 0-2 as the launcher handed them over (see RuntimeState::std_dev).
void remember_standard_fds()
{
    for (int fd = 0; fd < 3; ++fd) {
        struct stat st;
        if (sys_fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
            g_rt.std_dev[fd] = st.st_dev;
            g_rt.std_ino[fd] = st.st_ino;
        }
    }
}

// Where ckpt-restore is: from the launcher, else next to this library as installed.
void find_restorer()
{
    if (const char *r = getenv("CKPT_RESTORER"); r && *r) {
        text::Builder(g_rt.restorer, sizeof g_rt.restorer).add(r);
        return;
    }
    Dl_info info{};
    if (!dladdr(reinterpret_cast<void *>(&find_restorer), &info) || !info.dli_fname) return;
    char dir[CKPT_PATH_MAX];
    text::Builder(dir, sizeof dir).add(info.dli_fname);
    char *slash = strrchr(dir, '/');
    if (!slash) return;
    *slash = 0;
    static const char *const kCandidates[] = {"/" CKPT_REL_LIB_TO_LIBEXEC "/ckpt-restore", "/../libexec/ckpt-restore"};
    for (const char *rel : kCandidates) {
        text::Builder(g_rt.restorer, sizeof g_rt.restorer).add(dir).add(rel);
        if (access(g_rt.restorer, X_OK) == 0) return;
    }
}

// The process that set up standalone mode: its children inherit the exit handler below.
long standalone_owner = 0;

// Standalone clean-up step: a normal exit (status 0) removes the job's checkpoints, as
// ckpt-run would, unless CKPT_KEEP is set. Only the program's own exit, not a forked child's.

void on_standalone_exit(int status, void *)
{
    if (status != 0 || !g_rt.standalone || sys_getpid() != standalone_owner) return;
    const char *keep = getenv("CKPT_KEEP");
    if (keep && *keep && strcmp(keep, "0") != 0) return;
    // Only what ckpt wrote (job_layout.h); the directory goes only if nothing else is in it.
    char root[CKPT_PATH_MAX];
    text::Builder(root, sizeof root).add(g_rt.job_dir);
    char *slash = strrchr(root, '/');
    if (!slash || slash == root) return;
    *slash = 0;
    long rootfd = sys_openat(AT_FDCWD, root, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    long jobfd = rootfd >= 0 ? open_beneath(int(rootfd), slash + 1, O_RDONLY | O_DIRECTORY) : -1;
    if (jobfd >= 0 && layout::has_marker(int(jobfd)) == 1) layout::remove_job_dir(int(rootfd), slash + 1, int(jobfd));
    if (jobfd >= 0) sys_close(int(jobfd));
    if (rootfd >= 0) sys_close(int(rootfd));
}

}  // namespace

namespace {

// Why standalone mode could not be set up, for chkpnt() and rollback() to report as errno.
bool fail_standalone(long err)
{
    g_rt.last_error = int(err);
    return false;
}

// What names the job: the working directory, a NUL, the command line, as ckpt-run saw them
// when it started the program. Taken when the library is loaded, before main() can chdir()
// or rewrite its arguments; the error (negative) if they could not be read.
char start_key[CKPT_PATH_MAX + 8192];
long start_cwd_len = -EAGAIN;
long start_cmd_len = -EAGAIN;

void snapshot_job_identity()
{
    start_cwd_len = sys_readlinkat(AT_FDCWD, "/proc/self/cwd", start_key, CKPT_PATH_MAX);
    if (start_cwd_len < 0) return;
    start_key[start_cwd_len] = 0;
    start_cmd_len = read_proc_file("/proc/self/cmdline", start_key + start_cwd_len + 1,
                                   sizeof start_key - size_t(start_cwd_len) - 1);
    // The command's identity, as ckpt-run would compute it for this command (see
    // command_identity.h): a later `ckpt-run -- THIS COMMAND` recognises the images as its own.
    char exe[CKPT_PATH_MAX];
    const long exe_len = sys_readlinkat(AT_FDCWD, "/proc/self/exe", exe, sizeof exe);
    if (start_cmd_len <= 0 || start_cmd_len >= long(sizeof start_key) - start_cwd_len - 1 || exe_len <= 0) return;
    const char *cmd = start_key + start_cwd_len + 1;
    const long argv0_len = long(text::length(cmd));
    long tail = start_cmd_len - argv0_len - 1;  // the final NUL does not count
    if (tail < 0) tail = 0;
    command_identity(exe, size_t(exe_len), cmd + argv0_len, size_t(tail), g_rt.command_id);
}

}  // namespace

bool init_standalone()
{
    // The same directory as `ckpt-run -- THIS COMMAND` in this working directory would use
    // (launcher/job_dir.cpp: resolve_root and derive_job_name), so that it can recover it.
    char root[CKPT_PATH_MAX];
    text::Builder rb(root, sizeof root);
    // A relative root is anchored at the starting directory, as ckpt-run anchors it at its
    // own (the program may have changed directory since, and will again after a restore).
    const char *d = getenv("CKPT_DIR");
    const char *x = getenv("XDG_STATE_HOME");
    const char *h = getenv("HOME");
    const char *r = getenv("XDG_RUNTIME_DIR");
    const char *given = d && *d ? d : x && *x ? x : h && *h ? h : r && *r ? r : nullptr;
    if (!given) {  // never a shared directory such as /tmp, where anyone could have made it first
        report(StatusType::Warning, ENOENT, 0, 0, 0, 0, "no checkpoint root: set CKPT_DIR (HOME, XDG_RUNTIME_DIR unset)");
        return fail_standalone(ENOENT);
    }
    if (given[0] != '/') {
        if (start_cwd_len < 0) return fail_standalone(-start_cwd_len);
        rb.add(start_key, size_t(start_cwd_len)).add("/");
    }
    if (d && *d) rb.add(d);
    else if (x && *x) rb.add(x).add("/ckpt");
    else if (h && *h) rb.add(h).add("/.local/state/ckpt");
    else rb.add(r).add("/ckpt");

    const char *key = start_key;
    const long cwd_len = start_cwd_len;
    if (cwd_len < 0) return fail_standalone(-cwd_len);
    long cmd_len = start_cmd_len;
    if (cmd_len <= 0) return fail_standalone(cmd_len < 0 ? -cmd_len : EINVAL);
    // /proc/self/cmdline ends every argument with a NUL; derive_job_name() puts a NUL between
    // the arguments but none after the last one: drop exactly that one (an empty last
    // argument still counts).
    if (key[cwd_len + cmd_len] == 0) --cmd_len;
    const size_t key_len = size_t(cwd_len) + 1 + size_t(cmd_len);
    const char *argv0 = key + cwd_len + 1;
    const char *base = strrchr(argv0, '/') ? strrchr(argv0, '/') + 1 : argv0;
    char name[256];
    if (const char *n = getenv("CKPT_NAME"); n && *n) {
        text::Builder(name, sizeof name).add(n);
    } else {
        text::Builder nb(name, sizeof name);
        for (const char *c = base; *c && nb.size() < 200; ++c) {
            char ch = *c;
            bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                      ch == '-' || ch == '_' || ch == '.';
            nb.add(ok ? c : "_", 1);
        }
        static const char hex[] = "0123456789abcdef";
        const uint32_t h = uint32_t(checksum(key, key_len) & 0xffffffffu);
        char hs[10] = {'-'};
        for (int i = 0; i < 8; ++i) hs[1 + i] = hex[(h >> (28 - 4 * i)) & 0xf];
        nb.add(hs, 9);
    }
    // ROOT (and its parents) as ckpt-run makes it, ROOT/NAME with ckpt's marker; both the
    // caller's and closed to others, an existing ROOT/NAME only if ckpt made it.
    text::Builder jb(g_rt.job_dir, sizeof g_rt.job_dir);
    jb.add(root).add("/").add(name);
    long rootfd = open_dir_path(root, true);
    if (rootfd < 0) return fail_standalone(-rootfd);
    struct stat st;
    long rc = dir_trust(int(rootfd), st) == DirTrust::Ok ? layout::create_job_dir(int(rootfd), name) : -EPERM;
    long jobfd = rc == 0 || rc == -EEXIST ? open_beneath(int(rootfd), name, O_RDONLY | O_DIRECTORY) : rc;
    sys_close(int(rootfd));
    if (jobfd < 0) return fail_standalone(-jobfd);
    const bool ours = dir_trust(int(jobfd), st) == DirTrust::Ok && layout::has_marker(int(jobfd)) == 1;
    sys_close(int(jobfd));
    if (!ours) {
        report(StatusType::Warning, EPERM, 0, 0, 0, 0, "the job directory is not ckpt's (no marker) or open to others");
        return fail_standalone(EPERM);
    }
    find_restorer();
    // The other threads of the process are stopped with the checkpoint signal (threads.h):
    // standalone, ckpt owns one as under a launcher (CKPT_SIGNAL, else the launcher's default).
    if (g_rt.signal <= 0) g_rt.signal = env_int("CKPT_SIGNAL", SIGRTMAX - 1);
    sigstate::own_checkpoint_signal(g_rt.signal, on_checkpoint_signal, false);
    g_rt.standalone = true;
    g_rt.active = true;
    events::program_start();  // files are protected from here on
    g_rt.mode = Mode::Normal;
    g_rt.status_fd = -1;
    standalone_owner = sys_getpid();
    on_exit(on_standalone_exit, nullptr);
    return true;
}

namespace {

__attribute__((constructor)) void runtime_init()
{
    const char *dir = getenv("CKPT_JOB_DIR");
    world::capture(g_rt.world);
    attrs::note_inherited_limits();
    g_rt.rseq_len = world::rseq_length();
    g_rt.signal = env_int("CKPT_SIGNAL", 0);
    g_rt.launcher_pid = env_int("CKPT_LAUNCHER_PID", 0);
    // Incremental checkpoints: on unless CKPT_INCREMENTAL=0 (--no-incremental); a full image
    // at least every CKPT_FULL_EVERY increments.
    if (const char *inc = getenv("CKPT_INCREMENTAL"); inc && inc[0] == '0') write_tracker::set_enabled(false);
    g_rt.full_every = uint32_t(env_int("CKPT_FULL_EVERY", int(g_rt.full_every)));
    g_rt.compress_level = env_int("CKPT_COMPRESS", 0);
    g_rt.tid_offset = find_tid_offset();
    glibc_stack_lock::find();
    // Only the launcher's own child takes checkpoints; processes it starts inherit the
    // environment but stay passive (process trees are a later phase). Without a launcher the
    // runtime waits for chkpnt() (standalone, inserted mode).
    if (!dir) {
        snapshot_job_identity();  // for standalone mode, should the program call chkpnt()
        record_inherited_fds();   // before main() can open descriptors of its own
        return;
    }
    if (g_rt.signal <= 0 || g_rt.signal > 64 || g_rt.launcher_pid != int(getppid())) {
        g_rt.mode = Mode::None;
        g_rt.standalone = false;
        g_rt.passive = true;
        return;
    }
    find_restorer();
    remember_standard_fds();
    g_rt.test_writer_stall = uint64_t(env_int("CKPT_TEST_WRITER_STALL", 0));
    if (const char *id = getenv("CKPT_COMMAND_ID"); id && text::length(id) == kCommandIdLen && is_command_identity(id))
        text::Builder(g_rt.command_id, sizeof g_rt.command_id).add(id);
    g_rt.status_fd = env_int("CKPT_STATUS_FD", -1);
    if (!status_channel_is_launchers(g_rt.status_fd, g_rt.launcher_pid)) {
        // E.g. an exec after the program put a descriptor of its own at that number (ckpt's
        // moved away, close-on-exec: internal_fds.h): nothing to report to, no checkpoints.
        g_rt.status_fd = -1;
        report(StatusType::Warning, EBADF, 0, 0, 0, 0,
               "the launcher's status descriptor was replaced before an exec: no checkpoints here");
        g_rt.mode = Mode::None;
        g_rt.passive = true;
        return;
    }
    g_rt.lock_fd = sys_fcntl(kLockFd, F_GETFD, 0) >= 0 ? kLockFd : -1;
    text::Builder(g_rt.job_dir, sizeof g_rt.job_dir).add(dir);
    // The launcher blocked the signal across exec (a checkpoint signal before this point would
    // have met its default action, which ends the process): it is handled here and unblocked
    // once the runtime is ready (let_in below); one that came meanwhile is taken then. The
    // program's own view of that number starts as a fresh exec leaves it: default action,
    // not blocked.
    sigstate::own_checkpoint_signal(g_rt.signal, on_checkpoint_signal, false);
    // The launcher armed it before exec already; an exec of a set-user-ID program cleared it.
    if (!watch_launcher(g_rt.signal)) die_without_launcher();
    g_rt.active = true;
    g_rt.mode = Mode::Normal;
    events::program_start();
    report(StatusType::Ready, 0, 0, 0, 0, 0, nullptr);
    sigstate::let_in();
}

}  // namespace
}  // namespace ckpt
