/* sigreset dfl|block STEPS STEP_US: first resets every signal 1..64 to SIG_DFL (dfl) or blocks
 * them all (block), as daemons and sandboxes do; then counts, printing one line per step.
 * At the end it checks that it still sees what it asked for (every disposition SIG_DFL, or
 * every signal blocked) and says so. Under ckpt-run checkpoints must go on all along and the
 * program must neither die of one nor see ckpt's signal (issue 9, item 6). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 4 || (strcmp(argv[1], "dfl") && strcmp(argv[1], "block"))) {
        fprintf(stderr, "usage: sigreset dfl|block STEPS STEP_US\n");
        return 2;
    }
    const int block = strcmp(argv[1], "block") == 0;
    const int steps = atoi(argv[2]);
    const int step_us = atoi(argv[3]);
    if (block) {
        sigset_t all;
        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, NULL);
    } else {
        for (int s = 1; s <= 64; ++s) {
            struct sigaction sa;
            memset(&sa, 0, sizeof sa);
            sa.sa_handler = SIG_DFL;
            sigaction(s, &sa, NULL); /* 9, 19 and glibc's own 32, 33 fail: fine */
        }
    }
    for (int i = 0; i < steps; ++i) {
        printf("step %d\n", i);
        fflush(stdout);
        usleep((useconds_t)step_us);
    }
    int wrong = 0;
    for (int s = 1; s <= 64; ++s) {
        if (s == SIGKILL || s == SIGSTOP || s == 32 || s == 33) continue;
        if (block) {
            sigset_t cur;
            sigprocmask(SIG_BLOCK, NULL, &cur);
            if (!sigismember(&cur, s)) { printf("signal %d is not blocked\n", s); wrong = 1; }
        } else {
            struct sigaction sa;
            if (sigaction(s, NULL, &sa) == 0 && sa.sa_handler != SIG_DFL) {
                printf("signal %d is not SIG_DFL\n", s);
                wrong = 1;
            }
        }
    }
    printf(wrong ? "view changed\n" : "view ok\n");
    return wrong ? 3 : 0;
}
