#include "files_handshake.h"

#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "../../runtime/status_protocol.h"

namespace ckpt::restorer {

int handshake_fd()
{
    const char *on = std::getenv("CKPT_RESTORE_HANDSHAKE");
    const char *fd = std::getenv("CKPT_STATUS_FD");
    if (!on || std::strcmp(on, "1") != 0 || !fd || !*fd) return -1;
    return std::atoi(fd);
}

bool wait_for_files(int fd, uint64_t version, std::string &why)
{
    StatusMessage m{};
    m.magic = kStatusMagic;
    m.type = StatusType::Staged;
    m.pid = int32_t(getpid());
    m.version = version;
    if (::send(fd, &m, sizeof m, MSG_NOSIGNAL) != ssize_t(sizeof m)) {
        why = std::string("cannot tell the launcher the image is loaded: ") + std::strerror(errno);
        return false;
    }
    StatusMessage answer{};
    for (;;) {
        const ssize_t n = ::recv(fd, &answer, sizeof answer, 0);
        if (n < 0 && errno == EINTR) continue;
        if (n == 0) {
            why = "the launcher went away before the files were rolled back";
            return false;
        }
        if (n != ssize_t(sizeof answer) || answer.magic != kStatusMagic || answer.type != StatusType::Staged) {
            why = "unexpected answer from the launcher";
            return false;
        }
        break;
    }
    if (answer.err != 0) {
        why = "the launcher did not roll the files back (see its log); nothing was restored";
        return false;
    }
    return true;
}

}  // namespace ckpt::restorer
