/* Built against an installed ckpt through pkg-config (C): checkpoint, roll back, done. */
#include <ckpt/ckpt.h>
#include <stdio.h>

static int value;

int main(void)
{
    value = 1;
    int r = chkpnt();
    if (r == 0) {
        value = 2;
        rollback(0, 5);
        fprintf(stderr, "rollback returned\n");
        return 1;
    }
    if (r != 5 || value != 1 || ckpt_current_mode() != CKPT_MODE_ROLLED_BACK) {
        fprintf(stderr, "unexpected: r=%d value=%d\n", r, value);
        return 1;
    }
    puts("PKGCONFIG-C-OK");
    return 0;
}
