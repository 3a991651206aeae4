// Which signals may be the checkpoint signal (--signal). Only signals that nothing but a
// deliberate sender raises: no fault (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGSYS), no
// terminal or job control (SIGINT, SIGQUIT, SIGTSTP, SIGTTIN, SIGTTOU, SIGWINCH, SIGHUP, SIGCONT),
// no kernel event (SIGCHLD, SIGPIPE, SIGALRM, SIGXCPU, SIGXFSZ, SIGIO, SIGURG, SIGPROF, SIGVTALRM),
// no termination request that must keep its meaning (SIGTERM, SIGKILL, SIGSTOP). A fault turned
// into a "checkpoint" is re-raised at the same instruction, for ever.
//
// Accepted: SIGUSR2 and the real-time signals SIGRTMIN..SIGRTMAX as glibc exposes them (glibc
// keeps the first two or three for its threads and timers). SIGUSR1 is refused: it is
// ckpt-run's own "checkpoint now" signal from ckptctl, and the program's checkpoint signal is
// also its parent-death signal; one signal with two meanings in the job would make a stray
// `kill -USR1` do the wrong thing in one of the two processes.
#pragma once

#include <string>

namespace ckpt {

bool acceptable_checkpoint_signal(int sig);

// "SIGUSR2, SIGRTMIN..SIGRTMAX (34..64 here: SIGRTMIN+N, SIGRTMAX-N or a number)"
std::string accepted_checkpoint_signals();

}  // namespace ckpt
