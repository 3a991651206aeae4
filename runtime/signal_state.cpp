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

}  // namespace ckpt
