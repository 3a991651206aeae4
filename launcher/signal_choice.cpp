#include "signal_choice.h"

#include <signal.h>

namespace ckpt {

bool acceptable_checkpoint_signal(int sig) { return sig == SIGUSR2 || (sig >= SIGRTMIN && sig <= SIGRTMAX); }

std::string accepted_checkpoint_signals()
{
    return "SIGUSR2, or a real-time signal SIGRTMIN..SIGRTMAX (" + std::to_string(SIGRTMIN) + ".." +
           std::to_string(SIGRTMAX) + " here; written SIGRTMIN+N, SIGRTMAX-N or as a number)";
}

}  // namespace ckpt
