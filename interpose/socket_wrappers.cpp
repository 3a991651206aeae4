// listen(): the backlog a restore listens with again (runtime/fd/listen_backlogs.h). The
// kernel keeps it, but does not show it for a unix socket.
#include <sys/socket.h>
#include <sys/stat.h>

#include "real.h"
#include "../runtime/fd/listen_backlogs.h"

using namespace ckpt;
using namespace ckpt::interpose;

CKPT_REAL(int, listen, (int, int))

namespace {

__attribute__((constructor(101))) void resolve_all() { real_listen(); }

}  // namespace

CKPT_EXPORT int listen(int fd, int backlog)
{
    auto real = real_listen();
    const int r = real ? real(fd, backlog) : int(raw_result(RAW2(SYS_listen, fd, backlog)));
    if (r == 0) {
        const int saved = errno;
        struct stat st;
        if (sys_fstat(fd, &st) == 0) fd::note_listen_backlog(fd, uint64_t(st.st_dev), uint64_t(st.st_ino), backlog);
        errno = saved;
    }
    return r;
}
