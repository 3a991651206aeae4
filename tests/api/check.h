/* Assertions for the API test programs: the first failed check prints where and why, and
 * the program exits with status 1 (so no checkpoint clean-up runs and the driver sees it). */
#ifndef CKPT_TEST_CHECK_H
#define CKPT_TEST_CHECK_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                            \
    do {                                                                                       \
        if (!(cond)) {                                                                         \
            int e_ = errno;                                                                    \
            fprintf(stderr, "%s:%d: check failed: %s (errno %d: %s)\n", __FILE__, __LINE__,     \
                    #cond, e_, strerror(e_));                                                  \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

/* A call that must fail with -1 and this errno. */
#define CHECK_FAILS(call, err)                                                                 \
    do {                                                                                       \
        errno = 0;                                                                             \
        int rc_ = (call);                                                                      \
        if (rc_ != -1 || errno != (err)) {                                                     \
            int e_ = errno;                                                                    \
            fprintf(stderr, "%s:%d: %s returned %d, errno %d (%s); expected -1, %s\n",         \
                    __FILE__, __LINE__, #call, rc_, e_, strerror(e_), #err);                   \
            exit(1);                                                                           \
        }                                                                                      \
    } while (0)

#endif
