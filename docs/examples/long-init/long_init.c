/* Bypassing a long initialization (inserted mode, the patent's FIG. 11).
 *
 *   long_init [--no-bypass] [--table-mib N] [--rounds R] TICKET
 *
 * The program spends seconds building a large table (its "initialization"), then processes
 * one input file with it. TICKET is a small file naming the input file(s) to process, one
 * per line. With the bypass (the default) the initialized state is checkpointed with
 * chkpnt() right after the initialization, and the ticket is read only after chkpnt()
 * returns, so that a restored copy of the initialized state picks up whatever the ticket
 * says *now*:
 *
 *   - in one process: after line k is processed, rollback(0, k + 1) goes back to the
 *     initialized state and chkpnt() returns k + 1, the next line to process;
 *   - across runs: under ckpt-run the program keeps its checkpoints (ckpt_keep(1)), so each
 *     later `ckpt-run -- long_init TICKET` restores the initialized state (chkpnt() returns
 *     CKPT_RECOVERED) and processes the first line of the current ticket.
 *
 * --no-bypass initializes and processes without any checkpoint, for comparison. The result
 * line of each input ("input NAME: N values, digest D") is the same either way. See README.md. */
#define _GNU_SOURCE
#include <ckpt/ckpt.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint64_t *table;
static size_t entries;

static uint64_t mix(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    return x ^ (x >> 31);
}

/* The expensive part: every entry is `rounds` rounds of mixing of its index, chained to the
 * entry before it (deterministic, so every run builds the same table). */
static void initialize(size_t mib, int rounds)
{
    entries = (mib << 20) / sizeof *table;
    table = malloc(entries * sizeof *table);
    if (!table) {
        perror("long_init: malloc");
        exit(1);
    }
    uint64_t prev = 0x243f6a8885a308d3ull;
    for (size_t i = 0; i < entries; ++i) {
        uint64_t x = i ^ prev;
        for (int r = 0; r < rounds; ++r) x = mix(x + (uint64_t)r);
        table[i] = prev = x;
    }
}

/* Line `k` (1-based) of the ticket into `out`; 0 if the ticket has no such line. */
static int ticket_line(const char *ticket, int k, char *out, size_t cap)
{
    FILE *f = fopen(ticket, "r");
    if (!f) {
        fprintf(stderr, "long_init: %s: %s\n", ticket, strerror(errno));
        exit(1);
    }
    int found = 0;
    for (int line = 1; !found && fgets(out, (int)cap, f); ++line) {
        out[strcspn(out, "\n")] = 0;
        found = line == k && out[0];
    }
    fclose(f);
    return found;
}

/* The cheap part: look every input value up in the table. */
static void process(const char *input)
{
    FILE *f = fopen(input, "r");
    if (!f) {
        fprintf(stderr, "long_init: %s: %s\n", input, strerror(errno));
        exit(1);
    }
    uint64_t digest = 0xcbf29ce484222325ull, v;
    unsigned long long value;
    size_t n = 0;
    while (fscanf(f, "%llu", &value) == 1) {
        v = table[value % entries] ^ table[mix(value) % entries];
        digest = (digest ^ v) * 0x100000001b3ull;
        ++n;
    }
    fclose(f);
    const char *base = strrchr(input, '/') ? strrchr(input, '/') + 1 : input;
    printf("input %s: %zu values, digest %016llx\n", base, n, (unsigned long long)digest);
    fflush(stdout);
}

int main(int argc, char **argv)
{
    int bypass = 1, rounds = 64;
    size_t mib = 32;
    int a = 1;
    for (; a < argc - 1; ++a) {
        if (strcmp(argv[a], "--no-bypass") == 0) bypass = 0;
        else if (strcmp(argv[a], "--table-mib") == 0 && a + 2 < argc) mib = (size_t)atol(argv[++a]);
        else if (strcmp(argv[a], "--rounds") == 0 && a + 2 < argc) rounds = atoi(argv[++a]);
        else break;
    }
    if (a != argc - 1) {
        fprintf(stderr, "usage: long_init [--no-bypass] [--table-mib N] [--rounds R] TICKET\n");
        return 2;
    }
    const char *ticket = argv[a];

    initialize(mib, rounds);
    int next = 1;
    if (bypass) {
        const int r = chkpnt();
        if (ckpt_under_launcher()) {
            /* Keep the initialized state for the next run, and take no other checkpoint:
             * the next run must restore this one. */
            ckpt_set_interval(0);
            ckpt_keep(1);
        }
        if (r < 0) {
            fprintf(stderr, "long_init: chkpnt: %s; going on without the bypass\n", strerror(errno));
            bypass = 0;
        } else if (r == 0) {
            fprintf(stderr, "long_init: initialized, state checkpointed\n");
        } else if (r == CKPT_RECOVERED) {
            fprintf(stderr, "long_init: initialized state restored by ckpt-run\n");
        } else {
            fprintf(stderr, "long_init: initialized state restored by rollback, ticket line %d\n", r);
            next = r;
        }
    } else {
        fprintf(stderr, "long_init: initialized\n");
    }

    char input[4096];
    if (!ticket_line(ticket, next, input, sizeof input)) {
        fprintf(stderr, "long_init: %s has no line %d\n", ticket, next);
        return 1;
    }
    process(input);
    if (bypass && ticket_line(ticket, next + 1, input, sizeof input)) {
        fflush(NULL);  /* stdio buffers go back in time with the rest of the memory */
        rollback(0, next + 1);
        fprintf(stderr, "long_init: rollback: %s\n", strerror(errno));
        return 1;
    }
    return 0;
}
