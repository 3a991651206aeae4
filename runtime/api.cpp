// The public API of ckpt/ckpt.h (inserted mode): chkpnt(), rollback(), protected variables,
// and the calls that talk to the launcher. chkpnt() runs the same capture as the checkpoint
// signal (it calls the handler directly, with every signal blocked); rollback() execs the
// restorer in this very process, after checking that the version can be restored.
#include <ckpt/ckpt.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "image_writer.h"
#include "memory_exclusion.h"
#include "runtime_state.h"
#include "sys/raw_syscall.h"
#include "text.h"

#define CKPT_API extern "C" __attribute__((visibility("default")))

namespace ckpt {
namespace {

// Sets errno when the runtime cannot act: the error that kept standalone mode from being set
// up (the job directory cannot be made: ENOTDIR, EACCES, ...), else ENOTSUP (a passive
// process).
bool ensure_active()
{
    if (g_rt.active) return true;
    g_rt.last_error = 0;
    if (!g_rt.passive && !g_rt.standalone && init_standalone()) return true;
    errno = g_rt.last_error ? g_rt.last_error : ENOTSUP;
    return false;
}

// Existing versions, newest first, into `out` (at most cap). Returns how many.
int list_versions(uint64_t *out, int cap)
{
    long dirfd = sys_openat(AT_FDCWD, g_rt.job_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dirfd < 0) return 0;
    static char buf[32768];  // normal context, single-threaded runtime: no reentrancy
    int64_t latest = latest_version(int(dirfd), buf, sizeof buf);
    int n = 0;
    for (int64_t v = latest; v > 0 && n < cap; --v) {
        char name[64];
        image_file_name(uint64_t(v), name, sizeof name);
        char st[256];
        if (sys_newfstatat(int(dirfd), name, st, 0) == 0) out[n++] = uint64_t(v);
    }
    sys_close(int(dirfd));
    return n;
}

// Runs `ckpt-restore --verify-only IMAGE` (which also checks the protected ranges in
// `env_prot`, CKPT_PROTECTED=FILE); returns 0 or an errno for rollback() to report.
int verify_with_restorer(const char *image, char *env_prot)
{
    char *argv[] = {const_cast<char *>("ckpt-restore"), const_cast<char *>("--verify-only"),
                    const_cast<char *>(image), nullptr};
    // CKPT_ROLLBACK_VALUE: the check is for this process's own rollback, so the file locks it
    // holds now are its own, not another process's (without it, the child sees them as taken).
    char rollback_env[] = "CKPT_ROLLBACK_VALUE=1";
    char *envp[] = {env_prot, rollback_env, nullptr};
    pid_t pid;
    if (posix_spawn(&pid, g_rt.restorer, nullptr, nullptr, argv, envp) != 0) return ENOEXEC;
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
    if (!WIFEXITED(status)) return EINVAL;
    switch (WEXITSTATUS(status)) {
    case 0: return 0;
    case 66: return ENOENT;
    case 79: return ESTALE;
    default: return EINVAL;
    }
}

// The protected ranges' current bytes, for the restorer to put back after mapping the image.
bool write_protected(const char *path)
{
    // A new file in the job directory, never written through a link planted under its name.
    sys_unlinkat(AT_FDCWD, path, 0);
    long fd = sys_openat(AT_FDCWD, path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    if (fd < 0) return false;
    bool ok = true;
    for (int i = 0; i < g_rt.n_protected && ok; ++i) {
        const ProtectedRange &r = g_rt.protected_ranges[i];
        ok = sys_write(int(fd), &r, sizeof r) == long(sizeof r) &&
             sys_write(int(fd), reinterpret_cast<const void *>(r.addr), r.len) == long(r.len);
    }
    // The table itself is carried over as well: what was protected or unprotected since the
    // checkpoint stays so after the rollback (the image holds the table of checkpoint time).
    const ProtectedRange table[2] = {
        {reinterpret_cast<uint64_t>(&g_rt.protected_ranges), sizeof g_rt.protected_ranges},
        {reinterpret_cast<uint64_t>(&g_rt.n_protected), sizeof g_rt.n_protected}};
    for (const ProtectedRange &r : table) {
        if (!ok) break;
        ok = sys_write(int(fd), &r, sizeof r) == long(sizeof r) &&
             sys_write(int(fd), reinterpret_cast<const void *>(r.addr), r.len) == long(r.len);
    }
    sys_close(int(fd));
    return ok;
}

}  // namespace
}  // namespace ckpt

using namespace ckpt;

CKPT_API int chkpnt(void)
{
    if (!ensure_active()) return -1;
    const uint64_t restores_before = g_rt.restores;
    sigset_t all, old;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, &old);
    on_checkpoint_signal(g_rt.signal, nullptr, nullptr);
    sigprocmask(SIG_SETMASK, &old, nullptr);
    if (g_rt.restores != restores_before) return g_rt.rollback_value > 0 ? g_rt.rollback_value : CKPT_RECOVERED;
    if (g_rt.last_error) { errno = g_rt.last_error; return -1; }
    return 0;
}

CKPT_API int rollback(int version, int value)
{
    if (!ensure_active()) return -1;
    uint64_t versions[4096];
    const int n = list_versions(versions, 4096);
    uint64_t target = 0;
    if (version > 0) {
        for (int i = 0; i < n; ++i)
            if (versions[i] == uint64_t(version)) target = uint64_t(version);
    } else if (version > -n) {  // not -version < n: -INT_MIN overflows
        target = versions[-version];
    }
    if (!target) { errno = ENOENT; return -1; }
    char image[CKPT_PATH_MAX + 64];
    char name[64];
    image_file_name(target, name, sizeof name);
    text::Builder(image, sizeof image).add(g_rt.job_dir).add("/").add(name);

    char prot_path[CKPT_PATH_MAX + 64];
    text::Builder(prot_path, sizeof prot_path).add(g_rt.job_dir).add("/.protected-").add(uint64_t(sys_getpid()));
    if (!write_protected(prot_path)) {
        sys_unlinkat(AT_FDCWD, prot_path, 0);
        errno = EIO;
        return -1;
    }
    char env_prot[CKPT_PATH_MAX + 32];
    text::Builder(env_prot, sizeof env_prot).add("CKPT_PROTECTED=").add(prot_path);
    if (int e = verify_with_restorer(image, env_prot)) {
        sys_unlinkat(AT_FDCWD, prot_path, 0);
        errno = e;
        return -1;
    }

    // The restorer's environment: what it needs, and nothing of the program's.
    char env_fd[32], env_dir[CKPT_PATH_MAX + 16], env_value[32], env_sig[32];
    text::Builder(env_fd, sizeof env_fd).add("CKPT_STATUS_FD=").add_int(g_rt.status_fd);
    text::Builder(env_dir, sizeof env_dir).add("CKPT_JOB_DIR=").add(g_rt.job_dir);
    text::Builder(env_value, sizeof env_value).add("CKPT_ROLLBACK_VALUE=").add_int(value > 0 ? value : 1);
    // The launcher's checkpoint signal, for the restored runtime to handle again: the target
    // checkpoint may come from before this launcher (standalone, or an earlier run), and its
    // signal dispositions would leave the signal's default action (terminate) in place.
    text::Builder(env_sig, sizeof env_sig).add("CKPT_SIGNAL=").add_int(g_rt.status_fd >= 0 ? g_rt.signal : 0);
    char *envp[] = {env_fd, env_dir, env_value, env_prot, env_sig, nullptr};
    char *argv[] = {const_cast<char *>("ckpt-restore"), image, nullptr};
    sigset_t all;
    sigfillset(&all);
    sigprocmask(SIG_BLOCK, &all, nullptr);
    execve(g_rt.restorer, argv, envp);
    const int e = errno;
    sys_unlinkat(AT_FDCWD, prot_path, 0);
    sigprocmask(SIG_UNBLOCK, &all, nullptr);
    errno = e;
    return -1;
}

CKPT_API int ckpt_protect(void *addr, size_t len)
{
    if (g_rt.n_protected >= int(sizeof g_rt.protected_ranges / sizeof g_rt.protected_ranges[0])) {
        errno = ENOSPC;
        return -1;
    }
    g_rt.protected_ranges[g_rt.n_protected++] = {reinterpret_cast<uint64_t>(addr), len};
    return 0;
}

CKPT_API int ckpt_unprotect(void *addr, size_t len)
{
    for (int i = 0; i < g_rt.n_protected; ++i) {
        ProtectedRange &r = g_rt.protected_ranges[i];
        if (r.addr == reinterpret_cast<uint64_t>(addr) && r.len == len) {
            r = g_rt.protected_ranges[--g_rt.n_protected];
            return 0;
        }
    }
    errno = ENOENT;
    return -1;
}

CKPT_API int ckpt_exclude_memory(const void *addr, size_t len)
{
    if (int e = exclusion::exclude(reinterpret_cast<uintptr_t>(addr), len)) { errno = e; return -1; }
    return 0;
}

CKPT_API int ckpt_include_memory(const void *addr, size_t len)
{
    if (int e = exclusion::include(reinterpret_cast<uintptr_t>(addr), len)) { errno = e; return -1; }
    return 0;
}

namespace {

int tell_launcher(StatusType type, uint64_t version, uint64_t ns)
{
    if (!g_rt.active || g_rt.status_fd < 0) { errno = ENOTCONN; return -1; }
    report(type, 0, version, 0, ns, 0, nullptr);
    return 0;
}

}  // namespace

CKPT_API int ckpt_set_interval(unsigned long milliseconds)
{
    return tell_launcher(StatusType::SetInterval, 0, uint64_t(milliseconds) * 1000000ull);
}

CKPT_API int ckpt_heartbeat(void) { return tell_launcher(StatusType::Heartbeat, 0, 0); }

CKPT_API int ckpt_keep(int keep) { return tell_launcher(StatusType::SetKeep, keep ? 1 : 0, 0); }

CKPT_API enum ckpt_mode ckpt_current_mode(void)
{
    // A program started directly sets up standalone mode at its first chkpnt()/rollback(),
    // but it is a normal run from the start; only a passive descendant of a launched program
    // has no runtime.
    if (g_rt.passive) return CKPT_MODE_NONE;
    switch (g_rt.mode) {
    case Mode::Recovered: return CKPT_MODE_RECOVERED;
    case Mode::RolledBack: return CKPT_MODE_ROLLED_BACK;
    default: return CKPT_MODE_NORMAL;
    }
}

CKPT_API int ckpt_under_launcher(void) { return g_rt.active && g_rt.status_fd >= 0 ? 1 : 0; }
