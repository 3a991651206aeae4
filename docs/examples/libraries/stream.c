/* cp_* example: copies a file line by line in upper case; both files are checkpointed, so a run
 * started again after a crash continues reading and writing exactly at the last cp_check.
 *
 *   stream IN OUT    (CRASH_AT=N: die by SIGKILL after line N; CKP_CP_STORE: the store) */
#include <ckp/cp_file.h>

#include <ctype.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    if (argc != 3) return 2;
    const int crash_at = getenv("CRASH_AT") ? atoi(getenv("CRASH_AT")) : -1;
    CP_FILE *in = cp_open(argv[1], "r");
    CP_FILE *out = cp_open(argv[2], "w");
    if (!in || !out) return 1;
    if (cp_tell(in).__pos > 0) printf("resumed at byte %ld\n", (long)cp_tell(in).__pos);

    char c;
    int lines = 0;
    while (cp_read(in, &c, 1, 1) == 1) {
        c = (char)toupper((unsigned char)c);
        if (cp_write(out, &c, 1, 1) != 1) return 1;
        if (c == '\n') {
            /* The output first: a crash between the two checks rewrites this line, never skips it. */
            if (cp_check(out) != 0 || cp_check(in) != 0) return 1;
            if (++lines == crash_at) raise(SIGKILL);
        }
    }
    if (cp_close(in) != 0 || cp_close(out) != 0) return 1;
    puts("copied");
    return 0;
}
