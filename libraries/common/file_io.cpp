#include "file_io.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace ckp::io {

int pwrite_all(int fd, const void *buf, size_t len, uint64_t offset)
{
    const char *p = static_cast<const char *>(buf);
    while (len > 0) {
        ssize_t n = ::pwrite(fd, p, len, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        p += n;
        len -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return 0;
}

int pread_all(int fd, void *buf, size_t len, uint64_t offset)
{
    char *p = static_cast<char *>(buf);
    while (len > 0) {
        ssize_t n = ::pread(fd, p, len, static_cast<off_t>(offset));
        if (n < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        if (n == 0) return EIO;
        p += n;
        len -= static_cast<size_t>(n);
        offset += static_cast<uint64_t>(n);
    }
    return 0;
}

int fsync_dir_of(const std::string &path)
{
    // No allocation here: a store calls this after its rename, when the new entry is in place
    // and a std::bad_alloc would report a durable change as failed.
    char dir[4096];
    const size_t slash = path.rfind('/');
    const size_t n = slash == std::string::npos ? 0 : slash == 0 ? 1 : slash;
    if (n >= sizeof dir) return ENAMETOOLONG;
    if (n == 0) {
        dir[0] = '.';
        dir[1] = '\0';
    } else {
        std::memcpy(dir, path.data(), n);
        dir[n] = '\0';
    }
    int fd = ::open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int rc = ::fsync(fd) == 0 ? 0 : errno;
    ::close(fd);
    return rc;
}

int make_dirs(const std::string &dir)
{
    if (dir.empty()) return 0;
    for (size_t pos = 1; pos <= dir.size(); ++pos) {
        if (pos != dir.size() && dir[pos] != '/') continue;
        const std::string part = dir.substr(0, pos);
        if (::mkdir(part.c_str(), 0700) != 0 && errno != EEXIST) return errno;
    }
    return 0;
}

std::string absolute(const std::string &path)
{
    if (!path.empty() && path[0] == '/') return path;
    char cwd[4096];
    if (!::getcwd(cwd, sizeof cwd)) return path;
    return std::string(cwd) + "/" + path;
}

}  // namespace ckp::io
