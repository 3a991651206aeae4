#include "internal_fds.h"

#include <fcntl.h>

#include "status_protocol.h"
#include "sys/raw_syscall.h"

namespace ckpt::internal_fds {

bool move_away(int fd)
{
    if (fd == write_tracker::fd()) {
        const long moved = sys_fcntl(fd, F_DUPFD_CLOEXEC, kStatusFd + 1);
        if (moved < 0) return false;
        write_tracker::set_fd(int(moved));  // both numbers are the same userfaultfd meanwhile
        sys_close(fd);
        return true;
    }
    if (fd == g_rt.lazy_fd) {
        const long moved = sys_fcntl(fd, F_DUPFD_CLOEXEC, kStatusFd + 1);
        if (moved < 0) return false;
        g_rt.lazy_fd = int(moved);
        sys_close(fd);
        return true;
    }
    const bool status = fd == g_rt.status_fd;
    const long moved = sys_fcntl(fd, status ? F_DUPFD_CLOEXEC : F_DUPFD, kStatusFd + 1);
    if (moved < 0) return false;
    // The handler may run between the two: it finds either number open.
    if (status) g_rt.status_fd = int(moved);
    else g_rt.lock_fd = int(moved);
    sys_close(fd);
    return true;
}

}  // namespace ckpt::internal_fds
