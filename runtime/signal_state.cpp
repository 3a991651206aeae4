#include "signal_state.h"

#include <signal.h>

#include "sys/raw_syscall.h"

namespace ckpt {

CaptureError capture_signals(CaptureSet &set)
{
    CaptureError err;
    for (int sig = 1; sig <= 64; ++sig) {
        if (sig == SIGKILL || sig == SIGSTOP) continue;
        kernel_sigaction k{};
        if (sys_rt_sigaction(sig, nullptr, &k) != 0) continue;
        image::SigactionRecord *r = set.sigactions.push();
        *r = image::SigactionRecord{sig, 0, k.handler, k.flags, k.restorer, k.mask};
    }
    uint64_t mask = 0;
    sys_rt_sigprocmask(SIG_BLOCK, nullptr, &mask);
    set.process.handler_sigmask = mask;
    stack_t ss{};
    sys_sigaltstack(nullptr, &ss);
    set.process.altstack_sp = reinterpret_cast<uint64_t>(ss.ss_sp);
    set.process.altstack_size = ss.ss_size;
    set.process.altstack_flags = ss.ss_flags & ~SS_ONSTACK;
    return err;
}

// The return path of ckpt's own handler: rt_sigreturn, in the exact byte sequence unwinders
// (libgcc, gdb) recognise as a signal frame.
extern "C" void ckpt_sigreturn();
asm(".text\n"
    ".p2align 4\n"
    ".hidden ckpt_sigreturn\n"
    ".type ckpt_sigreturn,@function\n"
    "ckpt_sigreturn:\n"
    "  movq $15, %rax\n"
    "  syscall\n"
    "  hlt\n"
    ".size ckpt_sigreturn, .-ckpt_sigreturn\n");

namespace sigstate {

State g_sig;
__thread PerThread t_sig __attribute__((tls_model("initial-exec")));

namespace {

constexpr uint64_t kSaRestorer = 0x04000000;

bool is_handler(uint64_t h) { return h != uint64_t(SIG_DFL) && h != uint64_t(SIG_IGN); }

}  // namespace

kernel_sigaction program_view(int sig, const kernel_sigaction &k)
{
    kernel_sigaction v = k;
    if (k.handler == reinterpret_cast<uint64_t>(&program_trampoline) && g_sig.handler[sig]) {
        v.handler = g_sig.handler[sig];
        v.flags = (k.flags & ~uint64_t(SA_SIGINFO)) | (g_sig.flags[sig] & SA_SIGINFO);
    }
    return v;
}

namespace {

// Gives a number ckpt no longer owns back to the program, as it saw it.
void release(int sig)
{
    kernel_sigaction k = g_sig.virt.action;
    if (is_handler(k.handler)) {
        g_sig.handler[sig] = k.handler;
        g_sig.flags[sig] = k.flags;
        k.handler = reinterpret_cast<uint64_t>(&program_trampoline);
        k.flags |= SA_SIGINFO;
    } else {
        g_sig.handler[sig] = 0;
    }
    if (!(k.flags & kSaRestorer)) {
        k.flags |= kSaRestorer;
        k.restorer = reinterpret_cast<uint64_t>(&ckpt_sigreturn);
    }
    sys_rt_sigaction(sig, &k, nullptr);
    if (t_sig.blocked) {
        const uint64_t b = bit(sig);
        sys_rt_sigprocmask(SIG_BLOCK, &b, nullptr);
    }
}

}  // namespace

void own_checkpoint_signal(int sig, void (*handler)(int, siginfo_t *, void *), bool blocked)
{
    if (sig < 1 || sig > kMaxSignal) return;
    if (g_sig.signal && g_sig.signal != sig) release(g_sig.signal);
    if (g_sig.signal != sig) {
        kernel_sigaction cur{};
        sys_rt_sigaction(sig, nullptr, &cur);
        g_sig.virt = Virtual{};
        g_sig.virt.action = program_view(sig, cur);
        t_sig.blocked = blocked;
        t_sig.pending = false;
        g_sig.handler[sig] = 0;
    }
    g_sig.signal = sig;
    kernel_sigaction k{};
    k.handler = reinterpret_cast<uint64_t>(handler);
    // SA_RESTART: the program's reads and writes go on across a checkpoint. No SA_ONSTACK:
    // the checkpoint needs more stack than a program's alternate stack may offer; on the
    // program's own stack there is room (a program already on its alternate stack keeps
    // running on it, as the kernel does without SA_ONSTACK).
    k.flags = SA_SIGINFO | SA_RESTART | kSaRestorer;
    k.restorer = reinterpret_cast<uint64_t>(&ckpt_sigreturn);
    k.mask = ~0ull;  // nothing may change memory while it is being saved
    sys_rt_sigaction(sig, &k, nullptr);
}

void let_in()
{
    if (!g_sig.signal) return;
    const uint64_t b = bit(g_sig.signal);
    sys_rt_sigprocmask(SIG_UNBLOCK, &b, nullptr);
}

bool forward_foreign(int sig, siginfo_t *si, void *uc)
{
    Virtual &v = g_sig.virt;
    if (t_sig.blocked) {
        t_sig.pending = true;  // delivered when the program unblocks it (signal_wrappers.cpp)
        return true;
    }
    const uint64_t h = v.action.handler;
    if (h == uint64_t(SIG_IGN)) return true;
    // Left at its default action by the program: taken as a checkpoint request, as before ckpt
    // owned the number (the default would end the program; a stray signal of a launcher
    // whose child's pid was reused must not).
    if (h == uint64_t(SIG_DFL)) return false;
    t_sig.program_signals = t_sig.program_signals + 1;
    const uint64_t flags = v.action.flags;
    if (flags & SA_RESETHAND) v.action = kernel_sigaction{};
    // It runs inside ckpt's handler, with every signal blocked (a superset of its sa_mask).
    if (flags & SA_SIGINFO) reinterpret_cast<void (*)(int, siginfo_t *, void *)>(h)(sig, si, uc);
    else reinterpret_cast<void (*)(int)>(h)(sig);
    return true;
}

void program_trampoline(int sig, siginfo_t *si, void *uc)
{
    t_sig.program_signals = t_sig.program_signals + 1;
    if (sig < 1 || sig > kMaxSignal) return;
    const uint64_t h = g_sig.handler[sig];
    const uint64_t flags = g_sig.flags[sig];
    if (flags & SA_RESETHAND) g_sig.handler[sig] = 0;  // the kernel reset its record already
    if (!is_handler(h)) return;
    if (flags & SA_SIGINFO) reinterpret_cast<void (*)(int, siginfo_t *, void *)>(h)(sig, si, uc);
    else reinterpret_cast<void (*)(int)>(h)(sig);
}

}  // namespace sigstate
}  // namespace ckpt
