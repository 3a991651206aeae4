#include "trusted_file.h"

#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace ckpt {
namespace {

std::string user_name(uid_t uid)
{
    std::string s = "uid " + std::to_string(uid);
    struct passwd pw, *res = nullptr;
    char buf[1024];
    if (::getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res) s += std::string(" (") + pw.pw_name + ")";
    return s;
}

std::string octal(unsigned mode)
{
    char b[16];
    std::snprintf(b, sizeof b, "%04o", mode & 07777);
    return b;
}

}  // namespace

bool trusted_own_file(int fd, const std::string &path, std::string &why, TrustKind kind)
{
    struct stat st;
    if (::fstat(fd, &st) != 0) {
        why = path + ": " + std::strerror(errno);
        return false;
    }
    const bool dir = kind == TrustKind::Directory;
    const unsigned want = dir ? 0700 : 0600;
    const uid_t me = ::geteuid();
    if ((dir ? S_ISDIR(st.st_mode) : S_ISREG(st.st_mode)) && st.st_uid == me && (st.st_mode & 07777) == want)
        return true;
    why = path + ": untrusted " + (dir ? "directory" : "file") + ": ";
    if (dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))
        why += std::string("not a ") + (dir ? "directory" : "regular file") + ", ";
    why += "owned by " + user_name(st.st_uid) + " with mode " + octal(st.st_mode) + "; ckpt uses only " +
           (dir ? "directories" : "files") + " owned by you (" + user_name(me) + ") with mode " + octal(want) +
           " (anyone else who could write it could make the restore run code or rewrite files as you)";
    return false;
}

}  // namespace ckpt
