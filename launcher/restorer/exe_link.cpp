#include "exe_link.h"

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

extern char **environ;

namespace ckpt::restorer {

bool can_set_exe_link()
{
    __user_cap_header_struct h{_LINUX_CAPABILITY_VERSION_3, 0};
    __user_cap_data_struct d[2] = {};
    if (syscall(SYS_capget, &h, d) != 0) return false;
    const uint64_t eff = d[0].effective | uint64_t(d[1].effective) << 32;
    return (eff >> CAP_SYS_ADMIN & 1) || (eff >> 40 /* CAP_CHECKPOINT_RESTORE */ & 1);
}

bool runs_exe(const std::string &exe)
{
    struct stat a, b;
    return ::stat("/proc/self/exe", &a) == 0 && ::stat(exe.c_str(), &b) == 0 && a.st_dev == b.st_dev &&
           a.st_ino == b.st_ino;
}

void restore_through_exe(const Image &img, const std::string &exe, int argc, char **argv, std::string &why)
{
    struct stat st;
    if (::stat(exe.c_str(), &st) != 0) {
        why = exe + ": " + std::strerror(errno);
        return;
    }
    bool mapped = false;
    for (const auto &r : img.regions)
        mapped |= r.kind == image::RegionKind::File && img.str(r.name) == exe && r.file_dev == uint64_t(st.st_dev) &&
                  r.file_ino == uint64_t(st.st_ino);
    if (!mapped) {
        why = exe + " is not the executable the image maps";
        return;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & (S_ISUID | S_ISGID)) ||
        ::getxattr(exe.c_str(), "security.capability", nullptr, 0) >= 0) {
        why = exe + " is set-user-ID, set-group-ID or has file capabilities";
        return;
    }
    char self[4096];
    const ssize_t n = ::readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) {
        why = "cannot find the restorer's own directory";
        return;
    }
    self[n] = 0;
    std::string lib(self);
    lib = lib.substr(0, lib.rfind('/')) + "/libckpt-restore-exe.so";
    if (::access(lib.c_str(), R_OK) != 0) {
        why = lib + ": " + std::strerror(errno);
        return;
    }
    // The arguments, separated by 0x1f (no argument of the restorer's contains it: paths and
    // OLD=NEW pairs are checked below).
    std::string args;
    for (int i = 1; i < argc; ++i) {
        if (std::strchr(argv[i], '\x1f')) {
            why = "an argument contains the byte 0x1f";
            return;
        }
        args += (i > 1 ? "\x1f" : "") + std::string(argv[i]);
    }
    std::vector<std::string> env;
    for (char **e = environ; *e; ++e)
        if (std::strncmp(*e, "LD_PRELOAD=", 11) != 0 && std::strncmp(*e, kViaExeEnv, std::strlen(kViaExeEnv)) != 0)
            env.emplace_back(*e);
    env.push_back("LD_PRELOAD=" + lib);
    env.push_back(std::string(kViaExeEnv) + "=" + args);
    std::vector<char *> envp;
    for (auto &e : env) envp.push_back(e.data());
    envp.push_back(nullptr);
    std::string arg0 = exe;
    char *const av[] = {arg0.data(), nullptr};
    ::execve(exe.c_str(), av, envp.data());
    why = "exec " + exe + ": " + std::strerror(errno);
}

}  // namespace ckpt::restorer
