#include "install_paths.h"

#include <limits.h>
#include <unistd.h>

#include <cstdlib>

namespace ckpt {
namespace {

std::string first_existing(std::initializer_list<std::string> candidates)
{
    for (const auto &c : candidates)
        if (::access(c.c_str(), R_OK) == 0) {
            char real[PATH_MAX];
            return ::realpath(c.c_str(), real) ? std::string(real) : c;
        }
    return {};
}

}  // namespace

std::string self_dir()
{
    char buf[PATH_MAX];
    ssize_t n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n <= 0) return ".";
    std::string p(buf, size_t(n));
    return p.substr(0, p.rfind('/'));
}

std::string find_runtime_library()
{
    const std::string d = self_dir();
    return first_existing({d + "/" CKPT_REL_LIB "/libckpt.so", d + "/../lib/libckpt.so"});
}

std::string find_restorer()
{
    const std::string d = self_dir();
    return first_existing({d + "/" CKPT_REL_LIBEXEC "/ckpt-restore", d + "/../libexec/ckpt-restore"});
}

}  // namespace ckpt
