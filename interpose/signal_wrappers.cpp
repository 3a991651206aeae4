// The checkpoint signal is ckpt's: every libc entry point that can change a disposition or
// the mask goes through here, so that the program sees what it asked for and ckpt keeps its
// signal (runtime/signal_state.h). For the checkpoint signal's number, the program's
// disposition and mask bit are virtual; for every other signal, a handler the program sets
// is installed behind the counting trampoline. glibc's own helpers (signal, sigset, sighold,
// siginterrupt, sigpause, ...) call its internal sigaction/sigprocmask, not through the PLT:
// each is wrapped here in terms of the wrappers below.
//
// Not covered: raw system calls (syscall(SYS_rt_sigaction, ...)), and the bit across an exec
// inside the program (the new image starts with the number unblocked, as after ckpt-run).
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "../runtime/runtime_state.h"
#include "../runtime/signal_state.h"

using namespace ckpt;
using namespace ckpt::interpose;
using ckpt::sigstate::g_sig;

CKPT_REAL(int, sigaction, (int, const struct sigaction *, struct sigaction *))
CKPT_REAL(int, sigprocmask, (int, const sigset_t *, sigset_t *))
CKPT_REAL(int, pthread_sigmask, (int, const sigset_t *, sigset_t *))
CKPT_REAL(int, pthread_create, (pthread_t *, const pthread_attr_t *, void *(*)(void *), void *))
CKPT_REAL(int, sigsuspend, (const sigset_t *))
CKPT_REAL(int, sigwait, (const sigset_t *, int *))
CKPT_REAL(int, sigwaitinfo, (const sigset_t *, siginfo_t *))
CKPT_REAL(int, sigtimedwait, (const sigset_t *, siginfo_t *, const struct timespec *))
CKPT_REAL(int, signalfd, (int, const sigset_t *, int))
CKPT_REAL(int, execve, (const char *, char *const[], char *const[]))
CKPT_REAL(int, execv, (const char *, char *const[]))
CKPT_REAL(int, execvp, (const char *, char *const[]))
CKPT_REAL(int, execvpe, (const char *, char *const[], char *const[]))
CKPT_REAL(int, fexecve, (int, char *const[], char *const[]))
CKPT_REAL(int, execveat, (int, const char *, char *const[], char *const[], int))

namespace {

__attribute__((constructor(101))) void resolve_all()
{
    real_sigaction(); real_sigprocmask(); real_pthread_sigmask(); real_pthread_create(); real_sigsuspend(); real_sigwait();
    real_sigwaitinfo(); real_sigtimedwait(); real_signalfd(); real_execve(); real_execv();
    real_execvp(); real_execvpe(); real_fexecve(); real_execveat();
}

int owned() { return g_sig.signal; }

bool is_handler(void (*h)(int)) { return h != SIG_DFL && h != SIG_IGN && h != SIG_ERR; }

void to_user(const kernel_sigaction &k, struct sigaction *out)
{
    memset(out, 0, sizeof *out);
    out->sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t *, void *)>(k.handler);
    out->sa_flags = int(k.flags);
    out->sa_restorer = reinterpret_cast<void (*)()>(k.restorer);
    memcpy(&out->sa_mask, &k.mask, sizeof k.mask);
}

kernel_sigaction from_user(const struct sigaction *in)
{
    kernel_sigaction k{};
    k.handler = reinterpret_cast<uint64_t>(in->sa_sigaction);
    k.flags = uint64_t(unsigned(in->sa_flags));
    k.restorer = reinterpret_cast<uint64_t>(in->sa_restorer);
    memcpy(&k.mask, &in->sa_mask, sizeof k.mask);
    return k;
}

int do_sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    auto real = real_sigaction();
    if (sig == owned() && sig > 0) {
        if (old) to_user(g_sig.virt.action, old);
        if (act) g_sig.virt.action = from_user(act);
        return 0;
    }
    if (!real) { errno = ENOSYS; return -1; }
    if (sig < 1 || sig > sigstate::kMaxSignal || sig == SIGKILL || sig == SIGSTOP)
        return real(sig, act, old);
    const uint64_t prev_handler = g_sig.handler[sig], prev_flags = g_sig.flags[sig];
    struct sigaction k;
    const struct sigaction *pass = act;
    const bool wrap = act && is_handler(act->sa_handler);
    if (wrap) {
        k = *act;
        k.sa_sigaction = sigstate::program_trampoline;
        k.sa_flags |= SA_SIGINFO;
        pass = &k;
        // The table first: a signal that comes before the kernel has the new record finds
        // the handler it would have found without ckpt, old or new.
        g_sig.flags[sig] = uint64_t(unsigned(act->sa_flags));
        g_sig.handler[sig] = reinterpret_cast<uint64_t>(act->sa_sigaction);
    }
    const int r = real(sig, pass, old);
    if (r != 0) {
        g_sig.handler[sig] = prev_handler;
        g_sig.flags[sig] = prev_flags;
        return r;
    }
    if (act && !wrap) g_sig.handler[sig] = 0;
    if (old && old->sa_sigaction == sigstate::program_trampoline && prev_handler) {
        old->sa_sigaction = reinterpret_cast<void (*)(int, siginfo_t *, void *)>(prev_handler);
        if (!(prev_flags & SA_SIGINFO)) old->sa_flags &= ~SA_SIGINFO;
    }
    return r;
}

// The virtual bit after `how` with `set`; unknown `how` leaves it (the kernel says EINVAL).
bool virtual_blocked_after(int how, const sigset_t *set)
{
    const bool has = sigismember(set, owned()) == 1;
    switch (how) {
    case SIG_BLOCK: return sigstate::t_sig.blocked || has;
    case SIG_UNBLOCK: return sigstate::t_sig.blocked && !has;
    case SIG_SETMASK: return has;
    default: return sigstate::t_sig.blocked;
    }
}

bool is_full(const sigset_t *set) { return sigstate::is_full_set(set); }

void show_virtual(sigset_t *old, bool blocked)
{
    if (!old) return;
    if (blocked) sigaddset(old, owned());
    else sigdelset(old, owned());
}

// A foreign checkpoint-numbered signal that came while the program had it blocked.
void deliver_pending()
{
    if (sigstate::t_sig.blocked || !sigstate::t_sig.pending) return;
    sigstate::t_sig.pending = false;
    RAW3(SYS_tgkill, sys_getpid(), sys_gettid(), owned());
}

// sigprocmask and pthread_sigmask: `real` returns -1/errno or an error number (pthread).
template <typename F>
int do_mask(F real, int how, const sigset_t *set, sigset_t *old)
{
    if (!real) return ENOSYS;
    if (!owned()) return real(how, set, old);
    sigset_t s;
    const sigset_t *pass = set;
    const bool was = sigstate::t_sig.blocked;
    bool now = was;
    if (set) {
        s = *set;
        now = virtual_blocked_after(how, set);
        if (is_full(set)) sigdelset(&s, owned());
        pass = &s;
    }
    const int r = real(how, pass, old);
    if (r != 0) return r;
    show_virtual(old, was);
    if (how == SIG_BLOCK || how == SIG_UNBLOCK || how == SIG_SETMASK) sigstate::t_sig.blocked = now;
    deliver_pending();
    return 0;
}

int mask_proc(int how, const sigset_t *set, sigset_t *old)
{
    auto f = real_sigprocmask();
    if (!f) {
        errno = ENOSYS;
        return -1;
    }
    return do_mask(f, how, set, old);
}

// A full `set` (is_full) without the checkpoint signal: what the kernel is asked to block or
// wait for.
const sigset_t *without_owned(const sigset_t *set, sigset_t &copy)
{
    if (!set || !owned() || sigismember(set, owned()) != 1 || !is_full(set)) return set;
    copy = *set;
    sigdelset(&copy, owned());
    return &copy;
}

int block_for_exec(uint64_t &old)
{
    // Only the launcher's own child receives checkpoint signals; between exec and the next
    // image's runtime their default action would end it.
    if (!owned() || g_rt.launcher_pid <= 0 || sys_getppid() != g_rt.launcher_pid) return 0;
    const uint64_t b = sigstate::bit(owned());
    return sys_rt_sigprocmask(SIG_BLOCK, &b, &old) == 0 ? 1 : 0;
}

void after_failed_exec(int blocked, uint64_t old)
{
    if (!blocked) return;
    const int e = errno;
    sys_rt_sigprocmask(SIG_SETMASK, &old, nullptr);
    errno = e;
}

}  // namespace

CKPT_EXPORT int sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return do_sigaction(sig, act, old);
}

CKPT_EXPORT int __sigaction(int sig, const struct sigaction *act, struct sigaction *old)
{
    return do_sigaction(sig, act, old);
}

namespace {

sighandler_t install_simple(int sig, sighandler_t handler, int flags, bool mask_self)
{
    if (handler == SIG_ERR || sig < 1 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    struct sigaction act, old;
    memset(&act, 0, sizeof act);
    act.sa_handler = handler;
    sigemptyset(&act.sa_mask);
    if (mask_self) sigaddset(&act.sa_mask, sig);
    act.sa_flags = flags;
    if (do_sigaction(sig, &act, &old) < 0) return SIG_ERR;
    return old.sa_handler;
}

}  // namespace

// BSD semantics, as glibc's signal(): restarting unless siginterrupt() said otherwise.
CKPT_EXPORT sighandler_t signal(int sig, sighandler_t handler)
{
    const bool interrupt = sig > 0 && sig <= 64 && (g_sig.siginterrupt_set & sigstate::bit(sig));
    return install_simple(sig, handler, interrupt ? 0 : SA_RESTART, true);
}

CKPT_EXPORT sighandler_t bsd_signal(int sig, sighandler_t handler) { return signal(sig, handler); }
CKPT_EXPORT sighandler_t ssignal(int sig, sighandler_t handler) { return signal(sig, handler); }

CKPT_EXPORT sighandler_t sysv_signal(int sig, sighandler_t handler)
{
    return install_simple(sig, handler, SA_RESETHAND | SA_NODEFER, false);
}

CKPT_EXPORT sighandler_t __sysv_signal(int sig, sighandler_t handler) { return sysv_signal(sig, handler); }

CKPT_EXPORT int siginterrupt(int sig, int flag)
{
    if (sig < 1 || sig >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    struct sigaction act;
    if (do_sigaction(sig, nullptr, &act) < 0) return -1;
    if (flag) {
        g_sig.siginterrupt_set |= sigstate::bit(sig);
        act.sa_flags &= ~SA_RESTART;
    } else {
        g_sig.siginterrupt_set &= ~sigstate::bit(sig);
        act.sa_flags |= SA_RESTART;
    }
    return do_sigaction(sig, &act, nullptr);
}

CKPT_EXPORT int sigignore(int sig)
{
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = SIG_IGN;
    sigemptyset(&act.sa_mask);
    return do_sigaction(sig, &act, nullptr);
}

CKPT_EXPORT int sigprocmask(int how, const sigset_t *set, sigset_t *old) { return mask_proc(how, set, old); }

CKPT_EXPORT int pthread_sigmask(int how, const sigset_t *set, sigset_t *old)
{
    auto f = real_pthread_sigmask();
    return f ? do_mask(f, how, set, old) : ENOSYS;
}

namespace {

// A thread created while its creator has the checkpoint signal blocked (in the program's
// view) starts with it blocked, as the kernel gives a new thread its creator's mask. The
// kernel's part of the mask is inherited by clone() itself; the virtual bit is thread-local
// and starts clear, so the new thread sets it before the program's start routine runs.
struct InheritBlocked {
    void *(*start)(void *);
    void *arg;
};

void *start_blocked(void *p)
{
    const InheritBlocked h = *static_cast<InheritBlocked *>(p);
    free(p);
    sigstate::t_sig.blocked = true;
    return h.start(h.arg);
}

}  // namespace

// Only a creator with the bit set goes through the trampoline: every other thread starts
// exactly as without ckpt.
CKPT_EXPORT int pthread_create(pthread_t *thread, const pthread_attr_t *attr, void *(*start)(void *), void *arg)
{
    auto real = real_pthread_create();
    if (!real) return ENOSYS;
    if (!owned() || !sigstate::t_sig.blocked) return real(thread, attr, start, arg);
    auto *h = static_cast<InheritBlocked *>(malloc(sizeof(InheritBlocked)));
    if (!h) return EAGAIN;
    *h = {start, arg};
    const int r = real(thread, attr, start_blocked, h);
    if (r != 0) free(h);
    return r;
}

namespace {

int mask_one(int how, int sig)
{
    if (sig < 1 || sig >= NSIG) {
        errno = EINVAL;
        return -1;
    }
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, sig);
    return mask_proc(how, &s, nullptr);
}

}  // namespace

CKPT_EXPORT int sighold(int sig) { return mask_one(SIG_BLOCK, sig); }
CKPT_EXPORT int sigrelse(int sig) { return mask_one(SIG_UNBLOCK, sig); }

CKPT_EXPORT sighandler_t sigset(int sig, sighandler_t disp)
{
    if (sig < 1 || sig >= NSIG) {
        errno = EINVAL;
        return SIG_ERR;
    }
    sigset_t set, oset;
    sigemptyset(&set);
    sigaddset(&set, sig);
    struct sigaction act, oact;
    if (disp == SIG_HOLD) {
        if (mask_proc(SIG_BLOCK, &set, &oset) < 0) return SIG_ERR;
        if (sigismember(&oset, sig)) return SIG_HOLD;
        if (do_sigaction(sig, nullptr, &oact) < 0) return SIG_ERR;
        return oact.sa_handler;
    }
    memset(&act, 0, sizeof act);
    act.sa_handler = disp;
    sigemptyset(&act.sa_mask);
    if (do_sigaction(sig, &act, &oact) < 0) return SIG_ERR;
    if (mask_proc(SIG_UNBLOCK, &set, &oset) < 0) return SIG_ERR;
    return sigismember(&oset, sig) ? SIG_HOLD : oact.sa_handler;
}

// The old 32-bit masks (signals 1..32 only; glibc's sigsetmask clears the rest).
CKPT_EXPORT int sigblock(int mask)
{
    sigset_t s, old;
    sigemptyset(&s);
    memcpy(&s, &mask, sizeof mask);
    if (mask_proc(SIG_BLOCK, &s, &old) < 0) return -1;
    int r;
    memcpy(&r, &old, sizeof r);
    return r;
}

CKPT_EXPORT int sigsetmask(int mask)
{
    sigset_t s, old;
    sigemptyset(&s);
    memcpy(&s, &mask, sizeof mask);
    if (mask_proc(SIG_SETMASK, &s, &old) < 0) return -1;
    int r;
    memcpy(&r, &old, sizeof r);
    return r;
}

// sigsuspend returns only after a handler: one of ckpt's alone does not end it.
CKPT_EXPORT int sigsuspend(const sigset_t *mask)
{
    auto real = real_sigsuspend();
    if (!real) return int(raw_result(-ENOSYS));
    sigset_t copy;
    const sigset_t *pass = without_owned(mask, copy);
    for (;;) {
        sigstate::Interruption intr;
        const int r = real(pass);
        if (r == -1 && errno == EINTR && intr.only_checkpoint()) continue;
        return r;
    }
}

CKPT_EXPORT int __sigsuspend(const sigset_t *mask) { return sigsuspend(mask); }

// sigpause(sig) (X/Open: unblock sig and wait) and the BSD form with a 32-bit mask.
CKPT_EXPORT int __sigpause(int sig_or_mask, int is_sig)
{
    sigset_t set;
    if (is_sig) {
        mask_proc(SIG_BLOCK, nullptr, &set);
        sigdelset(&set, sig_or_mask);
    } else {
        sigemptyset(&set);
        memcpy(&set, &sig_or_mask, sizeof sig_or_mask);
    }
    return sigsuspend(&set);
}

// <signal.h> names __xpg_sigpause "sigpause" under _GNU_SOURCE: the BSD symbol by its asm name.
extern "C" __attribute__((visibility("default"))) int ckpt_bsd_sigpause(int mask) __asm__("sigpause");
int ckpt_bsd_sigpause(int mask) { return __sigpause(mask, 0); }
CKPT_EXPORT int __xpg_sigpause(int sig) { return __sigpause(sig, 1); }

CKPT_EXPORT int sigwait(const sigset_t *set, int *sig)
{
    auto real = real_sigwait();
    if (!real) return ENOSYS;
    sigset_t copy;
    return real(without_owned(set, copy), sig);
}

CKPT_EXPORT int sigwaitinfo(const sigset_t *set, siginfo_t *info)
{
    auto real = real_sigwaitinfo();
    if (!real) return int(raw_result(-ENOSYS));
    sigset_t copy;
    const sigset_t *pass = without_owned(set, copy);
    for (;;) {
        sigstate::Interruption intr;
        const int r = real(pass, info);
        if (r == -1 && errno == EINTR && intr.only_checkpoint()) continue;
        return r;
    }
}

CKPT_EXPORT int sigtimedwait(const sigset_t *set, siginfo_t *info, const struct timespec *timeout)
{
    auto real = real_sigtimedwait();
    if (!real) return int(raw_result(-ENOSYS));
    sigset_t copy;
    const sigset_t *pass = without_owned(set, copy);
    if (!timeout) return sigwaitinfo(set, info);
    const int64_t deadline = sigstate::virtual_now_ns() + int64_t(timeout->tv_sec) * 1000000000 + timeout->tv_nsec;
    struct timespec left = *timeout;
    for (;;) {
        sigstate::Interruption intr;
        const int r = real(pass, info, &left);
        if (!(r == -1 && errno == EINTR && intr.only_checkpoint())) return r;
        int64_t rest = deadline - sigstate::virtual_now_ns();
        if (rest < 0) rest = 0;
        left = {time_t(rest / 1000000000), long(rest % 1000000000)};
    }
}

// A signalfd never gets the checkpoint signal, whatever the set (not only a full one): one
// that had it would take the checkpoints away from ckpt's handler while the program blocks
// it. The kernel's mask is what a restore gives the new signalfd (runtime/fd/kind_signalfd.cpp).
CKPT_EXPORT int signalfd(int fd, const sigset_t *mask, int flags)
{
    auto real = real_signalfd();
    if (!real) return int(raw_result(-ENOSYS));
    sigset_t copy;
    // glibc declares `mask` nonnull, but a program may pass NULL (the kernel answers EFAULT):
    // hidden from the compiler, so that the check stays.
    const sigset_t *pass = mask;
    asm("" : "+r"(pass));
    if (pass && owned() && sigismember(pass, owned()) == 1) {
        copy = *pass;
        sigdelset(&copy, owned());
        pass = &copy;
    }
    return real(fd, pass, flags);
}

// exec: the checkpoint signal stays blocked until the next image's runtime takes it (as the
// launcher does for the first exec). No memory is written: a vfork() child may be here.
CKPT_EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
    uint64_t old = 0;
    const int blocked = block_for_exec(old);
    auto real = real_execve();
    const int r = real ? real(path, argv, envp) : int(raw_result(RAW3(SYS_execve, path, argv, envp)));
    after_failed_exec(blocked, old);
    return r;
}

CKPT_EXPORT int execv(const char *path, char *const argv[])
{
    uint64_t old = 0;
    const int blocked = block_for_exec(old);
    const int r = real_execv()(path, argv);
    after_failed_exec(blocked, old);
    return r;
}

CKPT_EXPORT int execvp(const char *file, char *const argv[])
{
    uint64_t old = 0;
    const int blocked = block_for_exec(old);
    const int r = real_execvp()(file, argv);
    after_failed_exec(blocked, old);
    return r;
}

CKPT_EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
    uint64_t old = 0;
    const int blocked = block_for_exec(old);
    const int r = real_execvpe()(file, argv, envp);
    after_failed_exec(blocked, old);
    return r;
}

CKPT_EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
    uint64_t old = 0;
    const int blocked = block_for_exec(old);
    const int r = real_fexecve()(fd, argv, envp);
    after_failed_exec(blocked, old);
    return r;
}

CKPT_EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
    uint64_t old = 0;
    const int blocked = block_for_exec(old);
    const int r = real_execveat()(dirfd, path, argv, envp, flags);
    after_failed_exec(blocked, old);
    return r;
}

namespace {

// The argument list of execl/execle/execlp as an argv on the stack (glibc does the same).
#define CKPT_COLLECT_ARGS(arg0, ap, argv, envp_out)                  \
    size_t argc_ = 1;                                                \
    va_start(ap, arg0);                                              \
    while (va_arg(ap, const char *)) ++argc_;                        \
    va_end(ap);                                                      \
    char *argv[argc_ + 1];                                           \
    argv[0] = const_cast<char *>(arg0);                              \
    va_start(ap, arg0);                                              \
    for (size_t i_ = 1; i_ <= argc_; ++i_) argv[i_] = va_arg(ap, char *); \
    envp_out;                                                        \
    va_end(ap)

}  // namespace

extern "C" char **environ;

CKPT_EXPORT int execl(const char *path, const char *arg, ...)
{
    va_list ap;
    CKPT_COLLECT_ARGS(arg, ap, argv, (void)0);
    return execve(path, argv, environ);
}

CKPT_EXPORT int execle(const char *path, const char *arg, ...)
{
    va_list ap;
    char **envp = nullptr;
    CKPT_COLLECT_ARGS(arg, ap, argv, envp = va_arg(ap, char **));
    return execve(path, argv, envp);
}

CKPT_EXPORT int execlp(const char *file, const char *arg, ...)
{
    va_list ap;
    CKPT_COLLECT_ARGS(arg, ap, argv, (void)0);
    return execvp(file, argv);
}
