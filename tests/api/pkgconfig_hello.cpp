// Built against an installed ckpt through pkg-config (C++): checkpoint, roll back, done.
#include <ckpt/ckpt.h>

#include <cstdio>
#include <string>
#include <vector>

int main()
{
    static int carried = 0;
    std::vector<std::string> words{"before"};
    if (ckpt_protect(&carried, sizeof carried) != 0) return 1;
    const int r = chkpnt();
    if (r == 0) {
        words.push_back("after");
        carried = 11;
        rollback(0, 6);
        std::fprintf(stderr, "rollback returned\n");
        return 1;
    }
    if (r != 6 || words.size() != 1 || carried != 11) {
        std::fprintf(stderr, "unexpected: r=%d words=%zu carried=%d\n", r, words.size(), carried);
        return 1;
    }
    std::puts("PKGCONFIG-CXX-OK");
    return 0;
}
