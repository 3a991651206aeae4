// inotify_add_watch: the kernel keeps a watch as an inode; a restore re-adds it by path, so
// the path of every watch the program adds is recorded (runtime/fd/inotify_watches.h), made
// absolute against the working directory of the call.
#include <fcntl.h>
#include <sys/inotify.h>
#include <sys/stat.h>

#include "real.h"
#include "../runtime/fd/inotify_watches.h"
#include "../runtime/text.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, inotify_add_watch, (int, const char *, uint32_t))

namespace {

__attribute__((constructor(101))) void resolve_all() { real_inotify_add_watch(); }

void note(int wd, const char *path, uint32_t mask)
{
    char abs[8192];
    size_t n = 0;
    if (path[0] != '/') {
        long r = sys_getcwd(abs, 4096);
        if (r <= 0) return;
        n = text::length(abs);
        if (n && abs[n - 1] != '/') abs[n++] = '/';
    }
    for (size_t i = 0; path[i]; ++i) {
        if (n + 1 >= sizeof abs) return;
        abs[n++] = path[i];
    }
    abs[n] = 0;
    struct stat st;
    const int at_flags = (mask & IN_DONT_FOLLOW) ? AT_SYMLINK_NOFOLLOW : 0;
    if (sys_newfstatat(AT_FDCWD, abs, &st, at_flags) != 0) return;  // gone meanwhile: refused if checkpointed
    fd::note_inotify_watch(wd, abs, n, mask & (IN_DONT_FOLLOW | IN_ONLYDIR), uint64_t(st.st_dev), uint64_t(st.st_ino));
}

}  // namespace

CKPT_EXPORT int inotify_add_watch(int fd, const char *path, uint32_t mask)
{
    auto real = real_inotify_add_watch();
    const int wd = real ? real(fd, path, mask) : int(raw_result(RAW3(SYS_inotify_add_watch, fd, path, mask)));
    if (wd >= 0 && path) {
        const int saved = errno;
        note(wd, path, mask);
        errno = saved;
    }
    return wd;
}
