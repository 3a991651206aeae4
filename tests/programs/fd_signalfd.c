/* signalfd across a checkpoint: the mask (SIGUSR1 and SIGUSR2, blocked, and ckpt's own
 * checkpoint signal, which the program may name but never take over), SFD_NONBLOCK, and a
 * dup. The checkpoint the test waits for shows the checkpoint signal still reaches ckpt. */
#include "fdkind_common.h"
#include <signal.h>
#include <sys/signalfd.h>

int main(int argc, char **argv)
{
    start(argc, argv);
    sigset_t mask;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGUSR2);
    if (sigprocmask(SIG_BLOCK, &mask, NULL)) die("sigprocmask");
    sigaddset(&mask, SIGRTMAX - 1);  /* ckpt-run's default checkpoint signal */
    int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
    if (sfd < 0) die("signalfd");
    int dup_of_sfd = dup(sfd);
    ready_then_wait();

    struct signalfd_siginfo si;
    expect(read(sfd, &si, sizeof si) < 0 && errno == EAGAIN, "nothing pending, non-blocking (EAGAIN)", NULL);
    raise(SIGUSR1);
    expect(read(sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR1, "SIGUSR1 read from the signalfd", NULL);
    raise(SIGUSR2);
    expect(read(dup_of_sfd, &si, sizeof si) == sizeof si && si.ssi_signo == SIGUSR2,
           "SIGUSR2 read through the dup", NULL);
    expect((fcntl(sfd, F_GETFD) & FD_CLOEXEC) != 0, "close-on-exec kept", NULL);
    return failures != 0;
}
