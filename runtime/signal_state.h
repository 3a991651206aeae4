// Signal state: every disposition (the kernel's own sigaction records, so the restorer can
// hand them back unchanged), the alternate stack, and the mask in force in the handler. The
// restorer reinstalls them (launcher/restorer/blob.c); the interrupted mask lives in the
// kernel's signal frame on the saved stack and comes back with rt_sigreturn.
//
// The checkpoint signal belongs to ckpt: the program's own disposition and mask bit for that
// number are virtual (kept here, never given to the kernel; interpose/signal_wrappers.cpp),
// so that a program that resets or blocks every signal neither dies of nor starves the next
// checkpoint. Every other handler the program installs runs through a trampoline that counts
// it, so that the wait wrappers (interpose/wait_wrappers.cpp) can tell an interruption by the
// checkpoint signal alone (resumed with the remaining time) from one by the program's own
// signals (its EINTR reaches it). All of this lives in libckpt's memory and therefore in the
// image: a restored program keeps its view.
#pragma once

#include <signal.h>
#include <stdint.h>

#include "capture_set.h"
#include "sys/raw_syscall.h"

namespace ckpt {

CaptureError capture_signals(CaptureSet &set);

namespace sigstate {

constexpr int kMaxSignal = 64;

inline uint64_t bit(int sig) { return 1ull << (sig - 1); }

// The program's view of the checkpoint signal's number (its disposition: the process's).
struct Virtual {
    kernel_sigaction action{};  // SIG_DFL until the program sets one
};

// What each thread has of its own: the checkpoint signal's number in the mask it asked for
// (virtual), whether one sent by someone else waits for it, and the counters the wait
// wrappers read (a wait ends early only for signals its own thread took). Thread-local, so
// part of the image and restored with every thread; a new thread starts with its creator's
// `blocked` (pthread_create, interpose/signal_wrappers.cpp).
struct PerThread {
    bool blocked;   // in this thread's mask as the program set it
    bool pending;   // sent by someone else while blocked
    volatile uint64_t program_signals;
    volatile uint64_t checkpoint_ticks;
};

extern __thread PerThread t_sig __attribute__((tls_model("initial-exec")));

struct State {
    int signal = 0;  // the checkpoint signal owned, 0 before the runtime took it
    Virtual virt;
    // The program's handler behind each trampoline (0 = none: the kernel has SIG_DFL/SIG_IGN
    // or a handler set before ckpt's wrappers), and the flags it asked for.
    uint64_t handler[kMaxSignal + 1] = {};
    uint64_t flags[kMaxSignal + 1] = {};
    uint64_t siginterrupt_set = 0;  // signals for which signal() omits SA_RESTART
    // CLOCK_MONOTONIC minus the time the program spent dead between a checkpoint and its
    // restore: the clock of the wait wrappers' deadlines (see virtual_now_ns).
    int64_t shift_ns = 0;
    int64_t captured_at_ns = 0;  // virtual_now_ns() when the last image was captured
};

extern State g_sig;

// Takes the checkpoint signal `sig` with `handler` (SA_SIGINFO, a full mask). The program's
// view of that number starts as the kernel had it (at a start: SIG_DFL; `blocked` from the
// launcher, which blocks it across exec). A restore under a launcher using another number
// gives the old number back to the program as it saw it.
void own_checkpoint_signal(int sig, void (*handler)(int, siginfo_t *, void *), bool blocked);

// Unblocks the checkpoint signal in the kernel's mask (a checkpoint pending since the exec
// is taken at once).
void let_in();

// The kernel's record of `sig` (not the checkpoint signal) as the program sees it: its own
// handler and SA_SIGINFO choice instead of the trampoline's.
kernel_sigaction program_view(int sig, const kernel_sigaction &k);

// The program's mask as the kernel may hold it: never the checkpoint signal.
inline uint64_t real_mask(uint64_t program_mask)
{
    return g_sig.signal ? program_mask & ~bit(g_sig.signal) : program_mask;
}

// Every signal but the checkpoint signal, SIGKILL, SIGSTOP and glibc's own 32 and 33: the
// set of a program that blocks "everything" (sigfillset). Blocking the checkpoint signal that
// way must not starve the checkpoints (it is left out of what the kernel is asked to block);
// a set that names it without being full is a deliberate block (e.g. to keep checkpoints
// between the steps of a computation) and defers them in the kernel, as without ckpt's
// wrappers.
inline bool is_full_set(const sigset_t *set)
{
    for (int s = 1; s <= kMaxSignal; ++s) {
        if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33 || s == g_sig.signal) continue;
        if (sigismember(set, s) != 1) return false;
    }
    return true;
}

// CLOCK_MONOTONIC that stands still while the program is dead: a wait interrupted by a
// checkpoint and resumed after a restore (perhaps after a reboot) sleeps the rest of what
// was left at the checkpoint.
inline int64_t virtual_now_ns() { return int64_t(sys_monotonic_ns()) - g_sig.shift_ns; }

// In the checkpoint handler: one more checkpoint tick; before the capture; after a restore.
inline void note_checkpoint_tick() { t_sig.checkpoint_ticks = t_sig.checkpoint_ticks + 1; }
inline void before_capture() { g_sig.captured_at_ns = virtual_now_ns(); }
inline void after_restore() { g_sig.shift_ns = int64_t(sys_monotonic_ns()) - g_sig.captured_at_ns; }

// Snapshot taken before a blocking call: after an EINTR, whether only checkpoint signals
// (no handler of the program) arrived since, in which case the call resumes.
struct Interruption {
    uint64_t prog = t_sig.program_signals;
    uint64_t ticks = t_sig.checkpoint_ticks;
    bool only_checkpoint() const
    {
        return t_sig.program_signals == prog && t_sig.checkpoint_ticks != ticks;
    }
    void rearm()
    {
        prog = t_sig.program_signals;
        ticks = t_sig.checkpoint_ticks;
    }
};

// The checkpoint signal came from someone other than the launcher (the program itself, or
// another process): deliver it as the program's disposition says (its handler; ignored;
// pending while blocked). Returns false if the program left it at SIG_DFL: then it is
// taken as a checkpoint request.
bool forward_foreign(int sig, siginfo_t *si, void *uc);

// The trampoline every program handler is installed behind.
void program_trampoline(int sig, siginfo_t *si, void *uc);

}  // namespace sigstate
}  // namespace ckpt
